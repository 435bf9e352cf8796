import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import {
  AbortedError,
  CpobenchError,
  FramingError,
  InstrumentError,
  type InstrumentErrorEntry,
  isAbortError,
  TimeoutError,
} from '../core/errors.ts';
import type { DataMessage } from '../transport/framer.ts';
import type { ReadHandler, Transport } from '../transport/transport.ts';
import type { Identity } from './idn.ts';
import { parseIdn } from './idn.ts';
import { hexPreview, parseBool, parseErrorEntry, parseNumber, parseNumberList, preview } from './parse.ts';
import { TranscriptRing } from './transcript.ts';

export interface SessionOptions {
  /** Name used in errors and logs: the role or the resource. */
  name?: string;
  /** Default timeout per transaction, ms. */
  timeoutMs?: number;
  /** Appended to every command. */
  terminator?: string;
  /** Drain SYST:ERR? after every command and raise InstrumentError if it held anything. */
  checkErrors?: boolean;
  /**
   * After a query timed out or was cancelled, how long its late reply may still arrive (ms) and be
   * discarded before the next transaction starts. Defaults to the timeout, capped at 1 s.
   */
  lateReplyGraceMs?: number;
  logger?: Logger;
  transcriptSize?: number;
}

export interface TxOptions {
  timeoutMs?: number;
  signal?: AbortSignal;
  /** Overrides the session's checkErrors for this transaction. */
  checkErrors?: boolean;
}

type Job = {
  run: () => Promise<unknown>;
  resolve: (v: unknown) => void;
  reject: (e: unknown) => void;
  signal?: AbortSignal;
  onAbort?: () => void;
};

const MAX_ERROR_DRAIN = 64;
/** pino's debug level: SCPI exchanges are logged at it. */
const DEBUG_LEVEL = 20;

/** The transaction in flight; it is also the label of its read (instrument and command name its errors). */
type Transaction = {
  instrument: string;
  command: string;
  timeoutMs: number;
  /** Resolve with the reply's text (a block is an error), not a Reply. */
  text: boolean;
  /** The transaction is a whole job started without the queue: its end frees the session. */
  releases: boolean;
  resolve: (r: Reply | string) => void;
  reject: (e: unknown) => void;
};

/** A reply: decoded text, or a block's payload. */
type Reply = { kind: 'line'; text: string } | { kind: 'block'; data: Buffer };

/**
 * One SCPI session per instrument: write/query/queryBlock with timeouts and cancellation, exactly one
 * transaction in flight, late replies discarded, optional error-queue draining, a transcript of every
 * exchange.
 */
export class ScpiSession {
  readonly transport: Transport;
  readonly name: string;
  readonly transcript: TranscriptRing;
  timeoutMs: number;
  checkErrors: boolean;
  private readonly terminator: string;
  private readonly graceMs: number;
  private readonly log: Logger;
  private readonly jobs: Job[] = [];
  private busy = false;
  /** Replies still owed by queries that timed out or were cancelled, and until when to wait for them. */
  private owed = 0;
  /** The transaction in flight (one at a time) and when its reply's budget started. */
  private tx: Transaction | undefined = undefined;
  private txStart = 0;
  private owedUntil = 0;
  private closed = false;

  constructor(transport: Transport, options: SessionOptions = {}) {
    this.transport = transport;
    this.name = options.name ?? transport.resource;
    this.timeoutMs = options.timeoutMs ?? 2000;
    this.checkErrors = options.checkErrors ?? false;
    this.terminator = options.terminator ?? '\n';
    this.graceMs = options.lateReplyGraceMs ?? Math.min(this.timeoutMs, 1000);
    // Stryker disable next-line ObjectLiteral: pino's default level (info) is as silent here: the session logs at debug only
    const logger = options.logger ?? pino({ level: 'silent' });
    this.log = logger.child({ instrument: this.name });
    this.transcript = new TranscriptRing(options.transcriptSize ?? 2000);
  }

  /** Opens the transport (within its connect timeout). */
  async open(signal?: AbortSignal): Promise<void> {
    await this.transport.open(signal);
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.transport.close();
  }

