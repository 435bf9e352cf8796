import { describe, expect, it } from 'vitest';
import {
  berToQ,
  berUpperBound,
  bitsForConfidence,
  confidenceLevel,
  crosstalkPenaltyDb,
  dbToLinear,
  erf,
  erfc,
  erfcinv,
  gammaQ,
  lgamma,
  linearToDb,
  normalTail,
  poissonCdf,
  poissonUpperMean,
  qToBer,
} from '../../src/core/ber.ts';

describe('special functions', () => {
  it('erfc matches reference values to 1e-12 relative', () => {
    const ref: [number, number][] = [
      [0, 1],
      [0.5, 0.4795001221869535],
      [1, 0.15729920705028513],
      [2, 0.004677734981047266],
      [3, 2.209049699858544e-5],
      [5, 1.5374597944280349e-12],
      [9 / Math.SQRT2, 2.2571768119076845e-19], // Q = 9
      [-1, 1.8427007929497148],
    ];
    for (const [x, y] of ref) expect(Math.abs(erfc(x) - y) / y, `erfc(${x})`).toBeLessThan(1e-10);
    expect(erf(0.3) + erfc(0.3)).toBeCloseTo(1, 15);
  });

  it('erfcinv inverts erfc', () => {
    for (const y of [1.9, 1, 0.5, 1e-3, 1e-9, 2e-12, 1e-20, 1e-100]) {
      expect(Math.abs(erfc(erfcinv(y)) - y) / y, `y=${y}`).toBeLessThan(1e-10);
    }
  });

  it('lgamma matches factorials', () => {
    expect(lgamma(1)).toBeCloseTo(0, 12);
    expect(lgamma(5)).toBeCloseTo(Math.log(24), 12);
    expect(lgamma(21)).toBeCloseTo(Math.log(2432902008176640000), 10);
    expect(lgamma(0.5)).toBeCloseTo(Math.log(Math.sqrt(Math.PI)), 12);
  });
});

describe('Q and BER', () => {
  it('reproduces the domain reference points', () => {
    expect(qToBer(6)).toBeCloseTo(9.8659e-10, 13);
    expect(qToBer(7)).toBeCloseTo(1.2798e-12, 15);
    expect(berToQ(1e-12)).toBeCloseTo(7.034, 3);
    expect(berToQ(1e-9)).toBeCloseTo(5.998, 3);
    expect(berToQ(2.4e-4)).toBeCloseTo(3.49, 2);
    expect(berToQ(3.8e-3)).toBeCloseTo(2.67, 2);
    expect(qToBer(7.034)).toBeGreaterThan(0.95e-12);
    expect(qToBer(7.034)).toBeLessThan(1.05e-12);
  });

  it('round-trips Q up to 9', () => {
    for (const q of [1, 3, 5, 7, 8.5, 9]) expect(berToQ(qToBer(q))).toBeCloseTo(q, 9);
  });
});

describe('confidence-level BER', () => {
  it('matches the CL multiplier table (domain.md §2.2)', () => {
    const table: [number, number[]][] = [
      [0.9, [Math.LN10 /* 2.303 */, 3.89, 5.322, 6.681]],
      [0.95, [2.996, 4.744, 6.296, 7.754]],
      [0.99, [4.605, 6.638, 8.406, 10.045]],
    ];
    for (const [cl, row] of table) {
      for (const [e, m] of row.entries()) expect(poissonUpperMean(e, cl), `cl=${cl} e=${e}`).toBeCloseTo(m, 2);
    }
  });

  it('needs 3.0e12 error-free bits for 1e-12 at 95 %', () => {
    const bits = bitsForConfidence(1e-12, 0.95);
    expect(bits).toBeGreaterThan(2.99e12);
    expect(bits).toBeLessThan(3.0e12);
    expect(bitsForConfidence(1e-9, 0.95) / 2e9).toBeCloseTo(1.498, 2); // 1.5 s at 2 Gb/s
    expect(bitsForConfidence(1e-12, 0.95, 2)).toBeCloseTo(6.296e12, -9);
  });

  it('upper bound is consistent with the Poisson CDF', () => {
    const ub = berUpperBound(1e10, 5, 0.95);
    expect(poissonCdf(5, ub * 1e10)).toBeCloseTo(0.05, 9);
    expect(confidenceLevel(1e10, 5, ub)).toBeCloseTo(0.95, 9);
    expect(berUpperBound(3e12, 0, 0.95)).toBeLessThan(1e-12);
    expect(berUpperBound(0, 0, 0.95)).toBe(Number.POSITIVE_INFINITY);
    // many errors: close to the point estimate
    const big = berUpperBound(1e9, 1e6, 0.95);
    expect(big).toBeGreaterThan(1e-3);
    expect(big).toBeLessThan(1.002e-3);
    expect(() => berUpperBound(10, 0, 1.5)).toThrow(RangeError);
  });
});

