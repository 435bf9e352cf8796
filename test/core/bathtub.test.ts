/**
 * The bathtub fit against hand-made data: an eye whose levels sit at Q = 9 from the centre threshold with equal
 * noise, so each edge's Q falls in a straight line to 0 at the level (t = 0 and t = 1): Q_low(t) = 18·t,
 * Q_high(t) = 18·(1 − t). Each edge errs on half the bits: BER = ½·Φc(Q). At 1e-12 the edge's Q is the one with
 * ½·Φc(Q) = 1e-12, Φc(Q) = 2e-12, Q = 6.94 (from the normal tail, computed here by bisection on a series written
 * out in this test), so the edges are at 6.94/18 = 0.3856 and 1 − 0.3856: an opening of 0.2289.
 */
import { describe, expect, it } from 'vitest';
import { fitBathtub } from '../../src/core/bathtub.ts';

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
});
