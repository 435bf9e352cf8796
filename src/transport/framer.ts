import { FramingError } from '../core/errors.ts';

/**
 * Splits the byte stream from an instrument into response messages.
 *
 * A message is a line ending in LF (a trailing CR is dropped), or an IEEE 488.2 block: definite length
 * `#<n><len><bytes>` whose payload may hold any byte including LF, or indefinite `#0<bytes>` which, having no
 * END signal on serial or TCP, ends at its first LF. A line-oriented parser (such as serialport's readline)
 * would cut a definite block at the first 0x0A of its payload; this one reads exactly `len` bytes.
 *
 * Memory is bounded: a line longer than `maxLineBytes` without a terminator, or a block header claiming more
 * than `maxBlockBytes`, yields an error message and the framer discards input up to the next LF.
 */
export type FramedMessage =
  | { kind: 'line'; data: Buffer }
  | { kind: 'block'; data: Buffer }
  | { kind: 'error'; error: FramingError };

/** A complete reply: a text line or a block payload. */
export type DataMessage = Extract<FramedMessage, { kind: 'line' | 'block' }>;

export interface FramerOptions {
  maxLineBytes?: number;
  maxBlockBytes?: number;
}

export const DEFAULT_MAX_LINE_BYTES = 256 * 1024;
export const DEFAULT_MAX_BLOCK_BYTES = 64 * 1024 * 1024;

type State = 'start' | 'line' | 'hash' | 'digits' | 'body' | 'indefinite' | 'skip';

const LF = 0x0a;
const CR = 0x0d;
const HASH = 0x23;

export class ScpiFramer {
  readonly maxLineBytes: number;
  readonly maxBlockBytes: number;
  private state: State = 'start';
  private parts: Buffer[] = [];
  private partsLength = 0;
  private digitsWanted = 0;
  private lengthDigits = '';
  private body: Buffer | null = null;
  private bodyFilled = 0;
  /** After a definite block, an LF (optionally CR LF) terminator is swallowed if it comes next. */
  private swallowTerminator = false;

