import { describe, expect, it } from 'vitest';
import {
  isPrbsName,
  longestRuns,
  measureRuns,
  PRBS_NAMES,
  PRBS_SPECS,
  PrbsChecker,
  PrbsGenerator,
  type PrbsName,
  prbsPeriod,
  prbsSpec,
} from '../../src/core/prbs.ts';
import { Rng } from '../../src/core/rng.ts';

function cyclicRuns(bits: Uint8Array): { zeros: number; ones: number } {
  // two periods back to back catch runs that wrap around
  const two = new Uint8Array(bits.length * 2);
  two.set(bits);
  two.set(bits, bits.length);
  return measureRuns(two);
}

describe('PRBS generator', () => {
  it('PRBS7 from all ones repeats every 127 bits with 64 ones', () => {
    const g = new PrbsGenerator('PRBS7');
    const a = g.next(127);
    const b = g.next(127);
    expect(Array.from(b)).toEqual(Array.from(a));
    expect(a.reduce((s, x) => s + x, 0)).toBe(64);
    expect(g.state).toBe(0x7f); // back to the all-ones register after two periods
  });

  it('has the O.150 polynomials, inversion flags and periods', () => {
    expect(PRBS_NAMES).toEqual(['PRBS7', 'PRBS9', 'PRBS11', 'PRBS15', 'PRBS20', 'PRBS23', 'PRBS29', 'PRBS31']);
    expect(PRBS_NAMES.filter((n) => PRBS_SPECS[n].inverted)).toEqual(['PRBS15', 'PRBS23', 'PRBS29', 'PRBS31']);
    expect(prbsPeriod('PRBS31')).toBe(2147483647);
    expect(prbsPeriod('PRBS9')).toBe(511);
    expect(PRBS_SPECS.PRBS20.tap).toBe(3);
  });

  for (const name of ['PRBS7', 'PRBS9', 'PRBS11', 'PRBS15'] as PrbsName[]) {
    it(`${name}: every non-zero n-bit word appears exactly once per period`, () => {
      const s = PRBS_SPECS[name];
      const bits = new PrbsGenerator(name, { seed: 0x55 }).next(s.period);
      const n = s.order;
      const seen = new Uint8Array(2 ** n);
      let word = 0;
      const mask = 2 ** n - 1;
      for (let i = 0; i < s.period + n - 1; i++) {
        word = ((word << 1) | bits[i % s.period]) & mask;
        if (i >= n - 1) seen[word]++;
      }
      const inverted = s.inverted ? mask : 0; // inverted output: the all-ones word is the missing one
      for (let w = 0; w <= mask; w++) expect(seen[w], `word ${w}`).toBe(w === inverted ? 0 : 1);
    });

    it(`${name}: longest runs match the table`, () => {
      const s = PRBS_SPECS[name];
      const bits = new PrbsGenerator(name).next(s.period);
      const runs = cyclicRuns(bits);
      expect(runs).toEqual(longestRuns(name));
      const expectedZeros = { PRBS7: 6, PRBS9: 8, PRBS11: 10, PRBS15: 15 }[name as 'PRBS7'];
      expect(runs.zeros).toBe(expectedZeros);
    });
  }

  it('invert override flips every bit', () => {
    const a = new PrbsGenerator('PRBS15').next(1000);
    const b = new PrbsGenerator('PRBS15', { invert: false }).next(1000);
    for (let i = 0; i < 1000; i++) expect(a[i] ^ b[i]).toBe(1);
    expect(longestRuns('PRBS15', true)).toEqual({ zeros: 14, ones: 15 });
  });

  it('fill continues the sequence like nextBit', () => {
    const g1 = new PrbsGenerator('PRBS31', { seed: 12345 });
    const g2 = new PrbsGenerator('PRBS31', { seed: 12345 });
    const filled = g1.next(5000);
    for (let i = 0; i < 5000; i++) expect(g2.nextBit()).toBe(filled[i]);
    expect(g1.state).toBe(g2.state);
  });

  it('different seeds give different phases; seed 0 means all ones', () => {
    const a = new PrbsGenerator('PRBS23', { seed: 1 }).next(64);
    const b = new PrbsGenerator('PRBS23', { seed: 2 }).next(64);
    expect(Array.from(a)).not.toEqual(Array.from(b));
    expect(new PrbsGenerator('PRBS23', { seed: 0 }).state).toBe(2 ** 23 - 1);
  });

  it('PRBS31 satisfies o(t) = o(t-28) ^ o(t-31) ^ 1 (inverted)', () => {
    const bits = new PrbsGenerator('PRBS31', { seed: 987654 }).next(4000);
    for (let t = 31; t < 4000; t++) expect(bits[t]).toBe(bits[t - 28] ^ bits[t - 31] ^ 1);
  });
});

