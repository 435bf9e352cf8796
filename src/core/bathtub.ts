/**
 * A vertical bathtub (domain.md §2.3): BER against the decision threshold t (relative to the eye, 0.5 = centre),
 * error-counted points on both sides of the centre. Near an edge only one level errs (the spaces below the centre,
 * the marks above it), half the bits, so an edge's BER is ½·Φc(Q): Q = berToQ(2·BER); and Q is a straight line in t (the distance from the threshold to the level, over the level's
 * noise). Each edge is fitted on the Q scale (src/core/q-curve.ts, BER scaled by 2) and extrapolated to the Q of the target BER: the
 * two thresholds where the lane reaches it, and the eye opening between them with its confidence interval.
 */
import { fitQCurve } from './q-curve.ts';

export interface BathtubPoint {
  /** Decision threshold, relative (0.5 = centre). */
  t: number;
  bits: number;
  errors: number;
}

export type EdgeStatus = 'fit' | 'better-than' | 'floor';

export interface EdgeFit {
  status: EdgeStatus;
  /** Points with errors used in the fit. */
  used: number;
  /** Threshold where the edge reaches the target BER (null unless 'fit'). */
  threshold: number | null;
  /** Half-width of its confidence interval (null unless 'fit'). */
  halfWidth: number | null;
  /** For 'better-than': the outermost threshold counted with zero errors (the edge lies beyond it). */
  bound?: number;
}

export interface BathtubFit {
  status: EdgeStatus;
  low: EdgeFit;
  high: EdgeFit;
  /** high.threshold − low.threshold, when both edges are fitted. */
  opening: number | null;
  /** Half-width of the opening's confidence interval (the edges' in quadrature). */
  halfWidth: number | null;
  /** When an edge has too few errors: the opening is at least this (from the bound of that edge). */
  atLeast?: number;
}

export interface BathtubOptions {
  targetBer: number;
  confidence: number;
  /** Points with fewer errors are not fitted. */
  minErrors?: number;
  /** Points above this BER are past the knee (both levels err): not fitted. */
  maxBer?: number;
  /** The eye's centre on the threshold scale. */
  centre?: number;
}

/** One edge; `u` maps a threshold to a coordinate that grows toward the centre, so Q rises with it. */
function fitEdge(points: readonly BathtubPoint[], u: (t: number) => number, o: BathtubOptions): EdgeFit {
  const fit = fitQCurve(
    points.map((p) => ({ u: u(p.t), bits: p.bits, errors: p.errors, at: p.t })),
    { targetBer: o.targetBer, confidence: o.confidence, minErrors: o.minErrors, maxBer: o.maxBer, berScale: 2 },
    'rising',
  );
  if (fit.status === 'fit') {
    const [lo, hi] = fit.interval!;
    // u is its own inverse on either side: the threshold where the edge reaches the target
    return { status: 'fit', used: fit.used, threshold: u(fit.uAtTarget!), halfWidth: (hi - lo) / 2 };
  }
  // only a 'better-than' curve carries a bound (the zero-error gate nearest the centre)
  const bound = fit.betterThan?.at;
  return {
    status: fit.status,
    used: fit.used,
    threshold: null,
    halfWidth: null,
    ...(bound !== undefined ? { bound } : {}),
  };
}

export function fitBathtub(points: readonly BathtubPoint[], o: BathtubOptions): BathtubFit {
  const c = o.centre ?? 0.5;
  // a point at the centre belongs to neither edge
  const low = fitEdge(
    points.filter((p) => p.t < c),
    (t) => t,
    o,
  );
  const high = fitEdge(
    points.filter((p) => p.t > c),
    (t) => 1 - t,
    o,
  );
  if (low.status === 'fit' && high.status === 'fit') {
    return {
      status: 'fit',
      low,
      high,
      opening: high.threshold! - low.threshold!,
      halfWidth: Math.hypot(low.halfWidth!, high.halfWidth!),
    };
  }
  const status: EdgeStatus = low.status === 'floor' || high.status === 'floor' ? 'floor' : 'better-than';
  const lo = low.status === 'fit' ? low.threshold : low.bound;
  const hi = high.status === 'fit' ? high.threshold : high.bound;
  return {
    status,
    low,
    high,
    opening: null,
    halfWidth: null,
    ...(status === 'better-than' && lo != null && hi != null ? { atLeast: hi - lo } : {}),
  };
}
