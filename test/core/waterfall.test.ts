/**
 * The waterfall fit against hand-made data: a lane whose Q is 10 at its operating point and falls in proportion to
 * the signal (thermal noise). Expected figures come from the domain reference, not from the code: BER 1e-12 needs
 * Q = 7.034 (domain.md §1.5), so the lane reaches 1e-12 at u = 0.7034, x = 10·log10(0.7034) = −1.528 dB.
 */
import { describe, expect, it } from 'vitest';
import { fitWaterfall, zForConfidence } from '../../src/core/waterfall.ts';

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