describe('PRBS checker', () => {
  it('syncs on clean data and counts zero errors', () => {
    const bits = new PrbsGenerator('PRBS31', { seed: 42 }).next(20000);
    const c = new PrbsChecker('PRBS31');
    expect(c.check(bits)).toBe(0);
    expect(c.synced).toBe(true);
    expect(c.bitsChecked).toBe(20000 - 31 - 62);
    expect(c.errors).toBe(0);
  });

  it('counts injected errors exactly', () => {
    const rng = new Rng(7);
    for (const name of ['PRBS7', 'PRBS15', 'PRBS23', 'PRBS31'] as PrbsName[]) {
      const bits = new PrbsGenerator(name, { seed: 3 }).next(200_000);
      const positions = new Set<number>();
      while (positions.size < 37) positions.add(500 + rng.int(199_000));
      for (const p of positions) bits[p] ^= 1;
      const c = new PrbsChecker(name);
      c.check(bits);
      expect(c.errors, name).toBe(37);
      expect(c.synced).toBe(true);
      expect(c.syncLosses).toBe(0);
    }
  });

  it('loses sync on garbage and re-acquires on a valid stream', () => {
    const rng = new Rng(11);
    const c = new PrbsChecker('PRBS15');
    c.check(new PrbsGenerator('PRBS15').next(5000));
    expect(c.synced).toBe(true);
    const garbage = new Uint8Array(5000).map(() => rng.int(2));
    c.check(garbage);
    expect(c.syncLosses).toBeGreaterThanOrEqual(1);
    expect(c.synced).toBe(false);
    c.check(new PrbsGenerator('PRBS15', { seed: 999 }).next(5000));
    expect(c.synced).toBe(true);
    expect(c.syncAcquisitions).toBeGreaterThanOrEqual(2);
  });

  it('never syncs on the wrong polarity or pattern', () => {
    const c = new PrbsChecker('PRBS31', { invert: false });
    c.check(new PrbsGenerator('PRBS31').next(10000));
    expect(c.synced).toBe(false);
    const d = new PrbsChecker('PRBS23');
    d.check(new PrbsGenerator('PRBS31').next(10000));
    expect(d.synced).toBe(false);
    expect(d.errors).toBe(0);
  });
});

describe('PRBS tables and helpers', () => {
  it('each spec carries its own name; names are looked up exactly', () => {
    for (const name of PRBS_NAMES) expect(PRBS_SPECS[name].name).toBe(name);
    expect(PRBS_NAMES).toEqual(['PRBS7', 'PRBS9', 'PRBS11', 'PRBS15', 'PRBS20', 'PRBS23', 'PRBS29', 'PRBS31']);
    expect(isPrbsName('PRBS7')).toBe(true);
    expect(isPrbsName('PRBS8')).toBe(false);
    expect(isPrbsName('toString')).toBe(false); // own keys only
    expect(() => prbsSpec('PRBS8' as PrbsName)).toThrow('unknown PRBS pattern PRBS8');
  });

  it('measureRuns counts linear runs from the first bit, and nothing past the end', () => {
    expect(measureRuns([1])).toEqual({ zeros: 0, ones: 1 });
    expect(measureRuns([0])).toEqual({ zeros: 1, ones: 0 });
    expect(measureRuns([1, 1])).toEqual({ zeros: 0, ones: 2 });
    expect(measureRuns([1, 0, 0, 1, 1, 1, 0])).toEqual({ zeros: 2, ones: 3 });
    expect(measureRuns([])).toEqual({ zeros: 0, ones: 0 });
    expect(measureRuns([3, 2])).toEqual({ zeros: 1, ones: 1 }); // bit 0 of each value
  });

  it('state is the register: the seed masked to n bits, 0 meaning all ones; reset reseeds', () => {
    expect(new PrbsGenerator('PRBS7', { seed: 5 }).state).toBe(5);
    expect(new PrbsGenerator('PRBS7').state).toBe(127);
    expect(new PrbsGenerator('PRBS7', { seed: 128 + 3 }).state).toBe(3);
    expect(new PrbsGenerator('PRBS31', { seed: 0 }).state).toBe(0x7fffffff);
    const g = new PrbsGenerator('PRBS9', { seed: 1 });
    g.next(10);
    g.reset(3);
    expect(g.state).toBe(3);
    g.reset();
    expect(g.state).toBe(511);
  });

  it('fill(out, offset) fills to the end of the array and leaves the generator right after', () => {
    const ref = new PrbsGenerator('PRBS9', { seed: 5 }).next(40);
    const g = new PrbsGenerator('PRBS9', { seed: 5 });
    const out = new Uint8Array(30).fill(7);
    g.fill(out, 10);
    expect([...out.subarray(0, 10)]).toEqual(Array(10).fill(7));
    expect([...out.subarray(10)]).toEqual([...ref.subarray(0, 20)]);
    expect(g.nextBit()).toBe(ref[20]);
    g.fill(out, 0, 5);
    expect([...out.subarray(0, 5)]).toEqual([...ref.subarray(21, 26)]);
  });
});

