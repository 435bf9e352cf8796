/**
 * The bathtub fit against hand-made data: an eye whose levels sit at Q = 9 from the centre threshold with equal
 * noise, so each edge's Q falls in a straight line to 0 at the level (t = 0 and t = 1): Q_low(t) = 18·t,
 * Q_high(t) = 18·(1 − t). Each edge errs on half the bits: BER = ½·Φc(Q). At 1e-12 the edge's Q is the one with
 * ½·Φc(Q) = 1e-12, Φc(Q) = 2e-12, Q = 6.94 (from the normal tail, computed here by bisection on a series written
 * out in this test), so the edges are at 6.94/18 = 0.3856 and 1 − 0.3856: an opening of 0.2289.
 */
import { describe, expect, it } from 'vitest';
import { fitBathtub } from '../../src/core/bathtub.ts';
import { fitQCurve } from '../../src/core/q-curve.ts';

/** Normal tail Φc(q) (Abramowitz–Stegun 7.1.26 via erfc), written out here, not the module's. */
function tail(q: number): number {
  const x = q / Math.SQRT2;
  const t = 1 / (1 + 0.3275911 * x);
  const poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  return 0.5 * poly * Math.exp(-x * x);
}

function qAt(ber: number): number {
  let lo = 0;
  let hi = 40;
  for (let i = 0; i < 100; i++) {
    const mid = (lo + hi) / 2;
    if (0.5 * tail(mid) > ber) lo = mid;
    else hi = mid;
  }
  return (lo + hi) / 2;
}

const point = (t: number, bits: number, slope = 18) => {
  const q = t < 0.5 ? slope * t : slope * (1 - t);
  return { t, bits, errors: Math.round(0.5 * tail(q) * bits) };
};

