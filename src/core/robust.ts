/**
 * Robust statistics for screens over many lanes: the median, the median absolute deviation (scaled by 1.4826 so
 * that it estimates σ for normal data) and outliers as values outside median ± k·MAD. A few bad lanes (opens,
 * shorts) do not move these, where they would move a mean and a standard deviation.
 */

/** Median of the finite values; NaN when there are none. */
export function median(values: readonly number[]): number {
  const v = values.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return Number.NaN;
  const m = v.length >> 1;
  return v.length % 2 ? v[m]! : 0.5 * (v[m - 1]! + v[m]!);
}

/** 1/Φ⁻¹(3/4): the MAD of normal data times this is its σ. */
export const MAD_TO_SIGMA = 1.482602218505602;

/** Median absolute deviation from the median, scaled to σ (MAD_TO_SIGMA); NaN without finite values. */
export function mad(values: readonly number[]): number {
  const m = median(values);
  return MAD_TO_SIGMA * median(values.filter((x) => Number.isFinite(x)).map((x) => Math.abs(x - m)));
}

export interface OutlierBand {
  median: number;
  /** Scaled MAD (σ estimate). */
  mad: number;
  low: number;
  high: number;
}

/**
 * The band median ± k·MAD of the finite values, widened to at least ±floor (so a spread far below what the
 * instrument resolves does not make every lane an outlier), and the indexes of the values outside it (a non-finite
 * value is outside).
 */
export function outliers(values: readonly number[], k: number, floor = 0): { band: OutlierBand; outside: number[] } {
  const m = median(values);
  const s = mad(values);
  const half = Math.max(k * s, floor);
  const band = { median: m, mad: s, low: m - half, high: m + half };
  const outside: number[] = [];
  values.forEach((v, i) => {
    if (!(v >= band.low && v <= band.high)) outside.push(i);
  });
  return { band, outside };
}
