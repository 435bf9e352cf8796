/**
 * Waterfall (BER against signal level) fitted on the Q scale. For a receiver limited by noise that does not
 * grow with the signal (thermal, TIA), Q grows in proportion to the eye opening, so Q is a straight line in the
 * linear signal level u = 10^(x/10), x the level in dB relative to a reference (the operating point): Q = a + b·u.
 * Each point is error-counted (bits, errors); BER = errors/bits becomes Q = √2·erfc⁻¹(2·BER), weighted by the
 * Poisson uncertainty of its error count. The line is extrapolated to the Q of a target BER: the level x* where the
 * lane reaches it (its sensitivity, relative to the reference), with a confidence interval from the fit's covariance.
 */
import { berToQ, erfc, qToBer } from './ber.ts';

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

/** z of a two-sided normal interval at `cl` (1.96 at 0.95), by bisection on the normal tail. */
export function zForConfidence(cl: number): number {
  const tail = (1 - cl) / 2;
  let lo = 0;
  let hi = 10;
  // Stryker disable next-line EqualityOperator: 80 or 81 halvings of [0, 10] both end far below double precision
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    // Stryker disable next-line EqualityOperator: the tail equals the target at one point of measure zero
    if (0.5 * erfc(mid / Math.SQRT2) > tail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** |dQ/dBER| at a BER: √(2π)·e^{Q²/2}, from BER = ½·erfc(Q/√2) (Q falls as the BER grows). */
function dQdBerMagnitude(q: number): number {
  return Math.sqrt(2 * Math.PI) * Math.exp((q * q) / 2);
}

export function fitWaterfall(points: readonly WaterfallPoint[], o: FitOptions): WaterfallFit {
  const line = fitQLine(
    points.map((p) => ({ u: 10 ** (p.x / 10), bits: p.bits, errors: p.errors, at: p.x })),
    o,
    'rising',
  );
  const betterThan = line.betterThan ? { x: line.betterThan.at, ber: line.betterThan.ber } : undefined;
  if (line.status !== 'fit') {
    return {
      status: line.status,
      used: line.used,
      a: line.a,
      b: line.b,
      xAtTarget: null,
      interval: null,
      ...(betterThan ? { betterThan } : {}), // fitQLine gives a bound with 'better-than' only
    };
  }
  const [uLo, uHi] = line.interval!;
  const lo = uLo > 0 ? 10 * Math.log10(uLo) : Number.NEGATIVE_INFINITY;
  return {
    status: 'fit',
    used: line.used,
    a: line.a,
    b: line.b,
    xAtTarget: 10 * Math.log10(line.uAtTarget!),
    interval: [lo, 10 * Math.log10(uHi)],
  };
}

/** An error-counted point on a linear axis u (signal amplitude, bit rate); `at` is how the caller names it. */
export interface QPoint {
  u: number;
  bits: number;
  errors: number;
  at: number;
}

export interface QLineFit {
  status: WaterfallStatus;
  used: number;
  /** Q = a + b·u. */
  a: number;
  b: number;
  /** u where the line reaches the target BER (null unless 'fit'), and its confidence interval. */
  uAtTarget: number | null;
  interval: [number, number] | null;
  /**
   * For 'better-than': the zero-error gate nearest the failing side (the lowest u when Q rises with u, the highest
   * when it falls) and its BER upper bound (one-sided, at the confidence level).
   */
  betterThan?: { at: number; ber: number };
}

/**
 * Q against a linear axis u by weighted least squares: Q = a + b·u, each point weighted by the Poisson
 * uncertainty of its error count, extrapolated to the Q of the target BER with a confidence interval from the
 * fit's covariance. `slope` says which way Q must go for the line to hold: 'rising' (more signal, more Q) or
 * 'falling' (a higher bit rate, less Q); a line that does not go that way by more than its own uncertainty is a
 * floor (errors that do not go away).
 */
export function fitQLine(points: readonly QPoint[], o: FitOptions, slope: 'rising' | 'falling'): QLineFit {
  const minErrors = o.minErrors ?? 5;
  const maxBer = o.maxBer ?? 1e-3;
  const sign = slope === 'rising' ? 1 : -1;
  const usable = points.filter((p) => p.bits > 0 && p.errors >= minErrors && p.errors / p.bits <= maxBer);
  const none = { a: Number.NaN, b: Number.NaN, uAtTarget: null, interval: null };
  // the clean gate that says most: the least signal, or the highest rate, that still counted nothing
  const clean = points.filter((p) => p.bits > 0 && p.errors === 0).sort((p, q) => sign * (p.u - q.u));
  const betterThan = clean[0]
    ? { at: clean[0].at, ber: -Math.log(1 - o.confidence) / clean[0].bits } // zero errors: −ln(1−CL)/bits
    : undefined;
  if (usable.length < 2) {
    return { status: 'better-than', used: usable.length, ...none, ...(betterThan ? { betterThan } : {}) };
  }
  // weighted least squares of Q on u; σ_Q from the Poisson error of the count: σ_BER = BER/√errors
  let sw = 0;
  let su = 0;
  let sq = 0;
  let suu = 0;
  let suq = 0;
  for (const p of usable) {
    const ber = p.errors / p.bits;
    const q = berToQ(ber);
    const sigmaQ = dQdBerMagnitude(q) * (ber / Math.sqrt(p.errors));
    const w = 1 / (sigmaQ * sigmaQ);
    sw += w;
    su += w * p.u;
    sq += w * q;
    suu += w * p.u * p.u;
    suq += w * p.u * q;
  }
  const det = sw * suu - su * su;
  if (!(det > 0)) return { status: 'better-than', used: usable.length, ...none, ...(betterThan ? { betterThan } : {}) };
  const b = (sw * suq - su * sq) / det;
  const a = (sq - b * su) / sw;
  // covariance of (a, b) for weights 1/σ²: inverse of the normal matrix
  const varA = suu / det;
  const varB = sw / det;
  const covAB = -su / det;
  const z = zForConfidence(o.confidence);
  // Q must move the expected way by more than its own uncertainty, else the errors are a floor
  // Stryker disable next-line EqualityOperator: a slope exactly at its bound is a point of measure zero
  if (!(sign * b > z * Math.sqrt(varB)))
    return { status: 'floor', used: usable.length, a, b, uAtTarget: null, interval: null };
  const qt = berToQ(o.targetBer);
  const uStar = (qt - a) / b;
  // Stryker disable next-line EqualityOperator: u* exactly 0 is a point of measure zero (and log10(0) is −∞ anyway)
  if (!(uStar > 0)) return { status: 'floor', used: usable.length, a, b, uAtTarget: null, interval: null };
  // u* = (qt − a)/b: ∂u*/∂a = −1/b, ∂u*/∂b = −u*/b
  const varU = (varA + uStar * uStar * varB + 2 * uStar * covAB) / (b * b);
  const du = z * Math.sqrt(Math.max(0, varU));
  return { status: 'fit', used: usable.length, a, b, uAtTarget: uStar, interval: [uStar - du, uStar + du] };
}

/** BER the fitted line gives at level x (for plots and checks). */
export function fittedBer(fit: Pick<WaterfallFit, 'a' | 'b'>, x: number): number {
  return qToBer(fit.a + fit.b * 10 ** (x / 10));
}
