/**
 * Helpers the simulated instruments share in their command-table handlers: picking lanes out of the model's
 * per-lane arrays, and range checks with the code a real instrument gives (-222).
 */
import { ScpiCommandError } from '../server/errors.ts';

/** Picks `lanes` (1-based) out of a per-lane array indexed lane - 1. */
export function pick(arr: ArrayLike<number>, lanes: readonly number[]): number[] {
  return lanes.map((l) => arr[l - 1]!);
}

/** Checks a number is within [lo, hi], else -222 naming the range. */
export function inRange(v: number, lo: number, hi: number, what: string, unit = ''): number {
  if (!(v >= lo && v <= hi)) throw new ScpiCommandError(-222, `${what} ${v}${unit} is outside ${lo}..${hi}${unit}`);
  return v;
}
