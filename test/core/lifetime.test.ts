import { describe, expect, it } from 'vitest';
import {
  arrheniusFactor,
  currentFactor,
  fitDecay,
  L70,
  lifetimeAtRate,
  studentTQuantile,
} from '../../src/core/lifetime.ts';

describe('lifetime arithmetic (src/core/lifetime.ts)', () => {
  it('t quantiles match the tables (one-sided 95 %)', () => {
    expect(studentTQuantile(0.95, 1)).toBeCloseTo(6.3138, 3);
    expect(studentTQuantile(0.95, 2)).toBeCloseTo(2.92, 2);
    expect(studentTQuantile(0.95, 3)).toBeCloseTo(2.3534, 2);
    expect(studentTQuantile(0.95, 10)).toBeCloseTo(1.8125, 3);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 3);
    // the few points a burn-in has: every term of the expansion counts here (tables: NIST/SEMATECH 1.3.6.7.2)
    const table95 = { 4: 2.1318, 5: 2.015, 6: 1.9432, 7: 1.8946, 8: 1.8595 };
    for (const [df, t] of Object.entries(table95)) expect(studentTQuantile(0.95, Number(df))).toBeCloseTo(t, 3);
    expect(studentTQuantile(0.99, 8)).toBeCloseTo(2.8965, 3);
    expect(studentTQuantile(0.99, 5)).toBeCloseTo(3.3649, 2);
    // the lower tail mirrors the upper one
    expect(studentTQuantile(0.05, 10)).toBeCloseTo(-1.8125, 3);
    expect(studentTQuantile(0.05, 2)).toBeCloseTo(-2.92, 2);
  });

  it('refuses a probability outside (0, 1) or fewer than one degree of freedom, saying which', () => {
    for (const [p, df] of [
      [0, 5],
      [1, 5],
      [-0.1, 5],
      [1.2, 5],
      [0.95, 0.5],
      [0.95, Number.NaN],
    ] as const) {
      expect(() => studentTQuantile(p, df)).toThrow(
        new RangeError(`t quantile needs 0 < p < 1 and df >= 1 (p=${p}, df=${df})`),
      );
    }
  });

  it('current acceleration (J/J_ref)^m, none without current; no decay means no end of life', () => {
    expect(currentFactor(4e-4, 2e-4, 2)).toBeCloseTo(4, 12);
    expect(currentFactor(1e-4, 2e-4, 2)).toBeCloseTo(0.25, 12);
    expect(currentFactor(0, 2e-4, 2)).toBe(0);
    expect(currentFactor(-1e-4, 2e-4, 2)).toBe(0);
    expect(lifetimeAtRate(0, L70)).toBe(Number.POSITIVE_INFINITY);
    expect(lifetimeAtRate(-1e-5, L70)).toBe(Number.POSITIVE_INFINITY);
  });

  it("the decay's upper bound is k + t(CL, n−2)·se of the least-squares slope", () => {
    const hours = [0, 24, 48, 72, 96];
    const noise = [0, 1e-3, -1e-3, 1e-3, 0];
    const lnP = hours.map((t, i) => -2e-4 * t + noise[i]!);
    const fit = fitDecay(
      hours,
      lnP.map((y) => Math.exp(y)),
    );
    // by hand: x̄ = 48, Σ(x−x̄)² = 5760; the slope and its residuals, then se = √(SSE/(n−2)/Sxx)
    const sxx = hours.reduce((s, x) => s + (x - 48) ** 2, 0);
    const ybar = lnP.reduce((s, y) => s + y, 0) / 5;
    const slope = hours.reduce((s, x, i) => s + (x - 48) * (lnP[i]! - ybar), 0) / sxx;
    const sse = hours.reduce((s, x, i) => s + (lnP[i]! - (ybar + slope * (x - 48))) ** 2, 0);
    const se = Math.sqrt(sse / 3 / sxx);
    expect(sxx).toBe(5760);
    expect(fit.k).toBeCloseTo(-slope, 12);
    expect(fit.kHigh / (-slope + 2.3534 * se)).toBeCloseTo(1, 3); // t(0.95, 3) = 2.3534
    expect(fit.l70Lower).toBeCloseTo(Math.log(1 / 0.7) / fit.kHigh, 6);
  });

  it('too few points, or all at one time, are insufficient: the bound is the span the lane survived', () => {
    const none = { status: 'insufficient', k: Number.NaN, kHigh: Number.NaN, l70: Number.POSITIVE_INFINITY };
    expect(fitDecay([], [])).toMatchObject({ ...none, used: 0, l70Lower: 0, l50Lower: 0 });
    expect(fitDecay([10, 30], [1, 0.9])).toMatchObject({ ...none, used: 2, l70Lower: 20 });
    expect(fitDecay([5, 5, 5], [1, 0.9, 0.8])).toMatchObject({ ...none, used: 3, l70Lower: 0 });
    // three points are enough
    expect(fitDecay([0, 8, 16], [1, Math.exp(-8e-3), Math.exp(-16e-3)]).status).toBe('fitted');
    // unusable points are left out: a time that is not a number, a power missing, not finite or not positive
    const kept = fitDecay(
      [0, Number.NaN, 8, 16, 24, 32],
      [1, 0.5, Math.exp(-8e-3), Number.POSITIVE_INFINITY, Math.exp(-24e-3)],
    );
    expect(kept.used).toBe(3);
    expect(kept.k).toBeCloseTo(1e-3, 9);
  });

  it('fits an exact exponential decay: L70 = ln(1/0.7)/k, bound equal to it without scatter', () => {
    const k = 2.5e-5;
    const hours = [0, 8, 16, 24, 48, 96];
    const fit = fitDecay(
      hours,
      hours.map((t) => 1e-4 * Math.exp(-k * t)),
    );
    expect(fit.status).toBe('fitted');
    expect(fit.k).toBeCloseTo(k, 12);
    expect(fit.l70).toBeCloseTo(Math.log(1 / 0.7) / k, 3); // 14266.9 h
    expect(fit.l70Lower).toBeCloseTo(fit.l70, 0);
    expect(fit.l50).toBeCloseTo(Math.log(2) / k, 3);
    expect(lifetimeAtRate(k, L70)).toBeCloseTo(14266.99, 1);
  });

  it('gives a lower bound below the fit with scatter, and "better than" when the data shows no decline', () => {
    const hours = [0, 12, 24, 36, 48, 60, 72, 84, 96];
    const wobble = [1, -1, 0.5, -0.5, 1, -1, 0.2, -0.2, 0];
    const fit = fitDecay(
      hours,
      hours.map((t, i) => Math.exp(-1e-4 * t + 2e-4 * wobble[i])),
    );
    expect(fit.status).toBe('fitted');
    expect(fit.l70Lower).toBeLessThan(fit.l70);
    expect(fit.l70Lower).toBeGreaterThan(0.5 * fit.l70);
    const flat = fitDecay(
      hours,
      hours.map((_, i) => 1 + 1e-4 * wobble[i]),
    );
    expect(flat.status).toBe('better-than');
    expect(flat.l70).toBe(Number.POSITIVE_INFINITY);
    expect(flat.l70Lower).toBeGreaterThan(96);
    const rising = fitDecay(
      hours,
      hours.map((t) => 1 + 1e-3 * t),
    );
    expect(rising.status).toBe('better-than');
    expect(rising.l70Lower).toBe(96); // nothing to extrapolate: it survived the 96 h it was stressed
    expect(fitDecay([0, 8], [1, 0.9]).status).toBe('insufficient');
    expect(fitDecay([0, 8, 16, 24], [1, 0, 0, 0]).status).toBe('insufficient'); // a dead lane is no decay
  });

  it('Arrhenius at 0.65 eV: 85 °C against 55 °C is 6.858', () => {
    expect(arrheniusFactor(85, 55, 0.65)).toBeCloseTo(6.858, 3);
  });
});
