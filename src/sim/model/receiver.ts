/**
 * Receiver: photodiode/pixel + TIA + slicer, per lane.
 *
 * - Noise: σ_k² = i_n²·B_n + 2q(I_k + I_d)·B_n with B_n = 0.75·rate (domain.md §1.5).
 * - Levels: I_k = R·P_k (P_1 / P_0 the received '1' / '0' powers: finite extinction ratio from I_bias/I_mod).
 * - ISI: two-pole step response (fast pole f3dB from the LED bandwidth combined with the TIA bandwidth, plus a
 *   slow tail of weight a_s and time constant τ_s). The worst-case eye for a pattern whose longest runs are
 *   (zeros Lz, ones Lo) is, per pole of weight w and time constant τ (T = 1/rate):
 *     opening = w·[1 - e^{-T/τ}·(2 - e^{-Lz·T/τ} - e^{-Lo·T/τ})]
 *   so longer runs (PRBS31) close the eye more than short ones (PRBS7) once the tail matters.
 * - Crosstalk closes the eye by the aggressors' summed OMA (worst case, domain.md §1.6).
 * The worst-case eye here is a bound (and the DC patterns' eye); the link model's BER averages the bit populations
 * and the neighbours' bits instead (bit-statistics.ts).
 * - Threshold: D = D_opt + (t - 0.5)·(μ1 - μ0) with D_opt = (σ0·μ1 + σ1·μ0)/(σ0 + σ1);
 *   BER = ½[Φc((μ1 - D)/σ1) + Φc((D - μ0)/σ0)], which equals 0.5·erfc(Q/√2) at t = 0.5, Q = (μ1-μ0)/(σ0+σ1).
 */

import { normalTail } from '../../core/ber.ts';

export const Q_E = 1.602176634e-19;

export interface ReceiverParams {
  responsivityAW: number;
  noiseDensityAHz: number;
  darkCurrentA: number;
  bandwidthHz: number;
  losThresholdW: number;
}

/** Noise bandwidth for NRZ at a bit rate. */
export function noiseBandwidth(rate: number): number {
  return 0.75 * rate;
}

/** RMS noise current for a level current I (A) at a rate. */
export function noiseSigma(levelCurrentA: number, rate: number, p: ReceiverParams): number {
  const bn = noiseBandwidth(rate);
  return Math.sqrt(
    p.noiseDensityAHz * p.noiseDensityAHz * bn + 2 * Q_E * (Math.max(0, levelCurrentA) + p.darkCurrentA) * bn,
  );
}

/** Combined single-pole bandwidth of the LED, the TIA and any further pole (fibre) (1/f² add; Infinity: none). */
export function combinedBandwidth(...poles: number[]): number {
  let s = 0;
  for (const f of poles) {
    if (!(f > 0)) return 0;
    s += 1 / (f * f);
  }
  return s > 0 ? 1 / Math.sqrt(s) : Number.POSITIVE_INFINITY;
}

/** Temperature laws of a receiver (all optional; absent: no change with temperature). */
export interface ReceiverThermal {
  /** Dark current doubles every this many kelvin. */
  darkCurrentDoublingK?: number;
  /** Relative responsivity change per kelvin. */
  responsivityTempCoeffPerK?: number;
}

/**
 * The receiver at a temperature: dark current ×2^((T-25)/doubling), responsivity ×(1 + k·(T-25)), input noise
 * density ×√(T_K/298.15) (thermal noise of the feedback resistor).
 */
export function receiverAt<P extends ReceiverParams>(p: P & ReceiverThermal, tempC: number): P {
  const dT = tempC - 25;
  if (dT === 0) return p;
  return {
    ...p,
    darkCurrentA: p.darkCurrentA * 2 ** (dT / (p.darkCurrentDoublingK ?? Number.POSITIVE_INFINITY)),
    responsivityAW: p.responsivityAW * Math.max(0.1, 1 + (p.responsivityTempCoeffPerK ?? 0) * dT),
    noiseDensityAHz: p.noiseDensityAHz * Math.sqrt((tempC + 273.15) / 298.15),
  };
}

/** Worst-case normalized eye opening (fraction of OMA) for one pole. Runs in bits; Infinity = DC pattern. */
function poleOpening(tOverTau: number, zeros: number, ones: number): number {
  const e1 = Math.exp(-tOverTau);
  const ez = Number.isFinite(zeros) ? Math.exp(-zeros * tOverTau) : 0;
  const eo = Number.isFinite(ones) ? Math.exp(-ones * tOverTau) : 0;
  return 1 - e1 * (2 - ez - eo);
}

/**
 * Normalized worst-case eye opening (1 = no ISI) at a rate for a pattern with the given longest runs.
 * fastHz: combined LED+TIA bandwidth; tailFraction/tailTauS: the slow tail. Can be negative (eye closed).
 */
export function isiEyeOpening(
  rate: number,
  fastHz: number,
  tailFraction: number,
  tailTauS: number,
  runs: { zeros: number; ones: number },
): number {
  if (!(fastHz > 0) || !(rate > 0)) return 0;
  const T = 1 / rate;
  const tauFast = 1 / (2 * Math.PI * fastHz);
  const fast = poleOpening(T / tauFast, runs.zeros, runs.ones);
  const slow = tailFraction > 0 ? poleOpening(T / tailTauS, runs.zeros, runs.ones) : 0;
  return (1 - tailFraction) * fast + tailFraction * slow;
}

export interface EyeResult {
  /** Q at the optimum threshold (may be <= 0 for a closed eye). */
  q: number;
  /** BER at the given threshold, in [0, 0.5]. */
  ber: number;
}

/**
 * Q and BER for eye levels mu1 > mu0 (currents, A) with noise sigmas, at relative threshold t (0.5 = optimum).
 */
export function eyeBer(mu1: number, mu0: number, s1: number, s0: number, threshold = 0.5): EyeResult {
  const eye = mu1 - mu0;
  const q = eye / (s1 + s0);
  if (!(eye > 0)) return { q: Math.min(0, q), ber: 0.5 };
  if (threshold === 0.5) return { q, ber: Math.min(0.5, normalTail(q)) };
  const dOpt = (s0 * mu1 + s1 * mu0) / (s0 + s1);
  const d = dOpt + (threshold - 0.5) * eye;
  const ber = 0.5 * (normalTail((mu1 - d) / s1) + normalTail((d - mu0) / s0));
  return { q, ber: Math.min(0.5, ber) };
}
