import { describe, expect, it } from 'vitest';
import { arrheniusFactor, fitDecay, L70, lifetimeAtRate, studentTQuantile } from '../../src/core/lifetime.ts';

describe('lifetime arithmetic (src/core/lifetime.ts)', () => {
  it('t quantiles match the tables (one-sided 95 %)', () => {
    expect(studentTQuantile(0.95, 1)).toBeCloseTo(6.3138, 3);
    expect(studentTQuantile(0.95, 2)).toBeCloseTo(2.92, 2);
    expect(studentTQuantile(0.95, 3)).toBeCloseTo(2.3534, 2);
    expect(studentTQuantile(0.95, 10)).toBeCloseTo(1.8125, 3);
    expect(studentTQuantile(0.975, 30)).toBeCloseTo(2.0423, 3);
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
