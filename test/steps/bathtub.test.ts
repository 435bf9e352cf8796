/**
 * The bathtub step through the engine's step context on the simulated bench: the link model knows every lane's BER
 * at any decision threshold, so each lane's true edges at 1e-12 can be found by bisection on the model, apart from
 * the step's counting and fitting. A station whose error detector has no threshold control is refused at load.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stationLoadContext } from '../../src/app/context.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import type { LaneValues } from '../../src/orchestrator/step.ts';
import { bathtubStep } from '../../src/steps/bathtub.ts';
import { createStepRegistry } from '../../src/steps/registry.ts';
import { runStep } from './helpers.ts';
import { openSimBench, type SimHarnessBench } from './sim-bench.ts';

describe('bathtub on the simulated MOSAIC bench', () => {
  let bench: SimHarnessBench;
  beforeAll(async () => {
    bench = await openSimBench('mosaic-800g', { seed: 5 });
  }, 60_000);
  afterAll(async () => bench?.close());

  it("fits each lane's eye edges at 1e-12 within 0.01 of the link model's, and puts the threshold back", async () => {
    const lanes = [1, 2, 57, 200, 399];
    const thr = bench.instruments.get('decision-threshold');
    await thr.setThreshold(0.45); // not the centre: the step must restore what it found
    const ctx = await runStep(bench, bathtubStep, { lanes, targetBer: 1e-12, minOpening: 0.3 });
    expect(await thr.threshold()).toBe(0.45);
    const opening = ctx.lanesOf('eye_opening');
    const low = ctx.lanesOf('threshold_low_edge');
    const high = ctx.lanesOf('threshold_high_edge');
    // the truth: the model at the operating drive, each threshold set on the model itself
    const m = bench.sim.model;
    const ber = (lane: number, t: number) => {
      m.setThreshold(t);
      return m.ber()[lane - 1]!;
    };
    const edge = (lane: number, outer: number) => {
      let out = outer;
      let inner = 0.5;
      for (let i = 0; i < 50; i++) {
        const mid = (out + inner) / 2;
        if (ber(lane, mid) > 1e-12) out = mid;
        else inner = mid;
      }
      return (out + inner) / 2;
    };
    for (const lane of lanes) {
      const lo = edge(lane, 0);
      const hi = edge(lane, 1);
      expect(low.get(lane)!, `lane ${lane} low edge`).toBeCloseTo(lo, 2);
      expect(high.get(lane)!, `lane ${lane} high edge`).toBeCloseTo(hi, 2);
      expect(Math.abs(opening.get(lane)! - (hi - lo)), `lane ${lane} opening`).toBeLessThan(0.01);
    }
    m.setThreshold(0.45);
    expect(ctx.get('eye_opening').verdict).toBe('PASS');
    expect(ctx.get('bathtub_lanes_floor').value).toBe(0);
    // every point kept its coordinate: one BER per lane per threshold gated, on both sides of the centre
    const points = ctx.all('bathtub_ber');
    const ts = points.map((p) => p.at.threshold!);
    expect(ts.some((t) => t < 0.5) && ts.some((t) => t > 0.5)).toBe(true);
    expect(new Set(ts).size).toBe(ts.length);
    expect((points[0]!.value as LaneValues).lanes).toEqual(lanes);
  }, 120_000);

  it('a limit above the eye fails the lanes, with their fitted openings kept', async () => {
    const ctx = await runStep(bench, bathtubStep, { lanes: [3, 4], minOpening: 0.9 });
    expect(ctx.get('eye_opening').verdict).toBe('FAIL');
    expect([...ctx.lanesOf('eye_opening').values()].every((v) => v !== null && v > 0.3 && v < 0.9)).toBe(true);
    expect(ctx.get('worst_eye_opening').verdict).toBe('FAIL');
  }, 120_000);
});

describe('bathtub at load', () => {
  it('is refused on a station whose error detector has no threshold control, naming the capability', async () => {
    const bert = await openSimBench('mosaic-800g-bert');
    try {
      const load = () =>
        parseSequence(
          'name: bt\nsteps:\n  - { id: eye, type: bathtub }\n',
          'bt.yaml',
          createStepRegistry(),
          stationLoadContext(bert.station),
        );
      expect(load).toThrow(/bt\.yaml:3:\d+.*step eye \(bathtub\) needs a decision-threshold, which no instrument/);
    } finally {
      await bert.close();
    }
  }, 60_000);
});
