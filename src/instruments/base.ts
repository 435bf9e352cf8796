import { AbortedError, CpobenchError, errorMessage } from '../core/errors.ts';
import { type InstrumentClock, instrumentClock } from '../core/instrument-clock.ts';
import { toChannelList } from '../scpi/channels.ts';
import { formatQuery, formatSet, parseReply, type ScpiCommand } from '../scpi/command-table.ts';
import { parseBoolList } from '../scpi/parse.ts';
import type { ScpiSession, TxOptions } from '../scpi/session.ts';
import type { CallOptions, Identity, Instrument, Lanes } from './capabilities.ts';
import { type CallTrace, traceMethods } from './trace.ts';

/**
 * A driver call failed: names the role and the SCPI command. `code` is the cause's code (E_CONNECTION,
 * E_TIMEOUT, E_INSTRUMENT, E_ABORTED...) so callers and the CLI can branch on it.
 */
export class DriverError extends CpobenchError {
  readonly role: string;
  readonly command: string;
  constructor(role: string, command: string, cause: unknown) {
    const code = cause instanceof CpobenchError ? cause.code : 'E_DRIVER';
    super(code, `${role}: "${command}" failed: ${errorMessage(cause)}`, { cause });
    this.role = role;
    this.command = command;
  }
}

/** A setpoint or argument outside the station limits; refused before anything was sent. */
export class LimitError extends CpobenchError {
  readonly role: string;
  constructor(role: string, message: string) {
    super('E_LIMIT', `${role}: ${message}; nothing was sent`);
    this.role = role;
  }
}

/**
 * An instrument did not confirm its safe state: the read-back disagreed, or could not be made. The message says
 * what was observed (or why nothing could be read), so an operator can act on it.
 */
export class NotSafeError extends CpobenchError {
  readonly role: string;
  constructor(role: string, message: string, options?: { cause?: unknown }) {
    super('E_NOT_SAFE', `${role}: NOT SAFE: ${message}`, options);
    this.role = role;
  }
}

export interface DriverOptions {
  role: string;
  session: ScpiSession;
  trace?: CallTrace;
  /** The instrument's clock, for physical waits (ramp delays, settling); default real time. */
  clock?: InstrumentClock;
  /** Drain SYST:ERR? after every setting command (default true): an instrument refusal becomes an error. */
  checkErrors?: boolean;
}

/** Shared plumbing of every SCPI driver: checked sends, wrapped errors, common commands, the call trace. */
export abstract class ScpiDriver implements Instrument {
  readonly role: string;
  protected readonly session: ScpiSession;
  protected readonly checkErrors: boolean;
  protected readonly clock: InstrumentClock;

  constructor(o: DriverOptions) {
    this.role = o.role;
    this.session = o.session;
    this.clock = o.clock ?? instrumentClock();
    this.checkErrors = o.checkErrors ?? true;
    if (o.trace) traceMethods(this, o.role, o.trace);
  }

  async identify(opts?: CallOptions): Promise<Identity> {
    return this._do('*IDN?', () => this.session.idn(tx(opts)));
  }

  async selfTest(opts?: CallOptions): Promise<number> {
    return this._do('*TST?', () => this.session.tst(tx(opts)));
  }

  async clearErrors(opts?: CallOptions): Promise<string[]> {
    const list = await this._do('SYST:ERR?', () => this.session.drainErrors(tx(opts)));
    return list.map((e) => `${e.code},"${e.message}"`);
  }

  /**
   * Brings the instrument to its safe state and reads it back. Resolves with what was read back (in words);
   * throws NotSafeError when the read-back disagrees or cannot be made. Never reports a state it did not observe.
   */
  abstract safeState(opts?: CallOptions): Promise<string>;