  write(command: string, opts: TxOptions = {}): Promise<void> {
    if (isQueryMessage(command)) {
      // its reply would be left on the line for the next query to misread
      return Promise.reject(
        new CpobenchError('E_USAGE', `${this.name}: "${command}" holds a query; use query() or request()`),
      );
    }
    return this.enqueue(opts.signal, async () => {
      if (opts.checkErrors ?? this.checkErrors) {
        // One round trip: the command and the first SYST:ERR? go as one compound message.
        const reply = await this.exchange(`${command};:SYST:ERR?`, opts);
        const first = parseErrorEntry(this.lineText(`${command};:SYST:ERR?`, reply));
        if (first.code === 0) return;
        const rest = await this.drainInline(opts.signal, opts.timeoutMs);
        throw new InstrumentError(this.name, command, [first, ...rest]);
      }
      const pending = this.prepare(opts.signal, opts.timeoutMs ?? this.timeoutMs);
      if (pending) await pending;
      await this.send(command);
    }) as Promise<void>;
  }

  query(command: string, opts: TxOptions = {}): Promise<string> {
    // Stryker disable next-line ConditionalExpression,BlockStatement: false (or an empty body) sends the query through the queue, with the same outcome
    if (!(opts.checkErrors ?? this.checkErrors) && this.idleFor()) {
      // The common case: an idle session, one transaction. It runs now, and ends the session's busy state
      // itself when its reply comes, before its caller resumes: no queue bookkeeping, no extra promise.
      this.busy = true;
      return this.exchange(command, opts, true, true);
    }
    return this.enqueue(opts.signal, () => {
      const text = this.exchange(command, opts, true) as Promise<string>;
      if (!(opts.checkErrors ?? this.checkErrors)) return text;
      return text.then((t) => this.drainAndRaise(command, opts.signal).then(() => t));
    }) as Promise<string>;
  }

  /**
   * Sends a command and, when it holds a query, returns the reply whatever its kind: for consoles that do not
   * know in advance whether a block comes back.
   */
  request(
    command: string,
    opts: TxOptions = {},
  ): Promise<{ kind: 'none' } | { kind: 'line'; text: string } | { kind: 'block'; data: Buffer }> {
    if (!isQueryMessage(command)) return this.write(command, opts).then(() => ({ kind: 'none' as const }));
    return this.enqueue(opts.signal, async () => {
      const m = await this.exchange(command, opts);
      if (m.kind === 'block') return { kind: 'block' as const, data: m.data };
      return { kind: 'line' as const, text: m.text };
    }) as Promise<{ kind: 'line'; text: string } | { kind: 'block'; data: Buffer }>;
  }

  /** Sends a query whose reply is an IEEE 488.2 block; resolves with the payload. */
  queryBlock(command: string, opts: TxOptions = {}): Promise<Buffer> {
    return this.enqueue(opts.signal, async () => {
      const m = await this.exchange(command, opts);
      if (m.kind !== 'block') {
        throw new FramingError(
          `${this.name}: "${command}" answered text "${preview(m.text)}" where a block was expected`,
        );
      }
      if (opts.checkErrors ?? this.checkErrors) await this.drainAndRaise(command, opts.signal);
      return m.data;
    }) as Promise<Buffer>;
  }

  async queryNumber(command: string, opts?: TxOptions): Promise<number> {
    return parseNumber(await this.query(command, opts), `${this.name}: reply to "${command}"`);
  }

  async queryNumbers(command: string, opts?: TxOptions): Promise<number[]> {
    return parseNumberList(await this.query(command, opts), `${this.name}: reply to "${command}"`);
  }

  async queryBool(command: string, opts?: TxOptions): Promise<boolean> {
    return parseBool(await this.query(command, opts), `${this.name}: reply to "${command}"`);
  }

  // IEEE 488.2 common commands

  async idn(opts?: TxOptions): Promise<Identity> {
    return parseIdn(await this.query('*IDN?', opts));
  }
  rst(opts?: TxOptions): Promise<void> {
    return this.write('*RST', opts);
  }
  cls(opts?: TxOptions): Promise<void> {
    return this.write('*CLS', opts);
  }
  async opc(opts?: TxOptions): Promise<boolean> {
    return (await this.queryNumber('*OPC?', opts)) === 1;
  }
  esr(opts?: TxOptions): Promise<number> {
    return this.queryNumber('*ESR?', opts);
  }
  stb(opts?: TxOptions): Promise<number> {
    return this.queryNumber('*STB?', opts);
  }
  tst(opts?: TxOptions): Promise<number> {
    return this.queryNumber('*TST?', opts);
  }

