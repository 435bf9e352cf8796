/**
 * The production verdict rules (src/orchestrator/limits.ts), tested directly: the step harness and the fake
 * controller judge with their own copies, so only these tests guard `judge()` itself.
 * Expected verdicts are the README's rules applied by hand ("outside is FAIL, inside the band MARGINAL, else PASS;
 * a missing value is FAIL").
 */
import { describe, expect, it } from 'vitest';
import type { Verdict } from '../../src/core/record.ts';
import { describeLimits, judge, worst } from '../../src/orchestrator/limits.ts';

describe('judge()', () => {
  it('without limits everything passes, even a missing value', () => {
    expect(judge(1e9, undefined)).toBe('PASS');
    expect(judge(null, undefined)).toBe('PASS');
    expect(judge(Number.NaN, {})).toBe('PASS');
    expect(judge(-5, { marginal: 1 })).toBe('PASS');
  });

  it('a missing value (null or NaN) is FAIL when there are limits', () => {
    expect(judge(null, { high: 5 })).toBe('FAIL');
    expect(judge(Number.NaN, { low: 0 })).toBe('FAIL');
    expect(judge(null, { low: 0, high: 1, marginal: 0.1 })).toBe('FAIL');
  });

  it('outside [low, high] is FAIL; the limits themselves pass', () => {
    const l = { low: 2, high: 6 };
    expect(judge(1.999, l)).toBe('FAIL');
    expect(judge(2, l)).toBe('PASS');
    expect(judge(4, l)).toBe('PASS');
    expect(judge(6, l)).toBe('PASS');
    expect(judge(6.001, l)).toBe('FAIL');
    expect(judge(-1e300, { high: 6 })).toBe('PASS');
    expect(judge(1e300, { low: 2 })).toBe('PASS');
    expect(judge(1e300, { high: 6 })).toBe('FAIL');
    expect(judge(-1e300, { low: 2 })).toBe('FAIL');
  });

  // Guards the mutant "remove the low-side MARGINAL band" (the `value < low + m` term).
  it('low-side MARGINAL band: a value within `marginal` above the low limit is MARGINAL, not PASS', () => {
    // limits 10..20, band 1: [10, 11) is MARGINAL, [11, 19] PASS, (19, 20] MARGINAL
    const l = { low: 10, high: 20, marginal: 1 };
    expect(judge(10, l)).toBe('MARGINAL');
    expect(judge(10.5, l)).toBe('MARGINAL');
    expect(judge(10.999, l)).toBe('MARGINAL');
    expect(judge(11, l)).toBe('PASS');
    // a low limit alone has a band too (e.g. received power >= -10 dBm, band 0.5 dB)
    expect(judge(-9.7, { low: -10, marginal: 0.5 })).toBe('MARGINAL');
    expect(judge(-9.5, { low: -10, marginal: 0.5 })).toBe('PASS');
    expect(judge(-10.01, { low: -10, marginal: 0.5 })).toBe('FAIL');
  });

  it('high-side MARGINAL band: a value within `marginal` under the high limit is MARGINAL', () => {
    const l = { low: 10, high: 20, marginal: 1 };
    expect(judge(19, l)).toBe('PASS');
    expect(judge(19.001, l)).toBe('MARGINAL');
    expect(judge(20, l)).toBe('MARGINAL');
    expect(judge(20.001, l)).toBe('FAIL');
    // energy per bit <= 6.6 pJ/bit with a 0.3 pJ band: 6.4 is MARGINAL, 6.2 PASS
    expect(judge(6.4, { high: 6.6, marginal: 0.3 })).toBe('MARGINAL');
    expect(judge(6.2, { high: 6.6, marginal: 0.3 })).toBe('PASS');
  });

  it('a band of 0 (or none, or negative) means no MARGINAL at all', () => {
    expect(judge(10, { low: 10, high: 20 })).toBe('PASS');
    expect(judge(20, { low: 10, high: 20, marginal: 0 })).toBe('PASS');
    expect(judge(10, { low: 10, high: 20, marginal: -1 })).toBe('PASS');
  });
});

describe('worst()', () => {
  it('orders ERROR > FAIL > MARGINAL > PASS > SKIPPED, PASS when empty', () => {
    const order: Verdict[] = ['SKIPPED', 'PASS', 'MARGINAL', 'FAIL', 'ERROR'];
    expect(worst([])).toBe('PASS');
    expect(worst(['SKIPPED'])).toBe('SKIPPED');
    for (let i = 0; i < order.length; i++) {
      for (let j = 0; j < order.length; j++) {
        const expected = order[Math.max(i, j)];
        expect(worst([order[i], order[j]]), `${order[i]} vs ${order[j]}`).toBe(expected);
      }
    }
    expect(worst(new Set<Verdict>(['PASS', 'MARGINAL', 'PASS']))).toBe('MARGINAL');
  });
});

describe('describeLimits()', () => {
  it('names each limit and the band', () => {
    expect(describeLimits(undefined)).toBe('no limits');
    expect(describeLimits({})).toBe('no limits');
    expect(describeLimits({ low: 1 })).toBe('≥ 1');
    expect(describeLimits({ high: 6.6 })).toBe('≤ 6.6');
    expect(describeLimits({ low: 1, high: 2, marginal: 0.1 })).toBe('≥ 1, ≤ 2, marginal band 0.1');
    expect(describeLimits({ low: 0, marginal: 0 })).toBe('≥ 0');
  });
});
