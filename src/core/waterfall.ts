/**
 * Waterfall (BER against signal level) fitted on the Q scale. For a receiver limited by noise that does not
 * grow with the signal (thermal, TIA), Q grows in proportion to the eye opening, so Q is a straight line in the
 * linear signal level u = 10^(x/10), x the level in dB relative to a reference (the operating point): Q = a + b·u.
 * Each point is error-counted (bits, errors); BER = errors/bits becomes Q = √2·erfc⁻¹(2·BER), weighted by the
 * Poisson uncertainty of its error count. The line is extrapolated to the Q of a target BER: the level x* where the
 * lane reaches it (its sensitivity, relative to the reference), with a confidence interval from the fit's covariance.
 */
import { qToBer } from './ber.ts';
import { fitQCurve } from './q-curve.ts';
import { zForConfidence } from './q-line.ts';

export interface WaterfallPoint {
  /** Signal level, dB relative to the reference (0 = operating point, negative = less signal). */
  x: number;
  bits: number;
  errors: number;
}

export type WaterfallStatus =
  /** A line through enough error-counted points; `xAtTarget` is the extrapolated level. */
  | 'fit'
  /** Too few points with errors: no level could be fitted; `betterThan` is the best bound there is. */
  | 'better-than'
  /** Errors do not fall as the signal grows (a floor): no extrapolation. */
  | 'floor';

export interface WaterfallFit {
  status: WaterfallStatus;
  /** Points with errors used in the fit. */
  used: number;
  /** Q = a + b·10^(x/10). */
  a: number;
  b: number;
  /** Level where the fitted line reaches the target BER, dB (null unless status is 'fit'). */
  xAtTarget: number | null;
  /** Confidence interval of xAtTarget, dB [low, high] (null unless 'fit'). */
  interval: [number, number] | null;
  /** For 'better-than': the lowest level with a zero-error gate and its BER upper bound (one-sided, the CL). */
  betterThan?: { x: number; ber: number };
}

export interface FitOptions {
  targetBer: number;
  /** Confidence level of the interval (two-sided) and of a zero-error bound. */
  confidence: number;
  /** Points with fewer errors are not fitted (their Poisson error is too large to weigh). */
  minErrors?: number;
  /** Points with a BER above this are not fitted (past the knee, the line no longer holds). */
  maxBer?: number;
}

export { zForConfidence };

export function fitWaterfall(points: readonly WaterfallPoint[], o: FitOptions): WaterfallFit {
  const curve = fitQCurve(
    points.map((p) => ({ u: 10 ** (p.x / 10), bits: p.bits, errors: p.errors, at: p.x })),
    o,
    'rising',
  );
  const base = { used: curve.used, a: curve.a, b: curve.b };
  if (curve.status !== 'fit') {
    const bound = curve.betterThan ? { betterThan: { x: curve.betterThan.at, ber: curve.betterThan.ber } } : {};
    return { status: curve.status, ...base, xAtTarget: null, interval: null, ...bound };
  }
  const [uLo, uHi] = curve.interval!;
  const lo = uLo > 0 ? 10 * Math.log10(uLo) : Number.NEGATIVE_INFINITY;
  return { status: 'fit', ...base, xAtTarget: 10 * Math.log10(curve.uAtTarget!), interval: [lo, 10 * Math.log10(uHi)] };
}

/** BER the fitted line gives at level x (for plots and checks). */
export function fittedBer(fit: Pick<WaterfallFit, 'a' | 'b'>, x: number): number {
  return qToBer(fit.a + fit.b * 10 ** (x / 10));
}
