/**
 * XDR (RFC 4506), the parts ONC RPC, the portmapper and VXI-11 use: 32-bit unsigned and signed integers, booleans,
 * variable-length opaque data and strings (length, bytes, zero padding to a multiple of 4), and optional data.
 * Decoding is bounds-checked: a short or malformed buffer throws XdrError naming what was being read.
 */

export class XdrError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'XdrError';
  }
}

/** Encodes XDR into a buffer that grows as needed. */
export class XdrWriter {
  private buf: Buffer;
  private n = 0;

  constructor(initial = 128) {
    this.buf = Buffer.allocUnsafe(initial);
  }

  private room(bytes: number): void {
    if (this.n + bytes <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.n + bytes) size *= 2;
    const next = Buffer.allocUnsafe(size);
    this.buf.copy(next, 0, 0, this.n);
    this.buf = next;
  }

  uint(v: number): this {
    this.room(4);
    this.buf.writeUInt32BE(v >>> 0, this.n);
    this.n += 4;
    return this;
  }

  int(v: number): this {
    this.room(4);
    this.buf.writeInt32BE(v | 0, this.n);
    this.n += 4;
    return this;
  }

  bool(v: boolean): this {
    return this.uint(v ? 1 : 0);
  }

  /** Variable-length opaque data: length, bytes, padding. */
  opaque(data: Uint8Array): this {
    const pad = (4 - (data.length & 3)) & 3;
    this.room(4 + data.length + pad);
    this.buf.writeUInt32BE(data.length, this.n);
    this.n += 4;
    this.buf.set(data, this.n);
    this.n += data.length;
    if (pad) {
      this.buf.fill(0, this.n, this.n + pad);
      this.n += pad;
    }
    return this;
  }

  /** A string as opaque ASCII/Latin-1 bytes (device names, netids, universal addresses). */
  string(s: string): this {
    return this.opaque(Buffer.from(s, 'latin1'));
  }

  /** Raw bytes already in XDR (a nested encoding). */
  raw(data: Uint8Array): this {
    this.room(data.length);
    this.buf.set(data, this.n);
    this.n += data.length;
    return this;
  }

  /** Overwrites the unsigned int at `offset` (a length or a record mark written before its value was known). */
  patchUint(offset: number, v: number): this {
    this.buf.writeUInt32BE(v >>> 0, offset);
    return this;
  }

  get length(): number {
    return this.n;
  }

  /** The encoded bytes (a view of the writer's buffer). */
  bytes(): Buffer {
    return this.buf.subarray(0, this.n);
  }
}

/** Decodes XDR from a buffer; every read checks the bounds. */
export class XdrReader {
  private off: number;
  private readonly end: number;

  constructor(
    private readonly buf: Buffer,
    offset = 0,
  ) {
    this.off = offset;
    this.end = buf.length;
  }

  private need(bytes: number, what: string): void {
    if (this.off + bytes > this.end)
      throw new XdrError(`XDR: ${what} needs ${bytes} bytes at offset ${this.off}, only ${this.end - this.off} left`);
  }

  uint(what = 'unsigned int'): number {
    this.need(4, what);
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v;
  }

  int(what = 'int'): number {
    this.need(4, what);
    const v = this.buf.readInt32BE(this.off);
    this.off += 4;
    return v;
  }

  bool(what = 'bool'): boolean {
    const v = this.uint(what);
    if (v > 1) throw new XdrError(`XDR: ${what} is ${v}, not a boolean`);
    return v === 1;
  }

  /** Variable-length opaque data, at most `max` bytes; a view of the input (no copy). */
  opaque(what = 'opaque', max = 0x7fffffff): Buffer {
    const len = this.uint(`${what} length`);
    if (len > max) throw new XdrError(`XDR: ${what} is ${len} bytes, more than the ${max} allowed`);
    const padded = len + ((4 - (len & 3)) & 3);
    this.need(padded, what);
    const data = this.buf.subarray(this.off, this.off + len);
    this.off += padded;
    return data;
  }

  string(what = 'string', max = 4096): string {
    return this.opaque(what, max).toString('latin1');
  }

  get remaining(): number {
    return this.end - this.off;
  }

  get offset(): number {
    return this.off;
  }
}
