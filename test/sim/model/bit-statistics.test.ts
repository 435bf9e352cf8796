import { describe, expect, it } from 'vitest';
import { normalTail } from '../../../src/core/ber.ts';
import { PRBS_NAMES, PrbsGenerator, prbsPeriod } from '../../../src/core/prbs.ts';
import {
  bitPopulations,
  clockRunDistribution,
  countRuns,
  crosstalkOffsets,
  fastNormalTail,
  prbsRunDistribution,
  type RunDistribution,
  statisticalBer,
} from '../../../src/sim/model/bit-statistics.ts';
import { eyeBer, isiEyeOpening } from '../../../src/sim/model/receiver.ts';

const RATE = 3e9;
const FAST = 1.2e9;
const TAIL = 0.05;
const TAU = 3e-9;

function same(a: RunDistribution, b: RunDistribution): void {
  const trim = (x: Float64Array) =>
    Array.from(x)
      .join(',')
      .replace(/(,0)+$/, '');
  expect(trim(a.ones)).toBe(trim(b.ones));
  expect(trim(a.zeros)).toBe(trim(b.zeros));
}

/** Each bit's sampled level through the two-pole response, over the last of three periods (settled). */
function levels(bits: Uint8Array, rate: number, fastHz: number, tail: number, tauS: number): Float64Array {
  const T = 1 / rate;
  const af = Math.exp(-T * 2 * Math.PI * fastHz);
  const as = Math.exp(-T / tauS);
  let yf = 0.5;
  let ys = 0.5;
  const out = new Float64Array(bits.length);
  for (let rep = 0; rep < 3; rep++) {
    for (let i = 0; i < bits.length; i++) {
      yf = af * yf + (1 - af) * bits[i]!;
      ys = as * ys + (1 - as) * bits[i]!;
      out[i] = (1 - tail) * yf + tail * ys;
    }
  }
  return out;
}

/** The BER of a real sequence, bit by bit: the truth the populations summarize. */
function bruteForceBer(bits: Uint8Array, y: Float64Array, base: number, oma: number, s1: number, s0: number): number {
  let m1 = 0;
  let m0 = 0;
  let n1 = 0;
  for (let i = 0; i < bits.length; i++) {
    if (bits[i]) {
      m1 += y[i]!;
      n1++;
    } else m0 += y[i]!;
  }
  const n0 = bits.length - n1;
  const mu1 = base + (m1 / n1) * oma;
  const mu0 = base + (m0 / n0) * oma;
  const d = (s0 * mu1 + s1 * mu0) / (s0 + s1);
  let e1 = 0;
  let e0 = 0;
  for (let i = 0; i < bits.length; i++) {
    const level = base + y[i]! * oma;
    if (bits[i]) e1 += normalTail((level - d) / s1);
    else e0 += normalTail((d - level) / s0);
  }
  return 0.5 * (e1 / n1 + e0 / n0);
}

const NO_XT = crosstalkOffsets([]);

describe('run-length distribution of a PRBS', () => {
  it('is what m-sequence theory says: counted in one real period of each short pattern, both polarities', () => {
    for (const name of PRBS_NAMES.filter((n) => prbsPeriod(n) < 70_000)) {
      const plain = new PrbsGenerator(name).next(prbsPeriod(name));
      const flipped = plain.map((b) => 1 - b);
      same(prbsRunDistribution(name, false), countRuns(plain));
      same(prbsRunDistribution(name, true), countRuns(flipped));
    }
  });

  it('holds 2^(n-1) bits of one polarity per period, 2^(n-k-2) runs of k, one longest run of each polarity', () => {
    // PRBS31 is inverted by O.150: its run of 31 is of zeros
    const r = prbsRunDistribution('PRBS31');
    let ones = 0;
    let zeros = 0;
    for (let k = 1; k < r.ones.length; k++) ones += k * r.ones[k]!;
    for (let k = 1; k < r.zeros.length; k++) zeros += k * r.zeros[k]!;
    expect(zeros).toBe(2 ** 30);
    expect(ones).toBe(2 ** 30 - 1);
    expect(r.zeros[31]).toBe(1);
    expect(r.ones[30]).toBe(1);
    expect(r.ones[1]).toBe(2 ** 28);
  });
});

