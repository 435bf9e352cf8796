import { ParseError } from '../core/errors.ts';

/** Encodes an IEEE 488.2 definite-length block: `#<n><len><bytes>`. */
export function encodeBlock(payload: Buffer | Uint8Array): Buffer {
  const len = String(payload.length);
  if (len.length > 9) throw new ParseError(`block of ${payload.length} bytes is too long for a definite-length header`);
  return Buffer.concat([
    Buffer.from(
      `#${len.length}${len}`,
      // Stryker disable next-line StringLiteral: the header is ASCII (# and digits), the same bytes in Buffer's default UTF-8
      'latin1',
    ),
    Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength),
  ]);
}

/** Decodes a complete definite-length block held in one buffer; returns the payload. */
export function decodeBlock(bytes: Buffer): Buffer {
  if (bytes[0] !== 0x23) throw new ParseError('block does not start with "#"');
  const n = bytes[1]! - 0x30;
  if (n === 0) {
    const end = bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
    return bytes.subarray(2, end);
  }
  if (n < 1 || n > 9) throw new ParseError('block header digit count is not 1..9');
  const len = Number(bytes.subarray(2, 2 + n).toString('latin1'));
  if (!Number.isInteger(len)) throw new ParseError('block header length is not a number');
  if (bytes.length < 2 + n + len)
    throw new ParseError(`block holds ${bytes.length - 2 - n} of the ${len} bytes its header announced`);
  return bytes.subarray(2 + n, 2 + n + len);
}

/** Reads little-endian uint16 pixels from a block payload (copying if unaligned). */
export function toUint16LE(payload: Buffer): Uint16Array {
  if (payload.length % 2 !== 0) throw new ParseError(`block of ${payload.length} bytes is not whole 16-bit words`);
  const copy = new Uint8Array(payload.length);
  copy.set(payload);
  return new Uint16Array(copy.buffer, 0, payload.length / 2);
}
