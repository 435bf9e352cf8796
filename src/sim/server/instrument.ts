import { encodeBlock } from '../../scpi/block.ts';
import type { NumericKeywords, ScpiCommand } from '../../scpi/command-table.ts';
import { formatErrorEntry } from '../../scpi/parse.ts';
import { SimClock } from '../clock.ts';
import { errorText, ScpiCommandError } from './errors.ts';
import { type ProgramUnit, parseProgramMessage } from './params.ts';
import { type CommandContext, type CommandSpec, CommandTree, type QueryResult } from './tree.ts';

export interface IdentityStrings {
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
}

export interface InstrumentOptions {
  role: string;
  identity: IdentityStrings;
  clock?: SimClock;
  /** Error queue length; when full, the newest entry becomes -350 Queue overflow. */
  errorQueueSize?: number;
  maxParams?: number;
}

/** ESR bits (IEEE 488.2). */
export const ESR = { OPC: 1, QYE: 4, DDE: 8, EXE: 16, CME: 32, PON: 128 } as const;
/** STB bits. */
export const STB = { EAV: 4, MAV: 16, ESB: 32, RQS: 64 } as const;

/** A block reply: sent as `#<n><len><bytes>`. */
export class BlockReply {
  readonly payload: Buffer;
  constructor(payload: Buffer) {
    this.payload = payload;
  }
}

/**
 * The SCPI server core's instrument: a command tree, the IEEE 488.2 common commands, the status byte and
 * standard event status register, and an error queue with the standard codes. Subclasses add their
 * commands with `command()` (or serve a command table with `implement()`) and put their state back to defaults in
 * `onReset()` (*RST) and, where power-on differs, `onPowerOn()`.
 */
export class ScpiInstrument {
  readonly role: string;
  identity: IdentityStrings;
  readonly clock: SimClock;
  readonly tree = new CommandTree();
  private readonly errors: { code: number; message: string }[] = [];
  private readonly errorQueueSize: number;
  private readonly maxParams: number;
  private esr: number = ESR.PON;
  private ese = 0;
  private sre = 0;
  private lock: Promise<unknown> = Promise.resolve();
  /** Commands executed since power-on (faults count these). */
  commandCount = 0;

  constructor(options: InstrumentOptions) {
    this.role = options.role;
    this.identity = options.identity;
    this.clock = options.clock ?? new SimClock(1);
    this.errorQueueSize = options.errorQueueSize ?? 20;
    this.maxParams = options.maxParams ?? 1024;
    this.registerCommon();
  }

  command(pattern: string, spec: CommandSpec): this {
    this.tree.add(pattern, spec);
    return this;
  }

  /**
   * Serves one property of a model's command table (src/scpi/command-table.ts): its header, its parameter parsed
   * and its reply formatted by the table's value type, so the simulator speaks exactly what the driver sends. A
   * channel-list command gets the listed channels (all 1..maxChannel when the query names none) and, for a
   * setting, one value per channel (a single value is given to every channel). `keywords` are what MIN, MAX and
   * DEF mean for this instrument's numeric parameter; range checks belong in `set`, with the code the instrument
   * gives (-222).
   */
  implement<T>(
    cmd: ScpiCommand<T>,
    h: {
      set?: (values: T[], channels: number[] | undefined, ctx: CommandContext) => void | Promise<void>;
      get?: (channels: number[] | undefined, ctx: CommandContext) => T | T[] | Promise<T | T[]>;
    },
    o: { maxChannel?: number; keywords?: NumericKeywords } = {},
  ): this {
    const max = o.maxChannel ?? 1;
    const list = cmd.channels === 'list';
    const spec: CommandSpec = {};
    if (cmd.settable && h.set) {
      const set = h.set;
      spec.set = (c) => {
        const last = c.params[c.params.length - 1];
        const channels = list && last?.isChannelList ? last.channels(max) : list ? allChannels(max) : undefined;
        const params = list && last?.isChannelList ? c.params.slice(0, -1) : c.params;
        if (!cmd.value) {
          if (params.length) throw new ScpiCommandError(-108, `${cmd.send} takes no parameter`);
          return set([], channels, c);
        }
        if (params.length === 0) throw new ScpiCommandError(-109, `${cmd.send} expects ${cmd.value.describe}`);
        const n = channels?.length ?? 1;
        if (params.length !== 1 && !(cmd.perChannel && params.length === n)) {
          if (cmd.perChannel) {
            throw new ScpiCommandError(-115, `expected 1 value or ${n} (one per listed channel), got ${params.length}`);
          }
          throw new ScpiCommandError(-108, list ? 'expected one value before the channel list' : 'expected one value');
        }
        const parsed = params.map((p) => cmd.value!.parse(p, o.keywords));
        return set(parsed.length === 1 ? Array.from({ length: n }, () => parsed[0]!) : parsed, channels, c);
      };
      if (!list) spec.setParams = cmd.value ? [1, 1] : [0, 0];
    }
    if (cmd.queryable && h.get) {
      const get = h.get;
      const value = cmd.value!;
      spec.query = async (c) => {
        const channels = list ? (c.params[0] ? c.params[0].channels(max) : allChannels(max)) : undefined;
        const v = await get(channels, c);
        if (!list) return value.reply(v as T);
        return (v as T[]).flatMap((x) => {
          const r = value.reply(x);
          if (Buffer.isBuffer(r)) throw new ScpiCommandError(-300, `${cmd.send}: a block per channel`);
          return r;
        });
      };
      spec.queryParams = list ? [0, 1] : [0, 0];
    }
    return this.command(cmd.header, spec);
  }