  /** Reads SYST:ERR? until `0,"No error"`; returns what the queue held. */
  drainErrors(opts: TxOptions = {}): Promise<InstrumentErrorEntry[]> {
    return this.enqueue(opts.signal, () => this.drainInline(opts.signal, opts.timeoutMs)) as Promise<
      InstrumentErrorEntry[]
    >;
  }

  // internals

  /**
   * Sends a command and reads its reply; a text reply is decoded (UTF-8, strict) once, here. Not async: the
   * common case (link open, nothing owed) runs without extra promise layers. With `releases`, the transaction
   * is a whole job that the session started without its queue (query's idle path): its end frees the session.
   */
  private exchange(command: string, opts: TxOptions): Promise<Reply>;
  /** With `text`: resolves with the reply's text; a block is a FramingError. */
  private exchange(command: string, opts: TxOptions, text: true, releases?: boolean): Promise<string>;
  private exchange(command: string, opts: TxOptions, text = false, releases = false): Promise<Reply | string> {
    let pending: Promise<void> | undefined;
    try {
      pending = this.prepare(opts.signal, opts.timeoutMs ?? this.timeoutMs);
    } catch (err) {
      if (releases) this.release();
      return Promise.reject(err);
    }
    if (!pending) return this.transact(command, opts, text, releases);
    return pending.then(
      () => this.transact(command, opts, text, releases),
      (err) => {
        if (releases) this.release();
        throw err;
      },
    );
  }

  /**
   * One command and its reply, on a link prepare() made ready. The transaction's state lives in fields (one
   * transaction at a time), and the transport hands the reply to this.reader: no closure or promise per read
   * beyond the one returned.
   */
  private transact(command: string, opts: TxOptions, text: boolean, releases: boolean): Promise<Reply | string> {
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    return new Promise<Reply | string>((resolve, reject) => {
      const tx: Transaction = { instrument: this.name, command, timeoutMs, text, releases, resolve, reject };
      this.tx = tx;
      // The reply's budget starts once the link is ready: a resync after an earlier timeout does not eat it.
      this.txStart = performance.now();
      this.transport.readWith(this.reader, timeoutMs, opts.signal, tx);
      this.trace('tx', command);
      // A full send buffer (false) needs no wait here: the reply can only come after the whole command went.
      try {
        this.transport.writeNow(command + this.terminator);
      } catch {
        // Only on a link that is not open, and then readWith above has refused the read already (or handed it a
        // queued link error): that ends the transaction, no read is left waiting.
      }
    });
  }

  /** Where the transport delivers the reply (or the failure) of the transaction in flight. */
  private readonly reader: ReadHandler = {
    onReadMessage: (m) => {
      const tx = this.endTx();
      let reply: Reply | string;
      try {
        reply = this.received(tx.command, m, this.txStart, tx.text);
      } catch (err) {
        tx.reject(err);
        return;
      }
      tx.resolve(reply);
    },
    onReadError: (err) => {
      const tx = this.endTx();
      tx.reject(this.failed(tx.command, err, tx.timeoutMs, this.txStart));
    },
  };

  /** Takes the transaction in flight; frees the session first when the transaction was a whole job. */
  private endTx(): Transaction {
    const tx = this.tx!;
    this.tx = undefined;
    if (tx.releases) this.release();
    return tx;
  }

  private received(command: string, m: DataMessage, t0: number, textOnly: boolean): Reply | string {
    const ms = performance.now() - t0;
    if (m.kind === 'block') {
      this.trace('rx', `#block ${m.data.length} bytes: ${hexPreview(m.data, 16)}`, ms);
      if (textOnly) return this.lineText(command, m);
      return m;
    }
    const text = this.decode(command, m.data);
    this.trace('rx', text, ms);
    return textOnly ? text : { kind: 'line', text };
  }