describe('PRBS checker details', () => {
  it('syncs after exactly n loaded bits plus syncBits correct predictions', () => {
    for (const syncBits of [0, 1, 14]) {
      const bits = new PrbsGenerator('PRBS7', { seed: 9 }).next(100);
      const c = new PrbsChecker('PRBS7', { syncBits });
      let at = -1;
      for (let i = 0; i < bits.length && at < 0; i++) {
        c.push(bits[i]);
        if (c.synced) at = i + 1;
      }
      expect(at, `syncBits ${syncBits}`).toBe(7 + syncBits);
    }
    expect(new PrbsChecker('PRBS7').syncBits).toBe(14); // default 2n
  });

  it('ber is NaN before any bit was checked, errors/bits after; check() returns the errors it counted', () => {
    const c = new PrbsChecker('PRBS7');
    expect(c.ber).toBeNaN();
    const bits = new PrbsGenerator('PRBS7').next(21 + 100);
    bits[50] ^= 1;
    bits[80] ^= 1;
    expect(c.check(bits)).toBe(2);
    expect(c.bitsChecked).toBe(100);
    expect(c.ber).toBe(2 / 100);
  });

  it('clearCounters keeps sync; reset clears everything', () => {
    const c = new PrbsChecker('PRBS7');
    const g = new PrbsGenerator('PRBS7');
    const bits = g.next(60);
    bits[40] ^= 1;
    c.check(bits);
    expect([c.synced, c.errors, c.syncAcquisitions]).toEqual([true, 1, 1]);
    c.clearCounters();
    expect([c.synced, c.errors, c.bitsChecked]).toEqual([true, 0, 0]);
    expect(c.check(g.next(10))).toBe(0);
    expect(c.bitsChecked).toBe(10);
    c.reset();
    expect([c.synced, c.errors, c.bitsChecked, c.syncAcquisitions, c.syncLosses]).toEqual([false, 0, 0, 0, 0]);
    expect(c.ber).toBeNaN();
    // after a reset it hunts again from scratch: n + 2n bits
    c.check(g.next(20));
    expect(c.synced).toBe(false);
    c.check(g.next(1));
    expect(c.synced).toBe(true);
  });

  it('loses sync only when a window holds more errors than the threshold, judged at the window end', () => {
    const mk = () => new PrbsChecker('PRBS7', { lossWindow: 8, lossThreshold: 1 });
    const g = new PrbsGenerator('PRBS7');
    const lead = g.next(21); // sync
    const stay = mk();
    stay.check(lead);
    const oneError = g.next(8);
    oneError[3] ^= 1;
    stay.check(oneError); // exactly the threshold: kept
    expect([stay.synced, stay.syncLosses, stay.errors]).toEqual([true, 0, 1]);

    const lose = mk();
    lose.check(lead);
    const twoErrors = new PrbsGenerator('PRBS7').next(29).subarray(21);
    twoErrors[1] ^= 1;
    twoErrors[2] ^= 1;
    lose.check(twoErrors.subarray(0, 7));
    expect(lose.synced).toBe(true); // the window is not over yet
    lose.check(twoErrors.subarray(7));
    expect([lose.synced, lose.syncLosses]).toEqual([false, 1]);
    expect(new PrbsChecker('PRBS7').lossThreshold).toBe(128); // default lossWindow / 8
  });
});