  constructor(options: FramerOptions = {}) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.maxBlockBytes = options.maxBlockBytes ?? DEFAULT_MAX_BLOCK_BYTES;
  }

  /** True when bytes of an unfinished message are held. */
  get partial(): boolean {
    return this.state !== 'start' || this.partsLength > 0;
  }

  /** Drops everything held, e.g. after a reconnect or before a fresh transaction. */
  reset(): void {
    this.state = 'start';
    this.parts.length = 0;
    this.partsLength = 0;
    this.body = null;
    this.bodyFilled = 0;
    this.lengthDigits = '';
    this.swallowTerminator = false;
  }

  /** Feeds bytes; returns the messages they complete, in order. */
  push(chunk: Buffer): FramedMessage[] {
    const out: FramedMessage[] = [];
    this.feed(chunk, (m) => out.push(m));
    return out;
  }

  /**
   * Feeds bytes; hands each message they complete to `emit`, in order. The transport's hot path: no array per
   * chunk, and a whole reply line inside one chunk is passed on as a view of the chunk, without copying.
   */
  feed(chunk: Buffer, emit: (m: FramedMessage) => void): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      switch (this.state) {
        case 'start': {
          const b = chunk[i]!;
          if (!this.swallowTerminator && b !== HASH) {
            // fast path: a reply line that ends inside this chunk
            const lf = chunk.indexOf(LF, i);
            if (lf !== -1 && lf - i <= this.maxLineBytes) {
              const end = lf > i && chunk[lf - 1] === CR ? lf - 1 : lf;
              emit({ kind: 'line', data: chunk.subarray(i, end) });
              i = lf + 1;
              break;
            }
          }
          if (this.swallowTerminator) {
            if (b === CR) {
              i++;
              continue;
            }
            this.swallowTerminator = false;
            if (b === LF) {
              i++;
              continue;
            }
          }
          if (b === HASH) {
            this.state = 'hash';
            i++;
          } else {
            this.state = 'line';
          }
          break;
        }
        case 'line':
        case 'indefinite': {
          const lf = chunk.indexOf(LF, i);
          const end = lf === -1 ? n : lf;
          const take = end - i;
          if (this.partsLength + take > this.maxLineBytes) {
            const what = this.state === 'line' ? 'reply line' : 'indefinite block';
            emit(this.fail(`${what} exceeds ${this.maxLineBytes} bytes without a terminator (LF)`));
            this.state = 'skip';
            break;
          }
          if (take > 0) this.addPart(chunk.subarray(i, end));
          i = end;
          if (lf !== -1) {
            i = lf + 1;
            let data = this.takeParts();
            if (this.state === 'line' && data.length > 0 && data[data.length - 1] === CR) {
              data = data.subarray(0, data.length - 1);
            }
            emit({ kind: this.state === 'line' ? 'line' : 'block', data });
            this.state = 'start';
          }
          break;
        }
        case 'hash': {
          const b = chunk[i]!;
          i++;
          if (b === 0x30) {
            this.state = 'indefinite';
          } else if (b >= 0x31 && b <= 0x39) {
            this.digitsWanted = b - 0x30;
            this.lengthDigits = '';
            this.state = 'digits';
          } else {
            emit(this.fail(`block header "#${String.fromCharCode(b)}" is not "#<digit>"`));
            this.state = b === LF ? 'start' : 'skip';
          }
          break;
        }
        case 'digits': {
          const b = chunk[i]!;
          if (b < 0x30 || b > 0x39) {
            emit(this.fail(`block header length has a non-digit byte 0x${b.toString(16).padStart(2, '0')}`));
            this.state = 'skip';
            break;
          }
          this.lengthDigits += String.fromCharCode(b);
          i++;
          if (this.lengthDigits.length === this.digitsWanted) {
            const len = Number(this.lengthDigits);
            if (len > this.maxBlockBytes) {
              emit(this.fail(`block header claims ${len} bytes, more than the ${this.maxBlockBytes}-byte limit`));
              this.state = 'skip';
              break;
            }
            this.body = Buffer.allocUnsafe(len);
            this.bodyFilled = 0;
            this.state = 'body';
            if (len === 0) this.finishBlock(emit);
          }
          break;
        }
        case 'body': {
          const body = this.body!;
          const take = Math.min(body.length - this.bodyFilled, n - i);
          chunk.copy(body, this.bodyFilled, i, i + take);
          this.bodyFilled += take;
          i += take;
          if (this.bodyFilled === body.length) this.finishBlock(emit);
          break;
        }
        case 'skip': {
          const lf = chunk.indexOf(LF, i);
          if (lf === -1) {
            i = n;
          } else {
            i = lf + 1;
            this.state = 'start';
          }
          break;
        }
      }
    }
  }

  /** Describes what is held when the stream ends, for an error that says what was missing. */
  describePartial(): string | undefined {
    if (this.state === 'body' && this.body) {
      return `block ended after ${this.bodyFilled} of the ${this.body.length} bytes its header announced`;
    }
    if (this.state === 'digits' || this.state === 'hash') return 'stream ended inside a block header';
    if (this.state === 'line' && this.partsLength > 0)
      return `stream ended inside a reply (${this.partsLength} bytes, no LF)`;
    if (this.state === 'indefinite') return 'stream ended inside an indefinite block';
    return undefined;
  }

  private finishBlock(emit: (m: FramedMessage) => void): void {
    emit({ kind: 'block', data: this.body! });
    this.body = null;
    this.bodyFilled = 0;
    this.state = 'start';
    this.swallowTerminator = true;
  }

  private addPart(b: Buffer): void {
    this.parts.push(b);
    this.partsLength += b.length;
  }

  private takeParts(): Buffer {
    const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsLength);
    this.parts.length = 0;
    this.partsLength = 0;
    return data;
  }

  private fail(message: string): FramedMessage {
    this.parts.length = 0;
    this.partsLength = 0;
    this.body = null;
    return { kind: 'error', error: new FramingError(message) };
  }
}

/**
 * Frames one complete reply whose end the protocol marks (VXI-11 END, HiSLIP DataEnd, USBTMC EOM), so no
 * terminator is needed to find it: a definite block `#<n><len><bytes>` (its trailing LF, if any, is not part of
 * it), an indefinite block `#0<bytes>` up to the END (a trailing LF dropped), or a text line without its LF/CRLF.
 */
export function frameEndMessage(data: Buffer): FramedMessage {
  if (data.length >= 2 && data[0] === HASH) {
    const d = data[1]!;
    if (d === 0x30) {
      let end = data.length;
      if (end > 2 && data[end - 1] === LF) end--;
      return { kind: 'block', data: data.subarray(2, end) };
    }
    if (d >= 0x31 && d <= 0x39) {
      const n = d - 0x30;
      const digits = data.subarray(2, 2 + n).toString('latin1');
      if (digits.length === n && /^\d+$/.test(digits)) {
        const len = Number(digits);
        if (2 + n + len <= data.length) return { kind: 'block', data: data.subarray(2 + n, 2 + n + len) };
        return {
          kind: 'error',
          error: new FramingError(
            `block header announces ${len} bytes but the message ended after ${data.length - 2 - n}`,
          ),
        };
      }
      return {
        kind: 'error',
        error: new FramingError(`block header "${data.subarray(0, 2 + n).toString('latin1')}" is not #<n><digits>`),
      };
    }
  }
  let end = data.length;
  if (end > 0 && data[end - 1] === LF) end--;
  if (end > 0 && data[end - 1] === CR) end--;
  return { kind: 'line', data: end === data.length ? data : data.subarray(0, end) };
}