  /**
   * Sends every safe-state command or action (each tried even when an earlier one fails), then confirms by `readBack`,
   * which returns a description of the confirmed state or throws NotSafeError. A command that failed while the
   * read-back still confirms the state is noted in the description, not hidden.
   */
  protected async _makeSafe(
    actions: readonly (string | (() => Promise<unknown>))[],
    readBack: () => Promise<string>,
    opts?: CallOptions,
  ): Promise<string> {
    const failed: string[] = [];
    for (const action of actions) {
      if (opts?.signal?.aborted) break;
      try {
        await (typeof action === 'string' ? this._send(action, opts, false) : action());
      } catch (err) {
        failed.push(errorMessage(err));
      }
    }
    let observed: string;
    try {
      observed = await readBack();
    } catch (err) {
      const sent = failed.length ? ` (sending failed: ${failed.join('; ')})` : '';
      if (err instanceof NotSafeError) throw new NotSafeError(this.role, `${stripRole(err, this.role)}${sent}`);
      throw new NotSafeError(this.role, `could not read the state back: ${errorMessage(err)}${sent}`, { cause: err });
    }
    return failed.length ? `${observed} (a command failed but the read-back confirms: ${failed.join('; ')})` : observed;
  }

  /** Sends a setting command; with checkErrors, the error queue is drained and a refusal raises. */
  protected _send(command: string, opts?: CallOptions, checkErrors = this.checkErrors): Promise<void> {
    return this._do(command, () => this.session.write(command, { ...tx(opts), checkErrors }));
  }

  /** Sets a property of the model's command table (the text sent is the table's, so the simulator parses it). */
  protected _set<T>(
    cmd: ScpiCommand<T>,
    value: T | readonly T[] | undefined,
    channels?: readonly number[],
    opts?: CallOptions,
  ): Promise<void> {
    const text = this._wrap(cmd.send, () => formatSet(cmd, value, channels));
    return this._send(text, opts);
  }

  /** Reads a property of the model's command table: one value, or one per channel of a channel-list command. */
  protected async _get<T>(cmd: ScpiCommand<T>, channels?: readonly number[], opts?: CallOptions): Promise<T[]> {
    const text = this._wrap(cmd.send, () => formatQuery(cmd, channels));
    const reply = await this._query(text, opts);
    return this._wrap(text, () => parseReply(cmd, reply, channels));
  }

  /** Reads a single-valued property of the model's command table. */
  protected async _get1<T>(cmd: ScpiCommand<T>, opts?: CallOptions): Promise<T> {
    return (await this._get(cmd, undefined, opts))[0]!;
  }

  /** Reads a property of the model's command table that answers an IEEE 488.2 block (its payload). */
  protected async _getBlock(cmd: ScpiCommand<Buffer>, opts?: CallOptions): Promise<Buffer> {
    const text = this._wrap(cmd.send, () => {
      if (!cmd.value?.block) throw new Error(`${cmd.send}? does not answer a block`);
      return formatQuery(cmd);
    });
    return this._block(text, opts);
  }

  protected _query(command: string, opts?: CallOptions): Promise<string> {
    return this._do(command, () => this.session.query(command, { ...tx(opts), checkErrors: false }));
  }

  protected _number(command: string, opts?: CallOptions): Promise<number> {
    return this._do(command, () => this.session.queryNumber(command, { ...tx(opts), checkErrors: false }));
  }

  /** A list query answering one value per lane; the count is checked. */
  protected async _numbers(command: string, expected: number | undefined, opts?: CallOptions): Promise<number[]> {
    const v = await this._do(command, () => this.session.queryNumbers(command, { ...tx(opts), checkErrors: false }));
    if (expected !== undefined && v.length !== expected) {
      throw new DriverError(this.role, command, new Error(`expected ${expected} values, got ${v.length}`));
    }
    return v;
  }

