import { describe, expect, it, vi } from 'vitest';
import { hashSeed, Rng } from '../../src/core/rng.ts';

function stats(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
  const variance = xs.reduce((s, x) => s + (x - mean) ** 2, 0) / (xs.length - 1);
  return { mean, variance };
}

describe('Rng', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    const c = new Rng(43);
    const sa = Array.from({ length: 100 }, () => a.nextUint32());
    const sb = Array.from({ length: 100 }, () => b.nextUint32());
    const sc = Array.from({ length: 100 }, () => c.nextUint32());
    expect(sa).toEqual(sb);
    expect(sa).not.toEqual(sc);
    expect(new Set(sa).size).toBe(100);
  });

  it('derive gives independent labelled streams without touching the parent', () => {
    expect(Rng.derive(1, 'a').uniform()).toBe(Rng.derive(1, 'a').uniform());
    expect(Rng.derive(1, 'a').uniform()).not.toBe(Rng.derive(1, 'b').uniform());
    expect(hashSeed(1, 'x')).not.toBe(hashSeed(2, 'x'));
  });

  it('uniform is in [0,1) with mean 1/2 and variance 1/12', () => {
    const r = new Rng(1);
    const xs = Array.from({ length: 100_000 }, () => r.uniform());
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
    const s = stats(xs);
    expect(s.mean).toBeCloseTo(0.5, 2);
    expect(s.variance).toBeCloseTo(1 / 12, 3);
  });

  it('normal and lognormal have the right moments', () => {
    const r = new Rng(2);
    const n = stats(Array.from({ length: 100_000 }, () => r.normal(3, 2)));
    expect(n.mean).toBeCloseTo(3, 1);
    expect(Math.sqrt(n.variance)).toBeCloseTo(2, 1);
    const ln = Array.from({ length: 100_001 }, () => r.lognormal(1, 0.5)).sort((x, y) => x - y);
    expect(ln[50_000]).toBeGreaterThan(Math.E * 0.98); // median e^mu
    expect(ln[50_000]).toBeLessThan(Math.E * 1.02);
  });

  for (const mean of [0.3, 4, 25, 1000, 1e6, 1e9]) {
    it(`poisson mean/variance at mean ${mean}`, () => {
      const r = new Rng(Math.round(mean) + 5);
      const draws = Array.from({ length: 40_000 }, () => r.poisson(mean));
      expect(draws.every((d) => Number.isInteger(d) && d >= 0)).toBe(true);
      const s = stats(draws);
      const se = Math.sqrt(mean / draws.length);
      expect(Math.abs(s.mean - mean)).toBeLessThan(5 * se);
      expect(s.variance / mean).toBeGreaterThan(0.95);
      expect(s.variance / mean).toBeLessThan(1.05);
    });
  }

  // The speed itself is a benchmark figure; the test checks the mechanism: PTRS costs O(1) uniforms a draw
  // (2 per trial, acceptance about 0.9 by Hörmann 1993), whatever the mean, instead of a loop growing with it.
  it('poisson of a huge mean costs a bounded number of uniform draws (O(1), not O(mean))', () => {
    const r = new Rng(9);
    const uniform = vi.spyOn(r, 'uniform');
    const n = 10_000;
    let sum = 0;
    for (let i = 0; i < n; i++) sum += r.poisson(3e9);
    expect(uniform.mock.calls.length / n).toBeGreaterThanOrEqual(2);
    expect(uniform.mock.calls.length / n).toBeLessThan(2.6);
    expect(sum / n).toBeGreaterThan(3e9 - 5 * Math.sqrt(3e9 / n));
    expect(sum / n).toBeLessThan(3e9 + 5 * Math.sqrt(3e9 / n));
    expect(r.poisson(0)).toBe(0);
    expect(r.poisson(-1)).toBe(0);
  });
});