  /**
   * A failed read: a timeout or an abort leaves a reply owed (unless the link clears the instrument then, as
   * VXI-11, HiSLIP and USBTMC do); the error, renamed for the session.
   */
  private failed(command: string, err: Error, timeoutMs: number, t0: number): Error {
    if (err instanceof TimeoutError) {
      if (!this.transport.clearsAfterFailedRead) this.owe();
      this.trace('err', `timeout after ${timeoutMs} ms`, performance.now() - t0);
      return new TimeoutError(this.name, command, timeoutMs);
    }
    if (isAbortError(err) && !this.transport.clearsAfterFailedRead) this.owe();
    this.trace('err', err.message, performance.now() - t0);
    return err;
  }

  private lineText(command: string, r: Reply): string {
    if (r.kind === 'line') return r.text;
    throw new FramingError(`${this.name}: "${command}" answered a ${r.data.length}-byte block where text was expected`);
  }

  /** Makes the link ready for a new transaction: open, late replies of earlier queries gone, input clean. */
  private prepare(signal: AbortSignal | undefined, timeoutMs: number): Promise<void> | undefined {
    if (signal?.aborted) throw new AbortedError(`${this.name}: aborted`, { cause: signal.reason });
    // Stryker disable next-line ConditionalExpression,StringLiteral,BlockStatement: false (or an empty body) takes prepareSlow, which does the same here, one promise later
    if (this.transport.state === 'open' && this.owed === 0) {
      // the common case, kept synchronous: just drop anything unsolicited
      const dropped = this.transport.discardInput('unsolicited input before a command');
      if (dropped > 0) this.trace('err', `discarded ${dropped} bytes of unsolicited input`);
      return undefined;
    }
    return this.prepareSlow(signal, performance.now() + timeoutMs);
  }

  private async prepareSlow(signal: AbortSignal | undefined, deadline: number): Promise<void> {
    if (this.transport.state !== 'open') {
      const remaining = Math.max(1, deadline - performance.now());
      await withTimeout(
        this.transport.ensureOpen(signal),
        remaining,
        () => new TimeoutError(this.name, undefined, Math.round(remaining), 'no connection'),
      );
      this.owed = 0;
    }
    // A query that timed out may still be answered: wait (bounded) for each owed reply and drop it.
    while (
      this.owed > 0 &&
      // Stryker disable next-line EqualityOperator: `<=` differs only when the clock reads exactly owedUntil
      performance.now() < this.owedUntil
    ) {
      try {
        const m = await this.transport.read(Math.max(1, this.owedUntil - performance.now()), signal);
        this.trace(
          'err',
          `discarded late reply: ${m.kind === 'block' ? `${m.data.length}-byte block` : preview(m.data)}`,
        );
        this.owed--;
      } catch (err) {
        if (isAbortError(err)) throw err;
        break;
      }
    }
    this.owed = 0;
    const dropped = this.transport.discardInput('unsolicited input before a command');
    if (dropped > 0) this.trace('err', `discarded ${dropped} bytes of unsolicited input`);
  }

  private owe(): void {
    this.owed++;
    this.owedUntil = performance.now() + this.graceMs;
  }

  private async send(command: string): Promise<void> {
    this.trace('tx', command);
    if (!this.transport.writeNow(command + this.terminator)) await this.transport.drain();
  }

  private decode(command: string, data: Buffer): string {
    try {
      return utf8.decode(data);
    } catch {
      throw new FramingError(`${this.name}: reply to "${command}" is not valid text (bytes: ${hexPreview(data)})`);
    }
  }

  private async drainInline(signal?: AbortSignal, timeoutMs?: number): Promise<InstrumentErrorEntry[]> {
    const errors: InstrumentErrorEntry[] = [];
    for (let i = 0; i < MAX_ERROR_DRAIN; i++) {
      const m = await this.exchange('SYST:ERR?', { signal, timeoutMs });
      const entry = parseErrorEntry(this.lineText('SYST:ERR?', m));
      if (entry.code === 0) return errors;
      errors.push(entry);
    }
    return errors;
  }

  private async drainAndRaise(command: string, signal?: AbortSignal): Promise<void> {
    const errors = await this.drainInline(signal);
    if (errors.length > 0) throw new InstrumentError(this.name, command, errors);
  }