describe('bathtub fit on the Q scale', () => {
  it('recovers both edges at 1e-12 and the opening between them from points far from them', () => {
    const pts = [0.15, 0.2, 0.25, 0.3, 0.7, 0.75, 0.8, 0.85].map((t) => point(t, 1e10));
    const f = fitBathtub(pts, { targetBer: 1e-12, confidence: 0.95 });
    const edge = qAt(1e-12) / 18;
    expect(f.status).toBe('fit');
    expect(f.low.threshold!).toBeCloseTo(edge, 2);
    expect(f.high.threshold!).toBeCloseTo(1 - edge, 2);
    expect(f.opening!).toBeCloseTo(1 - 2 * edge, 2);
    expect(f.halfWidth!).toBeGreaterThan(0);
    expect(f.halfWidth!).toBeLessThan(0.02);
    // 0.15: Q 2.7, BER 1.7e-3, past the knee: not fitted
    expect(f.low.used).toBe(3);
  });

  it('an asymmetric eye: the opening follows each edge on its own', () => {
    const pts = [
      ...[0.1, 0.15, 0.2].map((t) => point(t, 1e10, 30)), // a steeper low edge (less noise on the spaces)
      ...[0.75, 0.8, 0.85].map((t) => point(t, 1e10, 18)),
    ];
    const f = fitBathtub(pts, { targetBer: 1e-12, confidence: 0.95 });
    expect(f.low.threshold!).toBeCloseTo(qAt(1e-12) / 30, 2);
    expect(f.high.threshold!).toBeCloseTo(1 - qAt(1e-12) / 18, 2);
  });

  it('an edge without enough errors is "better than" its last zero-error gate, never a fitted number', () => {
    const pts = [
      ...[0.15, 0.2, 0.25].map((t) => point(t, 1e10)),
      { t: 0.9, bits: 1e10, errors: 0 },
      { t: 0.95, bits: 1e10, errors: 0 },
    ];
    const f = fitBathtub(pts, { targetBer: 1e-12, confidence: 0.95 });
    expect(f.status).toBe('better-than');
    expect(f.opening).toBeNull();
    expect(f.high.status).toBe('better-than');
    expect(f.high.bound).toBe(0.95);
    expect(f.atLeast!).toBeCloseTo(0.95 - qAt(1e-12) / 18, 2);
  });

  it('errors that do not fall toward the centre are a floor', () => {
    const pts = [0.2, 0.25, 0.3, 0.7, 0.75, 0.8].map((t) => ({ t, bits: 1e10, errors: 1000 }));
    const f = fitBathtub(pts, { targetBer: 1e-12, confidence: 0.95 });
    expect(f.status).toBe('floor');
    expect(f.opening).toBeNull();
  });

  it("each edge's interval is the Q-curve's at twice the BER: half its width, and the opening's in quadrature", () => {
    const lowPts = [0.2, 0.25, 0.3].map((t) => point(t, 1e9));
    const highPts = [0.7, 0.75, 0.8].map((t) => point(t, 1e9));
    const f = fitBathtub([...lowPts, ...highPts], { targetBer: 1e-12, confidence: 0.95 });
    const curve = fitQCurve(
      lowPts.map((p) => ({ u: p.t, bits: p.bits, errors: p.errors, at: p.t })),
      { targetBer: 2e-12, confidence: 0.95 },
      'rising',
    );
    // the same line: BER × 2 on every point and on the target
    const twice = fitQCurve(
      lowPts.map((p) => ({ u: p.t, bits: p.bits / 2, errors: p.errors, at: p.t })),
      { targetBer: 2e-12, confidence: 0.95 },
      'rising',
    );
    expect(curve.status).toBe('fit');
    expect(f.low.threshold!).toBeCloseTo(twice.uAtTarget!, 12);
    const [lo, hi] = twice.interval!;
    expect(f.low.halfWidth!).toBeCloseTo((hi - lo) / 2, 12);
    expect(f.halfWidth!).toBeCloseTo(Math.hypot(f.low.halfWidth!, f.high.halfWidth!), 12);
  });

  it('a point at the centre belongs to neither edge', () => {
    const pts = [0.2, 0.25, 0.3, 0.7, 0.75, 0.8].map((t) => point(t, 1e10));
    const without = fitBathtub(pts, { targetBer: 1e-12, confidence: 0.95 });
    const withCentre = fitBathtub([...pts, { t: 0.5, bits: 1e10, errors: 50 }], { targetBer: 1e-12, confidence: 0.95 });
    expect(withCentre).toEqual(without);
    expect(withCentre.low.used).toBe(3);
    expect(withCentre.high.used).toBe(3);
  });

  it('one edge a floor and the other fitted: the bathtub is a floor, with no "at least"', () => {
    const pts = [
      ...[0.2, 0.25, 0.3].map((t) => point(t, 1e10)),
      ...[0.7, 0.75, 0.8].map((t) => ({ t, bits: 1e10, errors: 1000 })),
    ];
    const f = fitBathtub(pts, { targetBer: 1e-12, confidence: 0.95 });
    expect(f.low.status).toBe('fit');
    expect(f.high.status).toBe('floor');
    expect(f.status).toBe('floor');
    expect(f).not.toHaveProperty('atLeast');
    const mirrored = fitBathtub(
      pts.map((p) => ({ ...p, t: 1 - p.t })),
      { targetBer: 1e-12, confidence: 0.95 },
    );
    expect([mirrored.low.status, mirrored.high.status, mirrored.status]).toEqual(['floor', 'fit', 'floor']);
  });

  it('both edges without errors: the opening is at least the span between their zero-error gates', () => {
    const clean = (t: number) => ({ t, bits: 1e10, errors: 0 });
    const f = fitBathtub([clean(0.1), clean(0.2), clean(0.85), clean(0.9)], { targetBer: 1e-12, confidence: 0.95 });
    expect(f.status).toBe('better-than');
    expect(f.low.bound).toBe(0.1);
    expect(f.high.bound).toBe(0.9);
    expect(f.atLeast!).toBeCloseTo(0.8, 12);
    // an edge with nothing counted on it has no bound, and so no "at least"
    const oneSided = fitBathtub([clean(0.1), clean(0.2)], { targetBer: 1e-12, confidence: 0.95 });
    expect(oneSided.status).toBe('better-than');
    expect(oneSided.high).not.toHaveProperty('bound');
    expect(oneSided).not.toHaveProperty('atLeast');
    const otherSide = fitBathtub([clean(0.8), clean(0.9)], { targetBer: 1e-12, confidence: 0.95 });
    expect(otherSide.low).not.toHaveProperty('bound');
    expect(otherSide).not.toHaveProperty('atLeast');
  });
});
