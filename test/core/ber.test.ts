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
  lgamma,
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
