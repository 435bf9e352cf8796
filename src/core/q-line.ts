/**
 * A straight line on the Q scale, Q = a + b·u, fitted to error-counted points by weighted least squares: each
 * point's BER = errors/bits becomes Q = √2·erfc⁻¹(2·BER·scale), weighted by the Poisson uncertainty of its error
 * count (σ_BER = BER/√errors, carried to Q through dQ/dBER). The waterfall fits Q against the linear signal level;
 * the bathtub fits each edge of the eye against the decision threshold. `u*` where the line reaches a target Q, with
 * its confidence interval from the fit's covariance.
 */
import { berToQ, erfc } from './ber.ts';

export interface CountedPoint {
  u: number;
  bits: number;
  errors: number;
}

export interface QLine {
  a: number;
  b: number;
  varA: number;
  varB: number;
  covAB: number;
  used: number;
}

/** z of a two-sided normal interval at `cl` (1.96 at 0.95), by bisection on the normal tail. */
export function zForConfidence(cl: number): number {
  const tail = (1 - cl) / 2;
  let lo = 0;
  let hi = 10;
  for (let i = 0; i < 80; i++) {
    const mid = (lo + hi) / 2;
    if (0.5 * erfc(mid / Math.SQRT2) > tail) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/** dQ/dBER at a BER: −√(2π)·e^{Q²/2}, from BER = ½·erfc(Q/√2). */
function dQdBer(q: number): number {
  return -Math.sqrt(2 * Math.PI) * Math.exp((q * q) / 2);
}

/**
 * The weighted line through the points (all of them: the caller picks the usable ones). `scale` multiplies each BER
 * before it becomes Q (2 for one edge of a bathtub, where only the marks or only the spaces err). Null when the
 * points do not determine a line (fewer than two distinct u).
 */
export function fitQLine(points: readonly CountedPoint[], scale = 1): QLine | null {
  let sw = 0;
  let su = 0;
  let sq = 0;
  let suu = 0;
  let suq = 0;
  for (const p of points) {
    const ber = Math.min(0.5, (p.errors / p.bits) * scale);
    const q = berToQ(ber);
    const sigmaQ = Math.abs(dQdBer(q)) * (ber / Math.sqrt(p.errors));
    const w = 1 / (sigmaQ * sigmaQ);
    sw += w;
    su += w * p.u;
    sq += w * q;
    suu += w * p.u * p.u;
    suq += w * p.u * q;
  }
  const det = sw * suu - su * su;
  if (!(det > 0)) return null;
  const b = (sw * suq - su * sq) / det;
  const a = (sq - b * su) / sw;
  // covariance of (a, b) for weights 1/σ²: inverse of the normal matrix
  return { a, b, varA: suu / det, varB: sw / det, covAB: -su / det, used: points.length };
}

/** u where the line reaches `q`, and the half-width of its interval at z: u* = (q − a)/b. */
export function solveQLine(line: QLine, q: number, z: number): { u: number; halfWidth: number } {
  const u = (q - line.a) / line.b;
  // ∂u*/∂a = −1/b, ∂u*/∂b = −u*/b
  const varU = (line.varA + u * u * line.varB + 2 * u * line.covAB) / (line.b * line.b);
  return { u, halfWidth: z * Math.sqrt(Math.max(0, varU)) };
}
