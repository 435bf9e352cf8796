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

describe('Rng mechanics', () => {
  it('uniform takes 27 + 26 bits of two outputs: its extremes are 0 and 1 − 2^-53', () => {
    const r = new Rng(1);
    const next = vi.spyOn(r, 'nextUint32');
    next.mockReturnValueOnce(0xffffffff).mockReturnValueOnce(0xffffffff);
    expect(r.uniform()).toBe(1 - 2 ** -53);
    next.mockReturnValueOnce(0).mockReturnValueOnce(1 << 6);
    expect(r.uniform()).toBe(2 ** -53);
    next.mockReturnValueOnce(1 << 5).mockReturnValueOnce(0);
    expect(r.uniform()).toBe(2 ** -27);
  });

  it('seeds: integers are truncated, strings hashed, and a string is not the number it spells', () => {
    expect(new Rng(7.9).nextUint32()).toBe(new Rng(7).nextUint32());
    expect(new Rng('7').nextUint32()).not.toBe(new Rng(7).nextUint32());
    expect(new Rng('bench').nextUint32()).toBe(new Rng('bench').nextUint32());
    expect(new Rng('bench').nextUint32()).not.toBe(new Rng('bench2').nextUint32());
    expect(hashSeed(1)).not.toBe(hashSeed('1'));
    expect(hashSeed('ab')).not.toBe(hashSeed('a', 'b'));
    expect(hashSeed('a', 'b')).toBe(hashSeed('a', 'b'));
  });

  it('fork() gives a new stream and advances the parent', () => {
    const a = new Rng(5);
    const b = new Rng(5);
    const fa = a.fork();
    const fb = b.fork();
    expect(fa.nextUint32()).toBe(fb.nextUint32());
    expect(a.fork().nextUint32()).not.toBe(fb.nextUint32());
  });

  it('normal() is affine in mean and sd, and each Box-Muller pair costs two uniforms (the spare is used)', () => {
    const z = new Rng(3);
    const y = new Rng(3);
    const zs = [z.normal(), z.normal(), z.normal()];
    const ys = [y.normal(5, 2), y.normal(5, 2), y.normal(5, 2)];
    for (let i = 0; i < 3; i++) expect(ys[i]).toBeCloseTo(5 + 2 * zs[i], 12);
    const r = new Rng(4);
    const uniform = vi.spyOn(r, 'uniform');
    for (let i = 0; i < 1000; i++) r.normal();
    expect(uniform).toHaveBeenCalledTimes(1000);
  });

  it('range() and exponential() have the right support and mean', () => {
    const r = new Rng(6);
    const xs = Array.from({ length: 50_000 }, () => r.range(10, 20));
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(10);
    expect(Math.max(...xs)).toBeLessThan(20);
    expect(stats(xs).mean).toBeCloseTo(15, 1);
    const es = Array.from({ length: 50_000 }, () => r.exponential(4));
    expect(Math.min(...es)).toBeGreaterThanOrEqual(0);
    expect(stats(es).mean).toBeCloseTo(0.25, 2); // 1/rate
    expect(stats(es).variance).toBeCloseTo(1 / 16, 2); // 1/rate²
    expect(stats(Array.from({ length: 50_000 }, () => r.exponential())).mean).toBeCloseTo(1, 1);
  });

  it('poisson of no mean (0, negative, NaN) is 0', () => {
    const r = new Rng(8);
    expect(r.poisson(0)).toBe(0);
    expect(r.poisson(-3)).toBe(0);
    expect(r.poisson(Number.NaN)).toBe(0);
  });

  // A goodness-of-fit test against the exact pmf e^-μ μ^k / k! on both methods (inversion below 10, PTRS above):
  // moments alone do not see a distorted shape.
  for (const mean of [4, 12, 25]) {
    it(`poisson at mean ${mean} fits the exact pmf (chi-square)`, () => {
      const r = new Rng(100 + mean);
      const n = 200_000;
      const counts = new Map<number, number>();
      for (let i = 0; i < n; i++) {
        const k = r.poisson(mean);
        counts.set(k, (counts.get(k) ?? 0) + 1);
      }
      // bins with an expected count >= 20; the tails pooled
      let pmf = Math.exp(-mean);
      const bins: { expected: number; observed: number }[] = [];
      let tailExpected = n;
      let tailObserved = n;
      let pooledLowE = 0;
      let pooledLowO = 0;
      for (let k = 0; k < mean * 3; k++) {
        const e = n * pmf;
        const o = counts.get(k) ?? 0;
        tailExpected -= e;
        tailObserved -= o;
        if (e >= 20) bins.push({ expected: e + pooledLowE, observed: o + pooledLowO });
        else if (bins.length === 0) {
          pooledLowE += e;
          pooledLowO += o;
        } else {
          tailExpected += e;
          tailObserved += o;
        }
        pmf *= mean / (k + 1);
      }
      bins.push({ expected: tailExpected, observed: tailObserved });
      const chi2 = bins.reduce((s, b) => s + (b.observed - b.expected) ** 2 / b.expected, 0);
      const df = bins.length - 1;
      // 99.9 % point of chi-square ≈ df + 3.09·√(2 df) + 3.09²·2/3 (Wilson-Hilferty, loose): a fixed seed passes
      expect(chi2, `chi2 ${chi2.toFixed(1)} on ${df} df`).toBeLessThan(df + 3.09 * Math.sqrt(2 * df) + 6.4);
    });
  }
});