  private trace(dir: 'tx' | 'rx' | 'err', text: string, ms?: number): void {
    this.transcript.add({
      t: Date.now(),
      instrument: this.name,
      dir,
      text: text.length > 200 ? `${text.slice(0, 200)}…` : text,
      ms,
    });
    // Stryker disable next-line ConditionalExpression: true only builds the record pino then drops below its level (false is caught by the log test)
    if (this.log.levelVal <= DEBUG_LEVEL) {
      this.log.debug({ dir, ms: ms === undefined ? undefined : Math.round(ms * 1000) / 1000 }, text);
    }
  }

  /**
   * True when a transaction may start now, without the queue: idle (the queue is empty whenever the session is
   * not busy: pump() empties it before it lets go) and open for use. A signal already aborted is refused by
   * prepare() on this path too, with the same AbortedError as enqueue().
   */
  // Stryker disable next-line BlockStatement: undefined (falsy) sends the query through the queue, with the same outcome
  private idleFor(): boolean {
    // Stryker disable next-line ConditionalExpression: false sends the query through the queue, with the same outcome
    return !this.busy && !this.closed;
  }

  private enqueue(signal: AbortSignal | undefined, run: () => Promise<unknown>): Promise<unknown> {
    if (this.closed) return Promise.reject(new AbortedError(`${this.name}: session closed`));
    if (signal?.aborted) return Promise.reject(new AbortedError(`${this.name}: aborted`, { cause: signal.reason }));
    // Stryker disable next-line ConditionalExpression,BlockStatement: false (or an empty body) sends the job through the queue, which runs it at once too (pump() calls run() before its first await); true is caught by the one-at-a-time tests, the comment takes both
    if (!this.busy) {
      // idle (so the queue is empty): run now, without the queue's bookkeeping; later callers queue behind it
      this.busy = true;
      let done: Promise<unknown>;
      try {
        done = run();
      } catch (err) {
        // never with the jobs here (each run() returns a promise); kept so a throwing job cannot leave it busy
        done = Promise.reject(err);
      }
      done.then(this.release, this.release);
      return done;
    }
    return new Promise((resolve, reject) => {
      const job: Job = { run, resolve, reject, signal };
      if (signal) {
        // Cancelled while waiting its turn: leave the queue without touching the instrument.
        job.onAbort = () => {
          const i = this.jobs.indexOf(job);
          // Stryker disable next-line ConditionalExpression: true: the job is always found, pump() removes this listener when it takes the job (false is caught)
          if (i >= 0) {
            this.jobs.splice(i, 1);
            reject(new AbortedError(`${this.name}: aborted before it was sent`, { cause: signal.reason }));
          }
        };
        signal.addEventListener('abort', job.onAbort, { once: true });
      }
      this.jobs.push(job);
      void this.pump();
    });
  }

  private readonly release = (): void => {
    this.busy = false;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: true and >= only call pump() on an empty queue, which does nothing (false is caught)
    if (this.jobs.length > 0) void this.pump();
  };

  private async pump(): Promise<void> {
    if (this.busy) return;
    this.busy = true;
    try {
      for (let job = this.jobs.shift(); job; job = this.jobs.shift()) {
        if (job.signal) job.signal.removeEventListener('abort', job.onAbort!);
        if (job.signal?.aborted) {
          // cancelled while the transaction before it was ending: it was never sent
          job.reject(new AbortedError(`${this.name}: aborted before it was sent`, { cause: job.signal.reason }));
          continue;
        }
        try {
          job.resolve(await job.run());
        } catch (err) {
          job.reject(err);
        }
      }
    } finally {
      this.busy = false;
    }
  }
}

/** True when a program message holds a query (a header ending in `?`) outside strings. */
export function isQueryMessage(message: string): boolean {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a shortcut; without a `?` the test below finds no query either
  if (!message.includes('?')) return false;
  return message
    .replace(/"[^"]*"|'[^']*'/g, '')
    .split(';')
    .some((unit) => /^\s*[^\s]*\?/.test(unit));
}

// Stryker disable next-line StringLiteral: a module-level constant, built before any mutant is switched on ('' would throw at load)
const utf8 = new TextDecoder('utf-8', { fatal: true });

function withTimeout<T>(p: Promise<T>, ms: number, onTimeout: () => Error): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const t = setTimeout(() => reject(onTimeout()), ms);
    p.then(
      (v) => {
        clearTimeout(t);
        resolve(v);
      },
      (e) => {
        clearTimeout(t);
        reject(e);
      },
    );
  });
}
