/**
 * The aggregate link (Q7) through the engine's step context on the simulated bench: each lane's skew against the
 * device's own lane delays (src/sim/model/skew.ts, the truth the receiver sim uses), the aggregate failing without
 * deskew (0.8 UI of skew at 2 Gb/s) and passing with it, in one gate over all 400 lanes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { skewStep } from '../../src/steps/skew.ts';
import { runStep } from './helpers.ts';
import { openSimBench, type SimHarnessBench } from './sim-bench.ts';

describe('skew on the simulated MOSAIC bench', () => {
  let bench: SimHarnessBench;
  beforeAll(async () => {
    bench = await openSimBench('mosaic-800g', { seed: 9 });
  }, 60_000);
  afterAll(async () => bench?.close());

  it("measures each lane's skew as the device's delays; deskewed, the 400-lane aggregate passes in one gate", async () => {
    const delays = bench.sim.model.laneDelays();
    const min = Math.min(...delays);
    for (let run = 0; run < 2; run++) {
      const ctx = await runStep(bench, skewStep, { rate: 2e9, targetBer: 1e-12 });
      const skew = ctx.lanesOf('lane_skew');
      expect(skew.size).toBe(400);
      for (const l of [1, 77, 400]) expect(skew.get(l)!).toBeCloseTo(delays[l - 1]! - min, 15);
      expect(ctx.get('skew_max_ui').value).toBeGreaterThan(0.5); // more than the aggregate tolerates undeskewed
      expect(ctx.get('deskew_applied').value).toBe(1);
      expect(ctx.get('aggregate_aligned').value).toBe(1);
      expect(ctx.get('aggregate_lanes_sync_lost').value).toBe(0);
      // one gate: 3e12 bits × 1.02 over the aggregate, 400 lanes counting together
      expect(ctx.get('aggregate_bits').value).toBeGreaterThanOrEqual(3e12);
      expect(ctx.get('aggregate_ber_upper_bound').verdict).toBe('PASS');
      // the receiver's deskew as the step found it (off)
      expect(await bench.instruments.get('lane-deskew').deskew()).toBe(false);
    }
  }, 120_000);

  it('without deskew the aggregate loses frame alignment and fails, the lanes themselves in sync', async () => {
    const ctx = await runStep(bench, skewStep, { rate: 2e9, targetBer: 1e-12, deskew: false });
    expect(ctx.get('deskew_applied').value).toBe(0);
    expect(ctx.get('aggregate_aligned').value).toBe(0);
    expect(ctx.get('aggregate_aligned').verdict).toBe('FAIL');
    expect(ctx.get('aggregate_lanes_sync_lost').value).toBe(0);
    expect(ctx.get('aggregate_ber_upper_bound').value).toBe(1);
  }, 120_000);
});

describe('skew on the BERT bench', () => {
  it('fails naming the error detector that cannot count the aggregate in one gate', async () => {
    const bench = await openSimBench('mosaic-800g-bert');
    try {
      await expect(runStep(bench, skewStep, {})).rejects.toThrow(
        /counts 4 lanes per gate; an aggregate of 400 lanes needs them all in one gate/,
      );
    } finally {
      await bench.close();
    }
  }, 60_000);
});