  protected async _bools(command: string, expected: number, opts?: CallOptions): Promise<boolean[]> {
    const text = await this._query(command, opts);
    const v = this._wrap(command, () => parseBoolList(text, `${this.role}: reply to "${command}"`));
    if (v.length !== expected) {
      throw new DriverError(this.role, command, new Error(`expected ${expected} values, got ${v.length}`));
    }
    return v;
  }

  protected _block(command: string, opts?: CallOptions): Promise<Buffer> {
    return this._do(command, () => this.session.queryBlock(command, { ...tx(opts), checkErrors: false }));
  }

  /** Runs one SCPI transaction; any failure becomes a DriverError naming the role and the command. */
  protected async _do<T>(command: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw err instanceof DriverError ? err : new DriverError(this.role, command, err);
    }
  }

  protected _wrap<T>(command: string, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      throw new DriverError(this.role, command, err);
    }
  }

  protected _refuse(message: string): never {
    throw new LimitError(this.role, message);
  }

  /** Checks lanes are integers in 1..count and returns the channel list. */
  protected _lanes(lanes: Lanes, count: number): string {
    if (lanes.length === 0) this._refuse('no lanes given');
    for (const l of lanes) {
      if (!Number.isInteger(l) || l < 1 || l > count) this._refuse(`lane ${l} is outside 1..${count}`);
    }
    return toChannelList(lanes);
  }

  /** Expands a scalar or per-lane value to one value per lane, checking the length. */
  protected _perLane(lanes: Lanes, v: number | readonly number[], what: string): number[] {
    if (typeof v === 'number') return lanes.map(() => v);
    if (v.length !== lanes.length) this._refuse(`${what}: ${v.length} values for ${lanes.length} lanes`);
    return [...v];
  }
}

function stripRole(err: NotSafeError, role: string): string {
  const prefix = `${role}: NOT SAFE: `;
  return err.message.startsWith(prefix) ? err.message.slice(prefix.length) : err.message;
}

/** Lane numbers as short ranges for messages: [1,2,3,7] -> "1-3, 7" (at most `max` ranges, then "…"). */
export function laneRanges(lanes: readonly number[], max = 8): string {
  if (lanes.length === 0) return 'none';
  const sorted = [...new Set(lanes)].sort((a, b) => a - b);
  const parts = toChannelList(sorted).slice(2, -1).replaceAll(':', '-').split(',');
  return parts.length > max ? `${parts.slice(0, max).join(', ')}, … (${sorted.length} lanes)` : parts.join(', ');
}

export function tx(opts?: CallOptions): TxOptions {
  const o: TxOptions = {};
  if (opts?.timeoutMs !== undefined) o.timeoutMs = opts.timeoutMs;
  if (opts?.signal !== undefined) o.signal = opts.signal;
  return o;
}

/**
 * Waits between two ramp steps: `delayMs` of instrument time (real time on real hardware); no wait at all when
 * the delay is 0 (only a check of the signal).
 */
export function rampDelay(clock: InstrumentClock, delayMs: number, signal?: AbortSignal): Promise<void> {
  if (delayMs <= 0) {
    return signal?.aborted
      ? Promise.reject(new AbortedError('aborted between ramp steps', { cause: signal.reason }))
      : Promise.resolve();
  }
  return clock.sleep(delayMs / 1000, signal);
}

/**
 * Intermediate points from `from` to `to` (per element) with no step larger than `step`; the last point is
 * `to` exactly. A zero or missing step means one jump.
 */
export function rampPoints(from: readonly number[], to: readonly number[], step: number | undefined): number[][] {
  const span = Math.max(0, ...from.map((f, i) => Math.abs(to[i]! - f)));
  const n = step && step > 0 ? Math.max(1, Math.ceil(span / step - 1e-9)) : 1;
  const out: number[][] = [];
  for (let k = 1; k < n; k++) out.push(from.map((f, i) => roundSig(f + ((to[i]! - f) * k) / n)));
  out.push([...to]);
  return out;
}

function roundSig(v: number): number {
  return Number(v.toPrecision(12));
}