  /** Queues an error, setting its ESR bit; a full queue ends with -350. */
  pushError(code: number, detail?: string): void {
    if (code <= -100 && code > -200) this.esr |= ESR.CME;
    else if (code <= -200 && code > -300) this.esr |= ESR.EXE;
    else if (code <= -400 && code > -500) this.esr |= ESR.QYE;
    else this.esr |= ESR.DDE;
    if (this.errors.length >= this.errorQueueSize) {
      this.errors[this.errors.length - 1] = { code: -350, message: errorText(-350) };
      return;
    }
    this.errors.push({ code, message: errorText(code, detail) });
  }

  get errorCount(): number {
    return this.errors.length;
  }

  statusByte(): number {
    let stb = 0;
    if (this.errors.length > 0) stb |= STB.EAV;
    if (this.esr & this.ese) stb |= STB.ESB;
    if (stb & this.sre) stb |= STB.RQS;
    return stb;
  }

  /** Power cycle: state back to power-on defaults, error queue cleared, PON set (the reboot fault). */
  powerCycle(): void {
    this.errors.length = 0;
    this.ese = 0;
    this.sre = 0;
    this.esr = ESR.PON;
    this.commandCount = 0;
    this.onPowerOn();
  }

  /** Resets device state for *RST. Subclasses override. */
  protected onReset(): void {}

  /** Device state at power-on; the same as *RST unless a subclass says otherwise. */
  protected onPowerOn(): void {
    this.onReset();
  }

  /** Self-test result for *TST?; 0 is pass. Subclasses override. */
  protected selfTest(): number {
    return 0;
  }

  /**
   * Executes one program message (a line without its terminator). Resolves with the response bytes to send
   * (terminated), or null when the message held no query. Messages are executed one at a time.
   */
  execute(line: string): Promise<Buffer | null> {
    const run = this.lock.then(() => this.executeNow(line));
    this.lock = run.catch(() => undefined);
    return run;
  }

  private async executeNow(line: string): Promise<Buffer | null> {
    this.commandCount++;
    const units = parseProgramMessage(line, { maxParams: this.maxParams, maxMnemonic: 12 });
    const replies: (string | Buffer)[] = [];
    for (const unit of units) {
      if (unit instanceof ScpiCommandError) {
        this.pushError(unit.code, unit.detail);
        continue;
      }
      try {
        const out = await this.run(unit);
        if (out !== undefined) replies.push(out);
      } catch (err) {
        if (err instanceof ScpiCommandError) this.pushError(err.code, err.detail);
        else this.pushError(-300, err instanceof Error ? err.message.slice(0, 60) : 'internal error');
      }
    }
    if (replies.length === 0) return null;
    const parts: Buffer[] = [];
    replies.forEach((r, i) => {
      if (i > 0) parts.push(SEMI);
      parts.push(typeof r === 'string' ? Buffer.from(r, 'utf8') : r);
    });
    parts.push(LF);
    return Buffer.concat(parts);
  }

