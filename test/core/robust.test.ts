import { describe, expect, it } from 'vitest';
import { mad, median, outliers } from '../../src/core/robust.ts';

describe('median, MAD and outliers', () => {
  it('median of odd and even counts, ignoring non-finite values', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5, Number.POSITIVE_INFINITY, 1])).toBe(3);
    expect(median([])).toBeNaN();
  });

  it('MAD is scaled to σ: for {1,2,3,4,100} the deviations from 3 are {2,1,0,1,97}, median 1 → 1.4826', () => {
    expect(mad([1, 2, 3, 4, 100])).toBeCloseTo(1.4826, 4);
    expect(mad([5, 5, 5])).toBe(0);
  });

  it('flags values outside median ± k·MAD: one short and one open among 20 healthy V_f, not the healthy ones', () => {
    const healthy = Array.from({ length: 20 }, (_, i) => 2.5 + 0.001 * ((i * 7) % 11) - 0.005);
    const vf = [...healthy, 0.02, 9.9]; // a short (≈0 V) and an open (at the compliance limit)
    const r = outliers(vf, 5);
    expect(r.outside).toEqual([20, 21]);
    expect(r.band.median).toBeCloseTo(2.5, 2);
    expect(r.band.high - r.band.median).toBeCloseTo(5 * r.band.mad, 12);
    // a healthy lane 6 MADs away is outside at k = 5, inside at k = 7
    const far = [...healthy, r.band.median + 6 * r.band.mad];
    expect(outliers(far, 5).outside).toEqual([20]);
    expect(outliers(far, 7).outside).toEqual([]);
  });

  it('the floor keeps identical values from making every tiny difference an outlier; NaN is outside', () => {
    const r = outliers([1, 1, 1, 1.0001, Number.NaN], 3, 0.01);
    expect(r.band.mad).toBe(0);
    expect(r.outside).toEqual([4]);
    expect(outliers([1, 1, 1, 1.0001], 3).outside).toEqual([3]);
  });
});