describe('bit populations', () => {
  it('without ISI every 1 is at 1 and every 0 at 0', () => {
    const p = bitPopulations(1e6, Number.POSITIVE_INFINITY, 0, TAU, prbsRunDistribution('PRBS31'));
    expect(Array.from(p.ones.level)).toEqual([1]);
    expect(Array.from(p.zeros.level)).toEqual([0]);
    expect(p.ones.weight[0]).toBeCloseTo(1, 12);
  });

  it('sort worst first, weights sum to 1, and the worst bit is no worse than the worst-case eye', () => {
    const p = bitPopulations(RATE, FAST, TAIL, TAU, prbsRunDistribution('PRBS31'));
    const sum = (w: Float64Array) => w.reduce((s, x) => s + x, 0);
    expect(sum(p.ones.weight)).toBeCloseTo(1, 12);
    expect(sum(p.zeros.weight)).toBeCloseTo(1, 12);
    for (let i = 1; i < p.ones.level.length; i++) expect(p.ones.level[i]).toBeGreaterThan(p.ones.level[i - 1]!);
    for (let i = 1; i < p.zeros.level.length; i++) expect(p.zeros.level[i]).toBeLessThan(p.zeros.level[i - 1]!);
    const worst = isiEyeOpening(RATE, FAST, TAIL, TAU, { zeros: 31, ones: 30 });
    expect(p.ones.level[0]! - p.zeros.level[0]!).toBeGreaterThanOrEqual(worst - 0.01);
    // and the mean eye is far more open than the worst
    expect(p.ones.mean - p.zeros.mean).toBeGreaterThan(worst + 0.03);
  });

  it('a closed channel puts every bit at the middle', () => {
    const p = bitPopulations(RATE, 0, TAIL, TAU, clockRunDistribution());
    expect(p.ones.mean).toBe(0.5);
    expect(p.zeros.mean).toBe(0.5);
  });
});

