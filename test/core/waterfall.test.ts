/**
 * The waterfall fit against hand-made data: a lane whose Q is 10 at its operating point and falls in proportion to
 * the signal (thermal noise). Expected figures come from the domain reference, not from the code: BER 1e-12 needs
 * Q = 7.034 (domain.md §1.5), so the lane reaches 1e-12 at u = 0.7034, x = 10·log10(0.7034) = −1.528 dB.
 */
import { describe, expect, it } from 'vitest';
import { fitQCurve, type QPoint } from '../../src/core/q-curve.ts';
import { fittedBer, fitWaterfall, zForConfidence } from '../../src/core/waterfall.ts';

/** BER of Q, by the standard normal tail, written out here (not the module's): ½·erfc(Q/√2) via a series. */
function berOf(q: number): number {
  // Abramowitz–Stegun 7.1.26 complementary error function (|error| < 1.5e-7 relative here is plenty)
  const x = q / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp(-x * x);
}

const lane = (x: number, bits: number) => {
  const q = 10 * 10 ** (x / 10);
  return { x, bits, errors: Math.round(berOf(q) * bits) };
};

describe('waterfall fit on the Q scale', () => {
  it('recovers the level where a thermal-noise lane reaches 1e-12 from error-counted points far from it', () => {
    const pts = [lane(-3.5, 1e9), lane(-4, 1e9), lane(-4.5, 1e9), lane(-6, 1e9)]; // −6 dB: BER 6e-3, past the knee
    const f = fitWaterfall(pts, { targetBer: 1e-12, confidence: 0.95 });
    expect(f.status).toBe('fit');
    expect(f.used).toBe(3);
    expect(f.xAtTarget!).toBeCloseTo(-1.528, 1);
    expect(f.b).toBeCloseTo(10, 0);
    const [lo, hi] = f.interval!;
    expect(lo).toBeLessThan(f.xAtTarget!);
    expect(hi).toBeGreaterThan(f.xAtTarget!);
    expect(hi - lo).toBeLessThan(0.5);
  });

  it('a lane with too few errors is "better than" the zero-error bound at its weakest clean point', () => {
    const f = fitWaterfall(
      [
        { x: -1, bits: 1e10, errors: 0 },
        { x: -2, bits: 1e10, errors: 0 },
        { x: -3, bits: 1e10, errors: 2 },
      ],
      { targetBer: 1e-12, confidence: 0.95 },
    );
    expect(f.status).toBe('better-than');
    expect(f.xAtTarget).toBeNull();
    // zero errors in 1e10 bits at 95 %: −ln(0.05)/1e10 = 2.996e-10 (domain.md §2.2: 2.996/N)
    expect(f.betterThan).toEqual({ x: -2, ber: expect.closeTo(2.996e-10, 12) });
    // a level never counted (no bits: the gate did not run) is neither a clean point nor a fitted one
    const uncounted = fitWaterfall(
      [
        { x: -4, bits: 0, errors: 0 },
        { x: -1, bits: 1e10, errors: 0 },
        { x: -2, bits: 1e10, errors: 0 },
        { x: -3, bits: 1e10, errors: 2 },
        { x: -5, bits: 0, errors: 7 },
      ],
      { targetBer: 1e-12, confidence: 0.95, minErrors: 1 },
    );
    expect(uncounted.betterThan).toEqual({ x: -2, ber: expect.closeTo(2.996e-10, 12) });
    expect(uncounted.status).toBe('better-than');
  });

  it('errors that do not fall with more signal are a floor, never extrapolated', () => {
    const f = fitWaterfall(
      [
        { x: -1, bits: 1e8, errors: 1000 },
        { x: -2, bits: 1e8, errors: 990 },
        { x: -3, bits: 1e8, errors: 1010 },
      ],
      { targetBer: 1e-12, confidence: 0.95 },
    );
    expect(f.status).toBe('floor');
    expect(f.xAtTarget).toBeNull();
  });

  it('z of a two-sided interval: 1.960 at 95 %, 2.576 at 99 % (normal table)', () => {
    expect(zForConfidence(0.95)).toBeCloseTo(1.96, 3);
    expect(zForConfidence(0.99)).toBeCloseTo(2.576, 3);
  });
});

