/**
 * Compact encoding of per-lane arrays: a 400-lane frame is one row with three small BLOBs.
 * - values: little-endian float64, NaN for null (8 bytes per lane)
 * - lanes: NULL when the lanes are a contiguous ascending range (lane_first + count), else little-endian
 *   uint16 (or uint32 when a lane number exceeds 65535)
 * - verdicts: NULL when every lane has the same verdict (stored as text), else one byte per lane
 */
import { endianness } from 'node:os';
import type { Verdict } from '../core/record.ts';

const LE = endianness() === 'LE';
const VERDICTS: Verdict[] = ['PASS', 'FAIL', 'MARGINAL', 'ERROR', 'SKIPPED'];
/** A verdict's byte in a packed verdicts BLOB. */
export const VERDICT_CODE: Readonly<Record<Verdict, number>> = { PASS: 0, FAIL: 1, MARGINAL: 2, ERROR: 3, SKIPPED: 4 };

export const LANES_RANGE = 0;
export const LANES_U16 = 1;
export const LANES_U32 = 2;

/** Copies a Buffer into a fresh, aligned ArrayBuffer (BLOBs from SQLite may sit at any offset). */
function aligned(buf: Uint8Array): ArrayBuffer {
  const out = new ArrayBuffer(buf.byteLength);
  new Uint8Array(out).set(buf);
  return out;
}

export function packValues(values: readonly (number | null)[]): Buffer {
  const f = new Float64Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const v = values[i];
    f[i] = v === null || v === undefined ? Number.NaN : v;
  }
  const b = Buffer.from(f.buffer, f.byteOffset, f.byteLength);
  if (!LE) b.swap64();
  return b;
}

export function unpackValues(buf: Uint8Array): (number | null)[] {
  const copy = aligned(buf);
  if (!LE) Buffer.from(copy).swap64();
  const f = new Float64Array(copy);
  const out = new Array<number | null>(f.length);
  for (let i = 0; i < f.length; i++) {
    const v = f[i];
    out[i] = Number.isNaN(v) ? null : v;
  }
  return out;
}

export interface PackedLanes {
  enc: number;
  first: number;
  count: number;
  blob: Buffer | null;
}

export function packLanes(lanes: readonly number[]): PackedLanes {
  const n = lanes.length;
  let contiguous = true;
  let max = 0;
  for (let i = 0; i < n; i++) {
    const l = lanes[i];
    if (!Number.isInteger(l) || l < 0) throw new RangeError(`lane numbers must be non-negative integers, got ${l}`);
    if (l > max) max = l;
    if (i > 0 && l !== lanes[i - 1] + 1) contiguous = false;
  }
  if (contiguous) return { enc: LANES_RANGE, first: n > 0 ? lanes[0] : 0, count: n, blob: null };
  if (max <= 0xffff) {
    const a = Uint16Array.from(lanes);
    const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
    if (!LE) b.swap16();
    return { enc: LANES_U16, first: lanes[0], count: n, blob: b };
  }
  const a = Uint32Array.from(lanes);
  const b = Buffer.from(a.buffer, a.byteOffset, a.byteLength);
  if (!LE) b.swap32();
  return { enc: LANES_U32, first: lanes[0], count: n, blob: b };
}

export function unpackLanes(enc: number, first: number, count: number, blob: Uint8Array | null): number[] {
  if (enc === LANES_RANGE || !blob) {
    const out = new Array<number>(count);
    for (let i = 0; i < count; i++) out[i] = first + i;
    return out;
  }
  const copy = aligned(blob);
  if (enc === LANES_U16) {
    if (!LE) Buffer.from(copy).swap16();
    return Array.from(new Uint16Array(copy));
  }
  if (!LE) Buffer.from(copy).swap32();
  return Array.from(new Uint32Array(copy));
}

/** Returns [blob, null] or [null, uniformVerdict]. */
export function packVerdicts(verdicts: readonly Verdict[]): [Buffer | null, Verdict | null] {
  if (verdicts.length > 0 && verdicts.every((v) => v === verdicts[0])) return [null, verdicts[0]];
  const b = Buffer.alloc(verdicts.length);
  for (let i = 0; i < verdicts.length; i++) {
    const c = VERDICT_CODE[verdicts[i]];
    if (c === undefined) throw new RangeError(`unknown verdict ${String(verdicts[i])}`);
    b[i] = c;
  }
  return [b, null];
}

export function unpackVerdicts(blob: Uint8Array | null, uniform: string | null, count: number): Verdict[] {
  if (!blob) return new Array<Verdict>(count).fill((uniform ?? 'PASS') as Verdict);
  const out = new Array<Verdict>(blob.length);
  for (let i = 0; i < blob.length; i++) out[i] = VERDICTS[blob[i]] ?? 'ERROR';
  return out;
}

/**
 * Calls `fn(lane, code)` for each lane of a packed frame, `code` its verdict's VERDICT_CODE (an unknown byte
 * reads as ERROR, as unpackVerdicts reads it), without building the lane and verdict arrays (the hub folds
 * hundreds of thousands of lanes per second this way).
 */
export function eachPackedLane(
  enc: number,
  first: number,
  count: number,
  lanesBlob: Uint8Array | null,
  verdictsBlob: Uint8Array | null,
  uniform: string | null,
  fn: (lane: number, code: number) => void,
): void {
  const lanes =
    lanesBlob && enc !== LANES_RANGE ? Buffer.from(lanesBlob.buffer, lanesBlob.byteOffset, lanesBlob.byteLength) : null;
  const n = verdictsBlob ? Math.min(count, verdictsBlob.length) : count;
  const same = VERDICT_CODE[(uniform ?? 'PASS') as Verdict] ?? VERDICT_CODE.ERROR;
  for (let i = 0; i < n; i++) {
    const lane = lanes === null ? first + i : enc === LANES_U16 ? lanes.readUInt16LE(2 * i) : lanes.readUInt32LE(4 * i);
    const c = verdictsBlob ? verdictsBlob[i]! : same;
    fn(lane, c > VERDICT_CODE.SKIPPED ? VERDICT_CODE.ERROR : c);
  }
}