describe('statistical BER', () => {
  const eye = { base: 2e-6, oma: 8e-6, closure: 0, s1: 6e-7, s0: 5e-7 };

  it('without ISI and crosstalk is the Gaussian eye of receiver.ts, at any threshold', () => {
    const pops = bitPopulations(1e6, Number.POSITIVE_INFINITY, 0, TAU, prbsRunDistribution('PRBS7'));
    for (const t of [0.5, 0.35, 0.6]) {
      const mu1 = eye.base + eye.oma;
      const mu0 = eye.base;
      const old = eyeBer(mu1, mu0, eye.s1, eye.s0, t);
      const now = statisticalBer(pops, eye, NO_XT, t);
      expect(now.ber / old.ber).toBeCloseTo(1, 5);
      expect(now.q).toBeCloseTo(old.q, 12);
    }
  });

  it('with one decorrelated aggressor is the average of the two eyes it makes (same slicer)', () => {
    const pops = bitPopulations(1e6, Number.POSITIVE_INFINITY, 0, TAU, prbsRunDistribution('PRBS7'));
    const x = 6e-7;
    const xt = crosstalkOffsets([{ count: 1, amplitude: x }]);
    const got = statisticalBer(pops, eye, xt).ber;
    const mu1 = eye.base + eye.oma;
    const mu0 = eye.base;
    const d = (eye.s0 * mu1 + eye.s1 * mu0) / (eye.s0 + eye.s1);
    const eyeAt = (dx: number) => 0.5 * (normalTail((mu1 + dx - d) / eye.s1) + normalTail((d - mu0 - dx) / eye.s0));
    const expected = 0.5 * (eyeAt(x) + eyeAt(-x));
    expect(got / expected).toBeCloseTo(1, 5);
    // better than the worst case (the eye closed by the aggressor's full OMA on every bit), though at 1.2 σ the
    // aggressor's bad half of the bits dominates
    const worst = eyeBer(mu1 - x, mu0 + x, eye.s1, eye.s0).ber;
    expect(got).toBeLessThan(worst);
    expect(got).toBeGreaterThan(worst / 4);
    // and a correlated aggressor is that worst case
    const correlated = statisticalBer(pops, { ...eye, closure: x }, NO_XT).ber;
    expect(correlated / worst).toBeCloseTo(1, 5);
  });

  it('four aggressors of one group are binomial: 1/16 of the bits see all four at 0', () => {
    const xt = crosstalkOffsets([{ count: 4, amplitude: 1 }]);
    expect(xt.count).toBe(5);
    expect(Array.from(xt.offset.subarray(0, 5))).toEqual([-4, -2, 0, 2, 4]);
    expect(Array.from(xt.weight.subarray(0, 5))).toEqual([1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16]);
    const two = crosstalkOffsets([
      { count: 1, amplitude: 1 },
      { count: 2, amplitude: 10 },
    ]);
    expect(two.count).toBe(6);
    expect(Array.from(two.offset.subarray(0, 6))).toEqual([-21, -1, 19, -19, 1, 21]);
  });

  it('agrees with the bit-by-bit BER of the real sequences where ISI matters', () => {
    // OMA for a BER in the 1e-9..1e-5 range at this rate, where ISI moves the BER by orders of magnitude
    const e = { base: 1e-6, oma: 6e-6, closure: 0, s1: 4.2e-7, s0: 3.8e-7 };
    for (const name of ['PRBS7', 'PRBS9', 'PRBS11', 'PRBS15'] as const) {
      const bits = new PrbsGenerator(name).next(prbsPeriod(name));
      const truth = bruteForceBer(bits, levels(bits, RATE, FAST, TAIL, TAU), e.base, e.oma, e.s1, e.s0);
      const pops = bitPopulations(RATE, FAST, TAIL, TAU, prbsRunDistribution(name));
      const got = statisticalBer(pops, e, NO_XT).ber;
      expect(truth).toBeGreaterThan(1e-10);
      expect(truth).toBeLessThan(1e-4);
      expect(Math.abs(Math.log10(got / truth)), `${name}: ${got} vs ${truth}`).toBeLessThan(0.1);
    }
  });

  it('PRBS7 and PRBS31 differ by their run-length distributions, not by their worst runs', () => {
    const e = { base: 1e-6, oma: 6e-6, closure: 0, s1: 4.2e-7, s0: 3.8e-7 };
    const ber = (name: 'PRBS7' | 'PRBS15' | 'PRBS31') =>
      statisticalBer(bitPopulations(RATE, FAST, TAIL, TAU, prbsRunDistribution(name)), e, NO_XT).ber;
    const b7 = ber('PRBS7');
    const b15 = ber('PRBS15');
    const b31 = ber('PRBS31');
    // the worst-case eyes of the two differ by orders of magnitude
    const worstEye = (runs: { zeros: number; ones: number }) => {
      const o = isiEyeOpening(RATE, FAST, TAIL, TAU, runs);
      const mid = e.base + 0.5 * e.oma;
      return eyeBer(mid + 0.5 * o * e.oma, mid - 0.5 * o * e.oma, e.s1, e.s0).ber;
    };
    const worstRatio = worstEye({ zeros: 31, ones: 30 }) / worstEye({ zeros: 6, ones: 7 });
    expect(worstRatio).toBeGreaterThan(5);
    // a bit after a run of k is 2^-k rare: PRBS31 is worse than PRBS7 by a fraction of a percent here
    expect(b31).toBeGreaterThan(b7);
    expect(b31 / b7).toBeLessThan(1.02);
    expect(b31 / b15).toBeCloseTo(1, 2);
    // the difference follows from the real PRBS15 sequence as well (PRBS31 cannot be simulated bit by bit here)
    const bits15 = new PrbsGenerator('PRBS15').next(prbsPeriod('PRBS15'));
    const bits7 = new PrbsGenerator('PRBS7').next(prbsPeriod('PRBS7'));
    const t15 = bruteForceBer(bits15, levels(bits15, RATE, FAST, TAIL, TAU), e.base, e.oma, e.s1, e.s0);
    const t7 = bruteForceBer(bits7, levels(bits7, RATE, FAST, TAIL, TAU), e.base, e.oma, e.s1, e.s0);
    expect(Math.abs(Math.log10(b15 / b7 / (t15 / t7)))).toBeLessThan(0.1);
  });

  it('fastNormalTail follows the exact tail to 2e-7 relative from -8 to 38 σ', () => {
    for (let z = -8; z <= 38; z += 0.37) {
      const exact = normalTail(z);
      expect(Math.abs(fastNormalTail(z) / exact - 1), `z = ${z}`).toBeLessThan(2e-7);
    }
  });
});