/** Q of a BER, by bisection on berOf (this file's own tail, not the module's). */
function qOf(ber: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 200; i++) {
    const mid = (lo + hi) / 2;
    if (berOf(mid) > ber) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

/**
 * The same weighted fit written out independently: weights 1/σ_Q² with σ_Q = |dQ/dBER|·BER/√errors,
 * dQ/dBER = √(2π)·e^{Q²/2}; the 2×2 normal equations solved by Cramer's rule, the covariance as the inverse of the
 * normal matrix, u⋆ and its delta-method variance from the Jacobian (−1/b, −u⋆/b).
 */
function referenceFit(pts: readonly QPoint[], targetBer: number, z: number) {
  const rows = pts.map((p) => {
    const ber = p.errors / p.bits;
    const q = qOf(ber);
    const sigma = Math.sqrt(2 * Math.PI) * Math.exp((q * q) / 2) * (ber / Math.sqrt(p.errors));
    return { u: p.u, q, w: 1 / sigma ** 2 };
  });
  const n = [
    [0, 0],
    [0, 0],
  ];
  const r = [0, 0];
  for (const { u, q, w } of rows) {
    n[0]![0]! += w;
    n[0]![1]! += w * u;
    n[1]![0]! += w * u;
    n[1]![1]! += w * u * u;
    r[0]! += w * q;
    r[1]! += w * u * q;
  }
  const det = n[0]![0]! * n[1]![1]! - n[0]![1]! * n[1]![0]!;
  const a = (r[0]! * n[1]![1]! - n[0]![1]! * r[1]!) / det;
  const b = (n[0]![0]! * r[1]! - n[1]![0]! * r[0]!) / det;
  const cov = [
    [n[1]![1]! / det, -n[0]![1]! / det],
    [-n[1]![0]! / det, n[0]![0]! / det],
  ];
  const uStar = (qOf(targetBer) - a) / b;
  const j = [-1 / b, -uStar / b];
  const varU = j[0]! * j[0]! * cov[0]![0]! + 2 * j[0]! * j[1]! * cov[0]![1]! + j[1]! * j[1]! * cov[1]![1]!;
  return { a, b, uStar, half: z * Math.sqrt(varU) };
}

/** A point on the line Q = a + b·u, counted in `bits` bits. */
const onLine = (a: number, b: number, u: number, bits: number): QPoint => ({
  u,
  bits,
  errors: Math.round(berOf(a + b * u) * bits),
  at: u,
});

describe('Q curve read at a target (fitQCurve), rising and falling', () => {
  it('falling (Q against the bit rate): the rate where the line reaches 1e-9, as the independent fit gives it', () => {
    // Q = 14 − 3·(rate in Gb/s): Q = 6 (BER 1e-9, domain.md §1.5: Q ≈ 6.0) at 2.667 Gb/s
    const pts = [3.0, 3.2, 3.4, 3.6].map((u) => onLine(14, -3, u, 1e9));
    const f = fitQCurve(pts, { targetBer: 1e-9, confidence: 0.95 }, 'falling');
    const ref = referenceFit(pts, 1e-9, 1.959964);
    expect(f.status).toBe('fit');
    expect(f.used).toBe(4);
    expect(f.a).toBeCloseTo(ref.a, 2); // the reference's Q comes from a 1.5e-7 erfc approximation
    expect(f.b).toBeCloseTo(ref.b, 2);
    expect(f.b).toBeLessThan(0);
    expect(f.uAtTarget!).toBeCloseTo(ref.uStar, 3);
    expect(f.uAtTarget!).toBeCloseTo(2.667, 1);
    expect(f.interval![0]).toBeCloseTo(ref.uStar - ref.half, 3);
    expect(f.interval![1]).toBeCloseTo(ref.uStar + ref.half, 3);
    // the same points read as 'rising' do not rise: a floor
    expect(fitQCurve(pts, { targetBer: 1e-9, confidence: 0.95 }, 'rising').status).toBe('floor');
  });

  it("rising: the interval is the independent fit's, and a wider confidence widens it", () => {
    const pts = [0.3, 0.4, 0.5].map((u) => onLine(1, 8, u, 1e8));
    const f95 = fitQCurve(pts, { targetBer: 1e-12, confidence: 0.95 }, 'rising');
    const ref = referenceFit(pts, 1e-12, 1.959964);
    expect(f95.uAtTarget!).toBeCloseTo(ref.uStar, 3);
    expect(f95.interval![1] - f95.interval![0]).toBeCloseTo(2 * ref.half, 3);
    const f99 = fitQCurve(pts, { targetBer: 1e-12, confidence: 0.99 }, 'rising');
    expect((f99.interval![1] - f99.interval![0]) / (f95.interval![1] - f95.interval![0])).toBeCloseTo(
      2.575829 / 1.959964,
      4,
    );
  });

  it('which points count: at least minErrors errors, a BER up to maxBer, bits counted; two are enough', () => {
    const o = { targetBer: 1e-12, confidence: 0.95, minErrors: 5, maxBer: 1e-3 };
    const two: QPoint[] = [
      { u: 0.5, bits: 1e6, errors: 5, at: 0.5 }, // exactly minErrors: used
      { u: 0.3, bits: 1e6, errors: 1000, at: 0.3 }, // exactly maxBer: used
      { u: 0.2, bits: 1e6, errors: 1001, at: 0.2 }, // above maxBer: not
      { u: 0.6, bits: 1e6, errors: 4, at: 0.6 }, // under minErrors: not
      { u: 0.1, bits: 0, errors: 0, at: 0.1 }, // no bits: neither fitted nor a clean bound
    ];
    const f = fitQCurve(two, o, 'rising');
    expect(f.status).toBe('fit');
    expect(f.used).toBe(2);
    expect(f.betterThan).toBeUndefined();
    const one = fitQCurve(two.slice(1), o, 'rising');
    expect(one.status).toBe('better-than');
    expect(one.used).toBe(1);
    expect(one.a).toBeNaN();
    expect(one.uAtTarget).toBeNull();
    expect(one.interval).toBeNull();
  });

  it('"better than" names the clean gate nearest the failing side: the least signal rising, the highest rate falling', () => {
    const clean: QPoint[] = [
      { u: 2, bits: 1e9, errors: 0, at: 2 },
      { u: 3, bits: 2e9, errors: 0, at: 3 },
      { u: 1, bits: 4e9, errors: 0, at: 1 },
    ];
    const o = { targetBer: 1e-9, confidence: 0.95 };
    // zero errors at 95 %: −ln(0.05)/N = 2.995732/N (domain.md §2.2)
    expect(fitQCurve(clean, o, 'rising').betterThan).toEqual({ at: 1, ber: expect.closeTo(2.995732 / 4e9, 15) });
    expect(fitQCurve(clean, o, 'falling').betterThan).toEqual({ at: 3, ber: expect.closeTo(2.995732 / 2e9, 15) });
  });

  it('points all at one level cannot make a line: better than, with the clean bound kept', () => {
    const f = fitQCurve(
      [
        { u: 0.5, bits: 1e6, errors: 50, at: 0.5 },
        { u: 0.5, bits: 1e6, errors: 60, at: 0.5 },
        { u: 0.9, bits: 1e9, errors: 0, at: 0.9 },
      ],
      { targetBer: 1e-12, confidence: 0.95 },
      'rising',
    );
    expect(f.status).toBe('better-than');
    expect(f.used).toBe(2);
    expect(f.uAtTarget).toBeNull();
    expect(f.betterThan).toEqual({ at: 0.9, ber: expect.closeTo(2.996e-9, 12) });
  });

  it('a line that reaches the target only at a negative level is a floor, not a number', () => {
    // Q = 3 + 0.5·u: BER 0.02 needs Q = 2.054 (Q-function table), reached at u = (2.054 − 3)/0.5 < 0
    const pts = [2, 3, 4].map((u) => onLine(3, 0.5, u, 1e9));
    const f = fitQCurve(pts, { targetBer: 0.02, confidence: 0.95 }, 'rising');
    expect(f.status).toBe('floor');
    expect(f.uAtTarget).toBeNull();
    expect(f.interval).toBeNull();
    expect(Number.isFinite(f.a) && Number.isFinite(f.b)).toBe(true);
  });
});

describe('waterfall on the dB scale', () => {
  it('a floor keeps no "better than" even with clean gates; an interval reaching u ≤ 0 opens to −∞ dB', () => {
    const floor = fitWaterfall(
      [
        { x: -1, bits: 1e8, errors: 1000 },
        { x: -2, bits: 1e8, errors: 990 },
        { x: -3, bits: 1e8, errors: 1010 },
        { x: 0, bits: 1e9, errors: 0 },
      ],
      { targetBer: 1e-12, confidence: 0.95 },
    );
    expect(floor.status).toBe('floor');
    expect(floor.betterThan).toBeUndefined();
    // two noisy points close together: the interval's low end is below u = 0
    const wide = fitWaterfall(
      [
        { x: -6, bits: 1e5, errors: 6 },
        { x: -5.9, bits: 1e5, errors: 5 },
      ],
      { targetBer: 1e-15, confidence: 0.99 },
    );
    if (wide.status === 'fit') expect(wide.interval![0]).toBe(Number.NEGATIVE_INFINITY);
    else expect(wide.status).toBe('floor');
  });

  it('fittedBer reads the line back: Q = 1 + 5·10^(0/10) = 6 gives 9.87e-10 (Q-function table)', () => {
    expect(fittedBer({ a: 1, b: 5 }, 0)).toBeCloseTo(9.866e-10, 12);
    // −3.0103 dB halves u: Q = 1 + 2.5 = 3.5 gives 2.326e-4
    expect(fittedBer({ a: 1, b: 5 }, -10 * Math.log10(2))).toBeCloseTo(2.326e-4, 6);
  });
});