  private async run(unit: ProgramUnit): Promise<string | Buffer | undefined> {
    let resolved = this.tree.resolve(unit.segments);
    if (!resolved && unit.ownSegments !== unit.segments) resolved = this.tree.resolve(unit.ownSegments);
    if (!resolved) throw new ScpiCommandError(-113);
    const { spec, suffixes } = resolved;
    const ctx: CommandContext = { params: unit.params, suffixes, header: unit.header };
    if (unit.query) {
      if (!spec.query) throw new ScpiCommandError(-113, `${unit.header} has no query form`);
      const [min, max] = spec.queryParams ?? [0, 1];
      checkCount(unit.params.length, min, max);
      return formatReply(await spec.query(ctx));
    }
    if (!spec.set) throw new ScpiCommandError(-113, `${unit.header} is query only`);
    if (spec.setParams) checkCount(unit.params.length, spec.setParams[0], spec.setParams[1]);
    await spec.set(ctx);
    return undefined;
  }

  private registerCommon(): void {
    this.command('*IDN', {
      query: () => {
        const i = this.identity;
        return `${i.manufacturer},${i.model},${i.serial},${i.firmware}`;
      },
      queryParams: [0, 0],
    });
    this.command('*RST', {
      set: () => {
        this.onReset();
      },
      setParams: [0, 0],
    });
    this.command('*CLS', {
      set: () => {
        this.errors.length = 0;
        this.esr = 0;
      },
      setParams: [0, 0],
    });
    this.command('*ESE', {
      set: (c) => {
        this.ese = byteParam(c);
      },
      query: () => this.ese,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('*ESR', {
      query: () => {
        const v = this.esr;
        this.esr = 0;
        return v;
      },
      queryParams: [0, 0],
    });
    this.command('*SRE', {
      set: (c) => {
        this.sre = byteParam(c);
      },
      query: () => this.sre,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('*STB', { query: () => this.statusByte(), queryParams: [0, 0] });
    this.command('*OPC', {
      set: () => {
        this.esr |= ESR.OPC;
      },
      query: () => 1,
      setParams: [0, 0],
      queryParams: [0, 0],
    });
    this.command('*WAI', { set: () => undefined, setParams: [0, 0] });
    this.command('*TST', { query: () => this.selfTest(), queryParams: [0, 0] });
    this.command('SYSTem:ERRor[:NEXT]', {
      query: () => {
        const e = this.errors.shift();
        return e ? formatErrorEntry(e) : '0,"No error"';
      },
      queryParams: [0, 0],
    });
    this.command('SYSTem:ERRor:COUNt', { query: () => this.errors.length, queryParams: [0, 0] });
    this.command('SYSTem:VERSion', { query: () => '1999.0', queryParams: [0, 0] });
  }
}

const SEMI = Buffer.from(';');
const LF = Buffer.from('\n');

function checkCount(n: number, min: number, max: number): void {
  if (n < min) throw new ScpiCommandError(-109);
  if (n > max) throw new ScpiCommandError(-108);
}

function byteParam(c: CommandContext): number {
  const v = c.params[0]!.int();
  if (v < 0 || v > 255) throw new ScpiCommandError(-222, 'expected 0..255');
  return v;
}

/** Formats a query result: numbers in NR3/NR1, booleans as 1/0, arrays comma-joined, blocks encoded. */
export function formatReply(r: QueryResult | BlockReply): string | Buffer {
  if (r instanceof BlockReply) return encodeBlock(r.payload);
  if (Buffer.isBuffer(r)) return encodeBlock(r);
  if (Array.isArray(r)) return r.map((v) => formatScalar(v)).join(',');
  return formatScalar(r as string | number | boolean);
}

function formatScalar(v: string | number | boolean): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (typeof v === 'number') {
    if (Number.isNaN(v)) return '9.91E+37';
    if (v === Number.POSITIVE_INFINITY) return '9.9E+37';
    if (v === Number.NEGATIVE_INFINITY) return '-9.9E+37';
    if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
    return v.toExponential(6).toUpperCase();
  }
  return v;
}

function allChannels(max: number): number[] {
  return Array.from({ length: max }, (_, i) => i + 1);
}
