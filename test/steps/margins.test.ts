import { describe, expect, it } from 'vitest';
import { marginsStep } from '../../src/steps/margins.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';

describe('margins', () => {
  // OMA at the operating point: 0.3 W/A × 320 µA × 0.5 = 48 µW; the fake needs 20 µW × (rate/2 Gb/s)²
  it('finds the drive-current cliff and the highest passing rate', async () => {
    const bench = createFakeBench({ omaMinW: 20e-6 });
    const ctx = await runStep(bench, marginsStep, {
      driveMethod: 'screen',
      rateMethod: 'screen',
      stepDb: 0.5,
      rateStep: 0.25e9,
      maxRate: 4e9,
      minRate: 2.5e9,
    });
    // fails once 48·s < 20 → s < 0.4167 → 3.80 dB: first failing step −4.0 dB, last pass −3.5 dB: the margin
    expect(ctx.get('drive_margin_db').value).toBeCloseTo(3.5, 9);
    expect(ctx.get('drive_margin_db').verdict).toBe('PASS');
    expect(ctx.all('drive_worst_ber')).toHaveLength(8);
    // rate: 48 ≥ 20·(r/2e9)² up to 3.098 Gb/s → 3.0 Gb/s passes, 3.25 fails
    expect(ctx.get('rate_max_passing').value).toBe(3.0e9);
    expect(ctx.get('rate_max_passing').verdict).toBe('PASS');
    expect(ctx.all('rate_worst_ber').map((m) => m.at.rate)).toEqual([2e9, 2.25e9, 2.5e9, 2.75e9, 3e9, 3.25e9]);
    // restored
    expect(bench.model.rate).toBe(2e9);
    expect(bench.model.mod.every((m) => m === 320e-6)).toBe(true);
  });

  it('fails the limits when the link has no margin', async () => {
    const bench = createFakeBench({ omaMinW: 40e-6 });
    const ctx = await runStep(bench, marginsStep, {
      driveMethod: 'screen',
      rateMethod: 'screen',
      minRate: 2.5e9,
    });
    // 48·s < 40 → s < 0.833 → 0.79 dB: fails at −1.0 dB, last pass −0.5 dB
    expect(ctx.get('drive_margin_db').value).toBeCloseTo(0.5, 9);
    expect(ctx.get('drive_margin_db').verdict).toBe('FAIL');
    expect(ctx.get('rate_max_passing').value).toBe(2e9);
    expect(ctx.get('rate_max_passing').verdict).toBe('FAIL');
  });

  it('a DUT that fails at −3.0 dB has a 2.5 dB margin and fails a ≥ 3 dB limit (the last pass, not the first fail)', async () => {
    // 48·s < 25 → s < 0.521 → 2.83 dB: passes at −2.5 dB, fails at −3.0 dB
    const bench = createFakeBench({ omaMinW: 25e-6 });
    const ctx = await runStep(bench, marginsStep, { driveMethod: 'screen', stepDb: 0.5, minMarginDb: 3, rate: false });
    expect(ctx.all('drive_worst_ber').map((m) => m.at.drive_db)).toEqual([-0.5, -1, -1.5, -2, -2.5, -3]);
    expect(ctx.get('drive_margin_db').value).toBeCloseTo(2.5, 9);
    expect(ctx.get('drive_margin_db').verdict).toBe('FAIL');
  });

  it('rate by fit: a lane with no line to fit (a cliff, then a constant BER) gives its last clean rate', async () => {
    // the fake link is a cliff: clean up to 3.098 Gb/s, then 1e-6 at every rate (a floor: Q does not fall)
    const bench = createFakeBench({ omaMinW: 20e-6 });
    const ctx = await runStep(bench, marginsStep, { drive: false, rateStep: 0.25e9, maxRate: 4e9, minRate: 2.5e9 });
    expect(ctx.get('rate_max_passing').value).toBe(3.0e9);
    expect(ctx.get('rate_max_passing').verdict).toBe('PASS');
    // the typical lane never passes rateMaxBer (1e-3): the walk goes on to maxRate
    expect(ctx.all('rate_worst_ber').map((m) => m.at.rate)).toEqual([
      2e9, 2.25e9, 2.5e9, 2.75e9, 3e9, 3.25e9, 3.5e9, 3.75e9, 4e9,
    ]);
    expect(ctx.all('rate_worst_ber').at(-1)!.value).toBeCloseTo(1e-6, 12);
    expect(bench.model.rate).toBe(2e9);
  });
});
