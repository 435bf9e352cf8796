/**
 * Error-counted points on a linear axis u (signal amplitude, bit rate) fitted on the Q scale and read at a target
 * BER, with what a test engineer needs around the straight line of q-line.ts: which points count (enough errors
 * to weigh, below the knee), a "better than" bound when too few do, a floor when Q does not move the way the axis
 * says it must, and u where the line reaches the target with its confidence interval. The waterfall (Q rising with
 * the signal), the rate margin (Q falling with the bit rate) and each edge of the bathtub (Q rising toward the eye's
 * centre) read their curves through it.
 */
import { berToQ } from './ber.ts';
import { fitQLine, solveQLine, zForConfidence } from './q-line.ts';

/** An error-counted point; `at` is how the caller names its position (dB, bit/s). */
export interface QPoint {
  u: number;
  bits: number;
  errors: number;
  at: number;
}

export interface QCurveOptions {
  targetBer: number;
  /** Confidence level of the interval (two-sided) and of a zero-error bound. */
  confidence: number;
  /** Points with fewer errors are not fitted (their Poisson error is too large to weigh). */
  minErrors?: number;
  /** Points with a BER above this are not fitted (past the knee, the line no longer holds). */
  maxBer?: number;
  /**
   * Multiplies each BER (and the target) before it becomes Q: 2 for one edge of a bathtub, where only the marks or
   * only the spaces err (default 1).
   */
  berScale?: number;
}

export type QCurveStatus =
  /** A line through enough error-counted points; `uAtTarget` is read from it. */
  | 'fit'
  /** Too few points with errors: nothing could be fitted; `betterThan` is the best bound there is. */
  | 'better-than'
  /** Errors do not go the way the axis says they must (or the line reaches the target at u ≤ 0). */
  | 'floor';

export interface QCurveFit {
  status: QCurveStatus;
  /** Points with errors used in the fit. */
  used: number;
  /** Q = a + b·u (NaN when nothing was fitted). */
  a: number;
  b: number;
  /** u where the line reaches the target BER (null unless 'fit'), and its confidence interval. */
  uAtTarget: number | null;
  interval: [number, number] | null;
  /**
   * For 'better-than': the zero-error gate nearest the failing side (the least signal when Q rises with u, the
   * highest rate when it falls) and its BER upper bound (one-sided, at the confidence level).
   */
  betterThan?: { at: number; ber: number };
}

export function fitQCurve(points: readonly QPoint[], o: QCurveOptions, slope: 'rising' | 'falling'): QCurveFit {
  const minErrors = o.minErrors ?? 5;
  const maxBer = o.maxBer ?? 1e-3;
  const sign = slope === 'rising' ? 1 : -1;
  // without bits, errors/bits is NaN or Infinity: never at or below maxBer
  const usable = points.filter((p) => p.errors >= minErrors && p.errors / p.bits <= maxBer);
  // Stryker disable next-line ArithmeticOperator: sign is ±1, so sign / d orders as sign · d does
  const clean = points.filter((p) => p.bits > 0 && p.errors === 0).sort((p, q) => sign * (p.u - q.u));
  const betterThan = clean[0]
    ? { at: clean[0].at, ber: -Math.log(1 - o.confidence) / clean[0].bits } // zero errors: −ln(1−CL)/bits
    : undefined;
  const none = { used: usable.length, a: Number.NaN, b: Number.NaN, uAtTarget: null, interval: null };
  const scale = o.berScale ?? 1;
  // Stryker disable next-line ConditionalExpression: fitQLine of fewer than two points is null too
  const line = usable.length < 2 ? null : fitQLine(usable, scale);
  if (!line) return { status: 'better-than', ...none, ...(betterThan ? { betterThan } : {}) };
  const { a, b } = line;
  const z = zForConfidence(o.confidence);
  const floor = { status: 'floor' as const, used: usable.length, a, b, uAtTarget: null, interval: null };
  // Q must move the expected way by more than its own uncertainty, else the errors are a floor
  // Stryker disable next-line EqualityOperator: a slope exactly at its bound is a point of measure zero
  if (!(sign * b > z * Math.sqrt(line.varB))) return floor;
  const { u, halfWidth } = solveQLine(line, berToQ(o.targetBer * scale), z);
  // Stryker disable next-line EqualityOperator: u exactly 0 is a point of measure zero
  if (!(u > 0)) return floor;
  return { status: 'fit', used: usable.length, a, b, uAtTarget: u, interval: [u - halfWidth, u + halfWidth] };
}