describe('BER upper bound is a probability', () => {
  // Guards the mutant "remove the `Math.min(1, …)` clamp in berUpperBound". Expected values from the CL multiplier
  // table of domain.md §2.2 (95 %: 0 errors 2.996, 3 errors 7.754), divided by hand.
  it('is clamped to 1 when the Poisson bound exceeds the bits counted', () => {
    expect(berUpperBound(1, 0, 0.95)).toBe(1); // 2.996 / 1 bit
    expect(berUpperBound(3, 3, 0.95)).toBe(1); // 7.754 / 3 bits = 2.58
    expect(berUpperBound(2.996, 0, 0.95)).toBeCloseTo(1, 3); // right at the clamp
    expect(berUpperBound(10, 3, 0.95)).toBeCloseTo(0.7754, 3); // 7.754 / 10, under the clamp: not clamped
    expect(berUpperBound(100, 0, 0.95)).toBeCloseTo(0.02996, 4);
  });
});

describe('crosstalk penalty', () => {
  it('matches the domain worked examples', () => {
    expect(crosstalkPenaltyDb(Array(4).fill(dbToLinear(-20)))).toBeCloseTo(0.18, 2);
    expect(crosstalkPenaltyDb(Array(4).fill(dbToLinear(-15)))).toBeCloseTo(0.59, 2);
    expect(crosstalkPenaltyDb(Array(4).fill(dbToLinear(-10)))).toBeCloseTo(2.2, 1);
    expect(crosstalkPenaltyDb(Array(4).fill(0.15))).toBeCloseTo(4.0, 1);
    expect(crosstalkPenaltyDb([])).toBe(0);
    expect(crosstalkPenaltyDb([0.6, 0.5])).toBe(Number.POSITIVE_INFINITY);
  });
});

// Reference values: Abramowitz & Stegun tables (erf, Γ), closed forms (Q(1, x) = e^-x, Q(3, x) = e^-x (1 + x + x²/2),
// Poisson CDF sums), and the normal-approximation expansion of the Poisson upper limit for large counts,
// λ_U ≈ (e + 1) + z·√(e + 1) + (z² − 1)/3 with z the normal quantile of the confidence level.
describe('special functions: edges and branches', () => {
  it('erfc: NaN in, NaN out; 0 far in the tail; the negative side through 2 − erfc(−x)', () => {
    expect(erfc(Number.NaN)).toBeNaN();
    expect(erfc(30)).toBe(0);
    expect(erfc(-30)).toBe(2);
    expect(erfc(2)).toBeCloseTo(0.004677734981047266, 16);
    expect(erfc(26)).toBeGreaterThan(0); // 5.66e-296: still representable
    expect(Math.abs(erfc(26) - 5.663192408856143e-296) / 5.663192408856143e-296).toBeLessThan(1e-9);
  });

  it('erf: odd, series below 2, 1 − erfc above, exactly ±1 far out', () => {
    expect(erf(-0.5)).toBeCloseTo(-0.5204998778130465, 15);
    expect(erf(0.5)).toBeCloseTo(0.5204998778130465, 15);
    expect(erf(1)).toBeCloseTo(0.8427007929497149, 15);
    expect(erf(3)).toBeCloseTo(0.9999779095030014, 15);
    expect(erf(-3)).toBeCloseTo(-0.9999779095030014, 15);
    expect(erf(20)).toBe(1);
    expect(erf(-20)).toBe(-1);
    expect(erf(0)).toBe(0);
    // tiny arguments keep their relative accuracy (1 − erfc(x) would lose it): erf(x) ≈ 2x/√π
    expect(Math.abs(erf(1e-10) / (2e-10 / Math.sqrt(Math.PI)) - 1)).toBeLessThan(1e-12);
  });

  it('erfcinv: the edges of (0, 2) and the upper half through symmetry', () => {
    for (const bad of [Number.NaN, -0.1, 2.1]) expect(erfcinv(bad)).toBeNaN();
    expect(erfcinv(0)).toBe(Number.POSITIVE_INFINITY);
    expect(erfcinv(2)).toBe(Number.NEGATIVE_INFINITY);
    expect(erfcinv(1)).toBe(0);
    expect(erfcinv(0.5)).toBeCloseTo(0.4769362762044699, 14); // erf(0.4769362762044699) = 0.5
    expect(erfcinv(1.5)).toBeCloseTo(-0.4769362762044699, 14);
    expect(erfcinv(2 * 0.05)).toBeCloseTo(1.6448536269514722 / Math.SQRT2, 13); // z(95 %) = 1.6449
  });

  it('normalTail and the dB helpers', () => {
    expect(normalTail(0)).toBe(0.5);
    expect(normalTail(1)).toBeCloseTo(0.15865525393145707, 15);
    expect(normalTail(1.6448536269514722)).toBeCloseTo(0.05, 15);
    expect(normalTail(-1)).toBeCloseTo(0.8413447460685429, 15);
    expect(linearToDb(100)).toBe(20);
    expect(linearToDb(0.5)).toBeCloseTo(-3.0103, 4);
    expect(dbToLinear(-3)).toBeCloseTo(0.5012, 4);
  });

  it('lgamma: NaN at and below 0, the reflection below 1/2, Stirling from 10 up', () => {
    expect(lgamma(0)).toBeNaN();
    expect(lgamma(-1.5)).toBeNaN();
    expect(lgamma(0.25)).toBeCloseTo(Math.log(3.625609908221908), 13); // Γ(1/4) = 3.6256099082219083119
    expect(lgamma(0.1)).toBeCloseTo(Math.log(9.513507698668732), 13); // Γ(0.1)
    expect(lgamma(10)).toBeCloseTo(Math.log(362880), 11); // 9!
    expect(lgamma(100)).toBeCloseTo(359.1342053695754, 10); // ln 99!
    expect(lgamma(10.5)).toBeCloseTo(Math.log(1133278.3889487856), 11); // Γ(10.5)
  });

  it('gammaQ: Q(a, 0) = 1, Q(a <= 0, x) = 0, closed forms on both sides of x = a + 1', () => {
    expect(gammaQ(2, 0)).toBe(1);
    expect(gammaQ(2, -1)).toBe(1);
    expect(gammaQ(0, 1)).toBe(0);
    expect(gammaQ(-1, 1)).toBe(0);
    expect(gammaQ(1, 0.5)).toBeCloseTo(Math.exp(-0.5), 15); // series side (x < a + 1)
    expect(gammaQ(1, 1.5)).toBeCloseTo(Math.exp(-1.5), 14); // continued fraction side
    expect(gammaQ(3, 2)).toBeCloseTo(5 * Math.exp(-2), 15);
    expect(gammaQ(3, 3.5)).toBeCloseTo(Math.exp(-3.5) * (1 + 3.5 + 3.5 ** 2 / 2), 14);
    // deep in the tail the relative accuracy holds (a series 1 − P would give 0 here)
    expect(Math.abs(gammaQ(1, 50) / Math.exp(-50) - 1)).toBeLessThan(1e-12);
  });

  it('poissonCdf: 0 below 0, 1 for a zero mean, sums of the pmf otherwise', () => {
    expect(poissonCdf(-1, 5)).toBe(0);
    expect(poissonCdf(0, 0)).toBe(1);
    expect(poissonCdf(3, -1)).toBe(1);
    expect(poissonCdf(0, 2)).toBeCloseTo(Math.exp(-2), 15);
    expect(poissonCdf(2, 1)).toBeCloseTo(2.5 / Math.E, 15); // e^-1 (1 + 1 + 1/2)
    expect(poissonCdf(2.7, 1)).toBeCloseTo(2.5 / Math.E, 15); // k is a count: floor
    expect(poissonCdf(4, 10)).toBeCloseTo(Math.exp(-10) * (1 + 10 + 50 + 1000 / 6 + 10000 / 24), 15);
  });
});

