import { type Duplex, Transform, type TransformCallback } from 'node:stream';
import { ReadlineParser } from '@serialport/parser-readline';
import type { ScpiInstrument } from './instrument.ts';

/**
 * Instrument-side faults, applied by the connection that serves the instrument. Counts are of program
 * messages received since the instrument started (or since its last reboot); times are instrument seconds.
 */
export interface InstrumentFaults {
  /** Stop answering (read and ignore everything) after this many messages, or from this time on. */
  stopAfterCommands?: number;
  stopAtTime?: number;
  /** Delay every reply by this many real ms. */
  replyDelayMs?: number;
  /** Close the connection when this message count is reached (the message is not executed). */
  dropAfterCommands?: number;
  /** Answer the Nth message with garbage bytes instead of its reply. */
  garbageAtCommand?: number;
  /** Reboot at the Nth message: state lost, PON set, connection dropped. */
  rebootAtCommand?: number;
  /** Queue this execution error at the Nth message. */
  errorAtCommand?: { at: number; code: number; detail?: string };
  /**
   * From the Nth message on, setting commands are silently ignored (no effect, no error, as firmware that has
   * stopped acting on its input) while queries are still answered: only the read-back shows it.
   */
  ignoreSettingsFromCommand?: number;
}

/** The query units of a program message (`OUTP OFF,(@1:4);:SYST:ERR?` -> `:SYST:ERR?`), or '' if none. */
function queryUnits(line: string): string {
  return line
    .split(';')
    .filter((u) => u.includes('?'))
    .join(';');
}

export interface ServeOptions {
  /** Longest program message accepted; longer input is discarded up to its LF and queues -363. */
  maxLineBytes?: number;
  /** Printed once when a connection opens (a boot banner). */
  banner?: string;
  faults?: InstrumentFaults;
  onCommand?: (line: string) => void;
}

const LF_BYTE = Buffer.from('\n');

/**
 * Guards the readline parser: input running past `max` bytes without an LF is dropped up to the next LF and
 * reported once, so a client sending a megabyte with no terminator cannot grow memory.
 */
class LineLengthGuard extends Transform {
  private sinceLf = 0;
  private dropping = false;
  /** Lines the readline parser will emit that hold the start of an overlong message: to be ignored. */
  discardLines = 0;
  constructor(
    private readonly max: number,
    private readonly onOverrun: () => void,
  ) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, cb: TransformCallback): void {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      const end = lf === -1 ? chunk.length : lf + 1;
      const segLen = (lf === -1 ? chunk.length : lf) - start;
      if (this.dropping) {
        if (lf !== -1) {
          this.dropping = false;
          this.sinceLf = 0;
        }
      } else if (this.sinceLf + segLen > this.max) {
        if (this.sinceLf > 0) {
          // flush the part already forwarded as a line of its own, which the reader ignores
          this.push(LF_BYTE);
          this.discardLines++;
        }
        this.dropping = lf === -1;
        this.sinceLf = 0;
        this.onOverrun();
      } else {
        this.push(chunk.subarray(start, end));
        this.sinceLf = lf === -1 ? this.sinceLf + segLen : 0;
      }
      if (lf === -1) break;
      start = lf + 1;
      if (start >= chunk.length) break;
    }
    cb();
  }
}

/** Where the reply to one program message goes. */
export interface MessageSink {
  /** A reply (terminated), or the garbage a fault sends instead. */
  reply(bytes: Buffer): void;
  /** The drop and reboot faults end the connection (for VXI-11 and HiSLIP: the client's link). */
  drop(): void;
  /** True once the connection is gone: nothing is executed or sent any more. */
  readonly closed: boolean;
}

/**
 * Runs program messages on an instrument one at a time, in order, applying the instrument's faults (stop,
 * drop, reboot, reply delay, garbage, queued error, ignored settings). Every server (raw TCP, pty, VXI-11,
 * HiSLIP) hands its messages to one of these per client.
 */
export function createMessageRunner(
  instrument: ScpiInstrument,
  options: ServeOptions = {},
): (line: string, sink: MessageSink) => void {
  const faults = options.faults ?? {};
  let chain: Promise<void> = Promise.resolve();

  async function handle(line: string, sink: MessageSink): Promise<void> {
    if (sink.closed) return;
    if (line.trim() === '') return;
    const n = instrument.commandCount + 1;
    const stopped =
      (faults.stopAfterCommands !== undefined && n > faults.stopAfterCommands) ||
      (faults.stopAtTime !== undefined && instrument.clock.now() >= faults.stopAtTime);
    if (stopped) {
      instrument.commandCount++;
      return;
    }
    if (faults.dropAfterCommands !== undefined && n >= faults.dropAfterCommands) {
      instrument.commandCount++;
      sink.drop();
      return;
    }
    if (faults.rebootAtCommand !== undefined && n === faults.rebootAtCommand) {
      instrument.powerCycle();
      sink.drop();
      return;
    }
    options.onCommand?.(line);
    const ignoring = faults.ignoreSettingsFromCommand !== undefined && n >= faults.ignoreSettingsFromCommand;
    const effective = ignoring ? queryUnits(line) : line;
    if (effective === '') {
      instrument.commandCount++;
      return;
    }
    const reply = await instrument.execute(effective);
    if (faults.errorAtCommand && n === faults.errorAtCommand.at) {
      instrument.pushError(faults.errorAtCommand.code, faults.errorAtCommand.detail);
    }
    if (!reply) return;
    if (faults.replyDelayMs) await new Promise((r) => setTimeout(r, faults.replyDelayMs));
    if (sink.closed) return;
    if (faults.garbageAtCommand !== undefined && n === faults.garbageAtCommand) {
      sink.reply(Buffer.from([0xff, 0xfe, 0x00, 0x9c, 0x80, 0x0a]));
      return;
    }
    sink.reply(reply);
  }

  return (line, sink) => {
    chain = chain.then(() => handle(line, sink));
  };
}

/** Serves one client stream (a TCP socket, a serial port, an in-process pair end) with an instrument. */
export function serveStream(instrument: ScpiInstrument, stream: Duplex, options: ServeOptions = {}): void {
  const guard = new LineLengthGuard(options.maxLineBytes ?? 64 * 1024, () =>
    instrument.pushError(-363, 'program message too long'),
  );
  const lines = new ReadlineParser({ delimiter: '\n', encoding: 'latin1' });
  stream.on('error', () => stream.destroy());
  stream.on('close', () => {
    guard.destroy();
    lines.destroy();
  });
  stream.pipe(guard).pipe(lines);
  if (options.banner) stream.write(options.banner);

  const run = createMessageRunner(instrument, options);
  const sink: MessageSink = {
    reply: (bytes) => {
      stream.write(bytes);
    },
    drop: () => stream.destroy(),
    get closed() {
      return stream.destroyed;
    },
  };
  lines.on('data', (raw: string) => {
    if (guard.discardLines > 0) {
      guard.discardLines--;
      return;
    }
    run(raw.replace(/\r$/, ''), sink);
  });
}
