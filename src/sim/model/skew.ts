/**
 * Lane-to-lane skew: each lane's light arrives after its fibre's propagation delay (fibre.ts) plus its own
 * channel's (driver, receiver, their traces), drawn once per device from the seed: uniform in [0, maxSkewS]. The receiver's
 * aggregate deframer holds the link's frame alignment only while every lane's residual skew (after its deskew FIFO,
 * which takes up to DESKEW_RANGE_S out) lies within half a unit interval of the others'.
 */
import { hashSeed, Rng } from '../../core/rng.ts';

/** Largest channel delay of a device, s (0.8 UI at 2 Gb/s: without deskew the aggregate cannot align). */
export const DEFAULT_MAX_SKEW_S = 400e-12;
/** Delay a lane's deskew FIFO can take out, s. */
export const DESKEW_RANGE_S = 2e-9;

/** Each lane's own channel delay (index lane − 1), s: the same for a seed every time. */
export function channelDelays(lanes: number, seed: number, maxSkewS = DEFAULT_MAX_SKEW_S): Float64Array {
  const rng = new Rng(hashSeed(seed, 'lane-skew'));
  const d = new Float64Array(lanes);
  for (let i = 0; i < lanes; i++) d[i] = rng.range(0, maxSkewS);
  return d;
}

/** Each listed lane's skew relative to the earliest of them, s. */
export function relativeSkew(delays: Float64Array, lanes: readonly number[]): number[] {
  const min = Math.min(...lanes.map((l) => delays[l - 1]!));
  return lanes.map((l) => delays[l - 1]! - min);
}

/**
 * Whether the aggregate of these lanes holds frame alignment at a rate: the spread of their residual skew (none
 * left with deskew on, where the FIFOs reach) within half a unit interval.
 */
export function aggregateAligned(
  delays: Float64Array,
  lanes: readonly number[],
  deskew: boolean,
  rate: number,
): boolean {
  if (lanes.length === 0) return true;
  const skew = relativeSkew(delays, lanes);
  const residual = skew.map((s) => (deskew ? Math.max(0, s - DESKEW_RANGE_S) : s));
  return Math.max(...residual) - Math.min(...residual) <= 0.5 / rate;
}
