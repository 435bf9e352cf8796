/**
 * Lifetime arithmetic shared by the burn-in step and the simulated bench's ageing model (domain.md §1.8):
 * Arrhenius and current-density acceleration, L70/L50 from an exponential decay rate, and the fit of measured
 * output against stress time with its confidence.
 *
 * Model: P(t) = P0 · exp(-k·t). The fit is least squares of ln P against t (intercept free), k = -slope; its
 * one-sided upper confidence bound k_hi = k + t(conf, n-2) · SE(k) gives the lower bound of each lifetime,
 * L_lo = ln(1/f) / k_hi. A lane whose decline is not significant (k − t·SE ≤ 0) has no fitted lifetime: it is
 * "better than" L_lo (or, when even k_hi ≤ 0, better than the stress time it survived).
 */
import { erfcinv } from './ber.ts';

/** Boltzmann constant, eV/K. */
export const K_B_EV = 8.617333262e-5;
/** Output fractions of L70 and L50. */
export const L70 = 0.7;
export const L50 = 0.5;

/** Arrhenius acceleration factor of stress at tempC relative to refC: exp(Ea/k · (1/T_ref − 1/T)). */
export function arrheniusFactor(tempC: number, refC: number, activationEv: number): number {
  const t = tempC + 273.15;
  const tr = refC + 273.15;
  return Math.exp((activationEv / K_B_EV) * (1 / tr - 1 / t));
}

/** Current (density) acceleration (J/J_ref)^m; 0 without current. Same emitter: the ratio of currents will do. */
export function currentFactor(j: number, jRef: number, exponent: number): number {
  if (!(j > 0)) return 0;
  return (j / jRef) ** exponent;
}

/** Hours until the output falls to `fraction` (0.7 for L70) at a decay rate k (1/h); Infinity for k ≤ 0. */
export function lifetimeAtRate(k: number, fraction: number): number {
  return k > 0 ? Math.log(1 / fraction) / k : Number.POSITIVE_INFINITY;
}

/** Student-t quantile (one-sided p, df ≥ 1): exact for df 1 and 2, Cornish-Fisher expansion above. */
export function studentTQuantile(p: number, df: number): number {
  if (!(p > 0 && p < 1) || !(df >= 1))
    throw new RangeError(`t quantile needs 0 < p < 1 and df >= 1 (p=${p}, df=${df})`);
  // Stryker disable next-line ArithmeticOperator: tan has period π, so p + 0.5 gives the same
  if (df === 1) return Math.tan(Math.PI * (p - 0.5));
  if (df === 2) return (2 * p - 1) / Math.sqrt(2 * p * (1 - p));
  const z = Math.SQRT2 * erfcinv(2 * (1 - p));
  const z3 = z ** 3;
  const z5 = z ** 5;
  const z7 = z ** 7;
  return (
    z +
    (z3 + z) / (4 * df) +
    (5 * z5 + 16 * z3 + 3 * z) / (96 * df ** 2) +
    (3 * z7 + 19 * z5 + 17 * z3 - 15 * z) / (384 * df ** 3) +
    (79 * z ** 9 + 776 * z7 + 1482 * z5 - 1920 * z3 - 945 * z) / (92160 * df ** 4)
  );
}

export interface DecayFit {
  /** 'fitted': significant decline; 'better-than': none that the data shows; 'insufficient': < 3 usable points. */
  status: 'fitted' | 'better-than' | 'insufficient';
  /** Points used (finite, positive power). */
  used: number;
  /** Decay rate k, 1/h, and its one-sided upper bound at the confidence. */
  k: number;
  kHigh: number;
  /** Fitted lifetimes at the stress (hours), Infinity when not fitted. */
  l70: number;
  l50: number;
  /** Lower bounds of the lifetimes at the confidence ("better than" values for status 'better-than'). */
  l70Lower: number;
  l50Lower: number;
}

/** Fits ln P against t (hours). Non-finite or non-positive powers are left out (a dead lane is not a decay). */
export function fitDecay(hours: readonly number[], power: readonly number[], confidence = 0.95): DecayFit {
  const xs: number[] = [];
  const ys: number[] = [];
  hours.forEach((t, i) => {
    const p = power[i];
    if (Number.isFinite(t) && p !== undefined && Number.isFinite(p) && p > 0) {
      xs.push(t);
      ys.push(Math.log(p));
    }
  });
  const n = xs.length;
  const span = n > 0 ? Math.max(...xs) - Math.min(...xs) : 0;
  const none = { k: Number.NaN, kHigh: Number.NaN, l70: Number.POSITIVE_INFINITY, l50: Number.POSITIVE_INFINITY };
  if (n < 3 || !(span > 0)) return { status: 'insufficient', used: n, ...none, l70Lower: span, l50Lower: span };
  const mx = xs.reduce((s, x) => s + x, 0) / n;
  const my = ys.reduce((s, y) => s + y, 0) / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    // Stryker disable next-line ArithmeticOperator: Σ(x − x̄) = Σ(y − ȳ) = 0, so + x̄ or + ȳ adds nothing
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxy / sxx;
  const intercept = my - slope * mx;
  let sse = 0;
  for (let i = 0; i < n; i++) sse += (ys[i] - intercept - slope * xs[i]) ** 2;
  const se = Math.sqrt(sse / (n - 2) / sxx);
  const k = -slope;
  const kHigh = k + studentTQuantile(confidence, n - 2) * se;
  const kLow = k - studentTQuantile(confidence, n - 2) * se;
  // Stryker disable next-line EqualityOperator: kHigh exactly 0 is a point of measure zero (and gives Infinity)
  const lower = (f: number) => (kHigh > 0 ? lifetimeAtRate(kHigh, f) : span);
  if (!(kLow > 0)) {
    const inf = Number.POSITIVE_INFINITY;
    return { status: 'better-than', used: n, k, kHigh, l70: inf, l50: inf, l70Lower: lower(L70), l50Lower: lower(L50) };
  }
  return {
    status: 'fitted',
    used: n,
    k,
    kHigh,
    l70: lifetimeAtRate(k, L70),
    l50: lifetimeAtRate(k, L50),
    l70Lower: lower(L70),
    l50Lower: lower(L50),
  };
}