describe('confidence-level BER: argument checks and large counts', () => {
  it('refuses a confidence level outside (0, 1), negative errors and a target BER <= 0, saying why', () => {
    for (const cl of [0, 1, -0.5, 1.5, Number.NaN]) {
      expect(() => poissonUpperMean(0, cl)).toThrow(`confidence level must be in (0, 1), got ${cl}`);
    }
    expect(() => poissonUpperMean(-1, 0.95)).toThrow('errors must be >= 0, got -1');
    expect(() => bitsForConfidence(0, 0.95)).toThrow('target BER must be > 0, got 0');
    expect(() => bitsForConfidence(-1e-12, 0.95)).toThrow(RangeError);
    expect(poissonUpperMean(0.9, 0.95)).toBeCloseTo(2.996, 3); // a count: floor(0.9) = 0
    expect(poissonUpperMean(1e-300, 0.95)).toBeCloseTo(2.996, 3);
  });

  it('large counts follow λ_U ≈ (e + 1) + z·√(e + 1) + (z² − 1)/3, on both sides of the 1e5 switch', () => {
    const z = 1.6448536269514722; // 95 %
    const approx = (e: number) => e + 1 + z * Math.sqrt(e + 1) + (z * z - 1) / 3;
    for (const e of [50_000, 100_000, 100_001, 200_000, 1_000_000]) {
      expect(Math.abs(poissonUpperMean(e, 0.95) - approx(e)), `e=${e}`).toBeLessThan(0.05);
    }
    // one more error raises the bound by about 1 + z/(2√e) across the switch: no jump
    const step = poissonUpperMean(100_001, 0.95) - poissonUpperMean(100_000, 0.95);
    expect(step).toBeGreaterThan(0.95);
    expect(step).toBeLessThan(1.05);
  });
});
