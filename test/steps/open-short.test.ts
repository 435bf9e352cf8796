/**
 * The open/short screen through the engine's step context on the simulated bench, with opens and shorts injected
 * by a fault plan: the model knows which lanes they are (its truth), and every healthy lane must pass.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openShortStep } from '../../src/steps/open-short.ts';
import { makeGeometry, makeLaneState, runStep } from './helpers.ts';
import { openSimBench, type SimHarnessBench } from './sim-bench.ts';

describe('open-short on the simulated MOSAIC bench', () => {
  let bench: SimHarnessBench;
  beforeAll(async () => {
    bench = await openSimBench('mosaic-800g', {
      faults: {
        link: [
          { kind: 'open-lanes', lanes: [5, 390] },
          { kind: 'short-lanes', lanes: [6] },
        ],
      },
    });
  }, 60_000);
  afterAll(async () => bench?.close());

  it("finds the model's opens and shorts, marks them dead before the lane map, passes every other lane", async () => {
    const truth = bench.sim.model.electricalFaults();
    expect(truth).toEqual({ open: [5, 390], short: [6] });
    for (let run = 0; run < 2; run++) {
      // twice on one bench: the second screen starts where the first left the drive
      const ctx = await runStep(bench, openShortStep, {});
      const code = ctx.lanesOf('open_short');
      expect(code.size).toBe(400);
      const opens = [...code].filter(([, c]) => c === 1).map(([l]) => l);
      const shorts = [...code].filter(([, c]) => c === 2).map(([l]) => l);
      expect(opens).toEqual(truth.open);
      expect(shorts).toEqual(truth.short);
      expect([...ctx.lanes.dead].sort((a, b) => a - b)).toEqual([5, 6, 390]);
      expect(ctx.get('open_short').verdict).toBe('FAIL'); // MOSAIC has no spares: dead active lanes fail it
      expect(ctx.get('lanes_open').value).toBe(2);
      expect(ctx.get('lanes_short').value).toBe(1);
      // the readback against the model: a healthy lane's V_f at each current is the model's own
      for (const i of [1e-6, 1e-5]) {
        const vf = ctx.get('vf', { current: i }).value as { lanes: number[]; values: number[] };
        expect(vf.values[0]).toBeCloseTo(bench.sim.model.forwardVoltageAt(1, i), 3);
        expect(vf.values[4]).toBeCloseTo(3.3, 3); // the open reads the LED rail
        expect(vf.values[5]!).toBeLessThan(0.01); // the short: millivolts
        expect(ctx.get('vf_median', { current: i }).value).toBeCloseTo(bench.sim.model.forwardVoltageAt(1, i), 3);
      }
      expect(ctx.get('reverse_leakage_measured').value).toBe(0);
      // the drive is back at the operating point (read back), outputs as they were (off)
      const src = bench.instruments.get('current-source');
      expect(await src.getBias([1, 200])).toEqual([40e-6, 40e-6]);
      expect(await src.getModulation([1, 200])).toEqual([320e-6, 320e-6]);
      expect(await src.getOutput([1, 200])).toEqual([false, false]);
    }
  }, 60_000);
});

describe('open-short on the simulated LightBundle bench (spares)', () => {
  let bench: SimHarnessBench;
  beforeAll(async () => {
    bench = await openSimBench('lightbundle-512g', {
      seed: 3,
      faults: { link: [{ kind: 'open-lanes', lanes: [11] }] },
    });
  }, 60_000);
  afterAll(async () => bench?.close());

  it('an open spare leaves the spares, an open active lane fails the screen for the remap to repair', async () => {
    const spares = bench.sim.profile.geometry.spareLanes;
    const geometry = makeGeometry(16, 20, spares, 256);
    const lanes = makeLaneState(geometry);
    const spare = spares[0]!;
    bench.sim.model.setElectricalFault([spare], 'open');
    const ctx = await runStep(bench, openShortStep, {}, { geometry, lanes });
    // every lane the model knows dead is screened dead: the opens, and the seed's own dead emitters (V_f 0: shorts)
    const truth = bench.sim.model.deadLanes();
    expect(truth).toContain(spare);
    expect(truth).toContain(11);
    expect([...lanes.dead].sort((a, b) => a - b)).toEqual([...truth].sort((a, b) => a - b));
    expect(lanes.sparesLeft).toEqual(spares.filter((s) => !truth.includes(s)));
    expect(lanes.failed.has(11)).toBe(true);
    expect(ctx.lanesOf('open_short').get(spare)).toBe(1);
  }, 60_000);
});
