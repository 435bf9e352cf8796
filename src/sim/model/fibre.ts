/**
 * The fibre between the emitter array and the receiver array: a length, attenuation per metre, a modal
 * bandwidth-length product, crosstalk between cores that grows with length, and a per-lane delay with a spread
 * (skew). With no `fibre` section in the profile the fibre is ideal (no loss, no modal limit, the channel's
 * crosstalk as given, no delay).
 *
 * - Loss: own and crosstalk coupling both scale by 10^(-α·L/10).
 * - Crosstalk in an imaging fibre (weakly coupled cores): the power a core hands its neighbour grows linearly
 *   with length while it is small (coupled-mode theory), so ε(L) = ε(L_ref)·L/L_ref, floored at 5 % of L_ref
 *   (coupling at the fibre faces) and capped at -3 dB.
 * - Modal bandwidth: f_modal = BL/L, a third pole next to the LED's and the TIA's (1/f² add).
 * - Delay: L·n_g/c plus, per lane, L·skewPsPerM·z (z a seeded standard normal draw per lane).
 */

import { Rng } from '../../core/rng.ts';
import type { ChannelParams } from './channel.ts';

export const C_M_PER_S = 299_792_458;

export interface FibreParams {
  lengthM: number;
  attenuationDbPerM: number;
  /** Modal bandwidth-length product, Hz·m (Infinity: no modal limit). */
  bandwidthLengthHzM: number;
  /** Length at which channel.nearestDb / diagonalDb were measured, m. */
  refLengthM: number;
  groupIndex: number;
  /** 1σ spread of the lane-to-lane delay per metre, s/m. */
  skewSPerM: number;
}

/** Linear transmission of a length of fibre. */
export function fibreTransmission(f: Pick<FibreParams, 'attenuationDbPerM' | 'lengthM'>, lengthM = f.lengthM): number {
  return 10 ** ((-f.attenuationDbPerM * lengthM) / 10);
}

/** Crosstalk growth against the reference length, dB (0 at L_ref). */
export function crosstalkGrowthDb(f: Pick<FibreParams, 'refLengthM' | 'lengthM'>, lengthM = f.lengthM): number {
  const l = Math.max(lengthM, 0.05 * f.refLengthM);
  return 10 * Math.log10(l / f.refLengthM);
}

/** The channel parameters a length of fibre gives: coupling with the loss, crosstalk grown with length. */
export function channelAtLength(
  ch: ChannelParams,
  f: Pick<FibreParams, 'attenuationDbPerM' | 'lengthM' | 'refLengthM'> | undefined,
  lengthM?: number,
): ChannelParams {
  if (!f) return ch;
  const L = lengthM ?? f.lengthM;
  const g = crosstalkGrowthDb(f, L);
  return {
    ...ch,
    couplingEfficiency: ch.couplingEfficiency * fibreTransmission(f, L),
    nearestDb: Math.min(-3, ch.nearestDb + g),
    diagonalDb: Math.min(-3, ch.diagonalDb + g),
  };
}

/** Modal bandwidth of the length, Hz (Infinity without a fibre or at zero length). */
export function modalBandwidth(f: FibreParams | undefined, lengthM?: number): number {
  if (!f) return Number.POSITIVE_INFINITY;
  const L = lengthM ?? f.lengthM;
  return L > 0 ? f.bandwidthLengthHzM / L : Number.POSITIVE_INFINITY;
}

/** Per-lane propagation delay, s (index lane - 1): the same draws for a seed whatever the length. */
export function laneDelays(f: FibreParams | undefined, lanes: number, seed: number, lengthM?: number): Float64Array {
  const out = new Float64Array(lanes);
  if (!f) return out;
  const L = lengthM ?? f.lengthM;
  const rng = Rng.derive(seed, 'fibre-skew');
  const base = (L * f.groupIndex) / C_M_PER_S;
  for (let i = 0; i < lanes; i++) out[i] = Math.max(0, base + L * f.skewSPerM * rng.normal());
  return out;
}
