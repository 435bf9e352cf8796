import { describe, expect, it } from 'vitest';
import { type LaneMapResult, laneMapStep } from '../../src/steps/lane-map.ts';
import { SHARED } from '../../src/steps/util.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';

const defects = { dead: [6], swap: [3, 12] as [number, number], weak: { lane: 11, factor: 0.3 } };

describe('lane-map', () => {
  for (const frame of [false, true]) {
    for (const method of ['walking', 'coded'] as const) {
      it(`finds the dead lane and the swapped pair (${frame ? 'CMOS centroids' : 'PD argmax'}, ${method})`, async () => {
        const bench = createFakeBench({ ...defects, frame });
        const ctx = await runStep(bench, laneMapStep, { method });
        const map = ctx.shared.get(SHARED.laneMap) as LaneMapResult;
        expect(map.dead).toEqual([6]);
        expect(map.swapped).toEqual([[3, 12]]);
        expect(map.rxOf.get(3)).toBe(12);
        expect(map.rxOf.get(12)).toBe(3);
        expect(map.rxOf.get(11)).toBe(11); // the weak lane still maps
        expect(map.unit).toBe(frame ? 'counts' : 'A');
        expect(ctx.get('lanes_dead').value).toBe(1);
        expect(ctx.get('lanes_swapped').value).toBe(1);
        expect(ctx.get('lanes_ambiguous').verdict).toBe('PASS');
        const ok = ctx.lanesOf('lane_map_ok');
        expect(ok.get(6)).toBe(0);
        expect(ok.get(3)).toBe(1);
        expect([...ok.values()].filter((v) => v === 1)).toHaveLength(15);
        // lane state: the dead lane is dead; logical lanes 3 and 12 now transmit on each other's lane
        expect(ctx.lanes.dead.has(6)).toBe(true);
        expect(ctx.lanes.swapped).toEqual([[3, 12]]);
        expect(ctx.lanes.logicalToPhysical[2]).toBe(12);
        expect(ctx.lanes.logicalToPhysical[11]).toBe(3);
        // peak photocurrent: R · coupling · slope · (I1 − Ith) / 2 + R·c·slope·(I0 − Ith)/2 for a healthy lane
        const pk = ctx.lanesOf('peak_photocurrent');
        const expected = 0.25 * 0.5 * 0.3 * (0.5 * (40e-6 - 10e-6) + 0.5 * (360e-6 - 10e-6));
        expect(pk.get(1)).toBeCloseTo(expected, 9);
        expect(pk.get(11)! / pk.get(1)!).toBeCloseTo(0.3, 2);
        expect(pk.get(6)).toBeNull();
        // outputs restored (all were off)
        expect(bench.model.out.every((o) => !o)).toBe(true);
        if (frame) expect(map.centroids?.length).toBe(16);
      });
    }
  }

  it('fails naming the receiver lane whose spot clips the sensor (a pixel at full scale), the others mapped', async () => {
    // lane 5 far brighter than the rest: its spot's centre pixel reaches the top of the 16-bit frame
    const bench = createFakeBench({ frame: true, weak: { lane: 5, factor: 400 } });
    const ctx = await runStep(bench, laneMapStep, { method: 'walking' });
    const map = ctx.shared.get(SHARED.laneMap) as LaneMapResult;
    expect(map.saturated).toEqual([5]);
    expect(ctx.get('lanes_saturated').value).toBe(1);
    expect(ctx.get('lanes_saturated').verdict).toBe('FAIL');
    expect(map.rxOf.get(5)).toBe(5);
    // the same bench at the normal brightness: nothing clips
    const normal = await runStep(createFakeBench({ frame: true }), laneMapStep, { method: 'walking' });
    expect(normal.get('lanes_saturated').value).toBe(0);
    expect(normal.get('lanes_saturated').verdict).toBe('PASS');
  });

  it('is idempotent: mapping twice keeps the logical lanes on the same receiver lanes', async () => {
    const bench = createFakeBench(defects);
    const first = await runStep(bench, laneMapStep, {});
    const second = await runStep(bench, laneMapStep, {}, { lanes: first.lanes, shared: first.shared });
    expect(second.lanes.logicalToPhysical).toEqual(first.lanes.logicalToPhysical);
  });

  it('finds a swap inside one sparse group and stores sparse rows (8x8, coded)', async () => {
    // lanes 1 (r0,c0) and 37 (r4,c4) share the sparse group with spacing 4
    const bench = createFakeBench({ rows: 8, cols: 8, dead: [20], swap: [1, 37] });
    const ctx = await runStep(bench, laneMapStep, { method: 'coded', spacing: 4 });
    const map = ctx.shared.get(SHARED.laneMap) as LaneMapResult;
    expect(map.dead).toEqual([20]);
    expect(map.swapped).toEqual([[1, 37]]);
    expect(map.rows.filter((r) => r.lit.length > 1).length).toBe(16);
  });

  it('uses far fewer round trips than walking one lane at a time (20x20)', async () => {
    const coded = createFakeBench({ rows: 20, cols: 20, dead: [17], swap: [5, 390] });
    const c = await runStep(coded, laneMapStep, { method: 'coded' });
    const walking = createFakeBench({ rows: 20, cols: 20, dead: [17], swap: [5, 390] });
    const w = await runStep(walking, laneMapStep, { method: 'walking' });
    const mc = c.shared.get(SHARED.laneMap) as LaneMapResult;
    const mw = w.shared.get(SHARED.laneMap) as LaneMapResult;
    expect(mc.dead).toEqual([17]);
    expect(mw.dead).toEqual([17]);
    expect(mc.swapped).toEqual([[5, 390]]);
    const sorted = (m: Map<number, number>) => [...m].sort((a, b) => a[0] - b[0]);
    expect(sorted(mc.rxOf)).toEqual(sorted(mw.rxOf));
    expect(coded.log.calls.length).toBeLessThan(130);
    expect(walking.log.calls.length).toBeGreaterThan(1000);
    expect(mc.roundTrips).toBe(coded.log.calls.length);
  });

  it('lights lanes with a DC bias when iOpA is given and restores the operating point', async () => {
    const bench = createFakeBench(defects);
    await runStep(bench, laneMapStep, { iOpA: 100e-6 });
    expect(bench.model.bias.every((b) => b === 40e-6)).toBe(true);
    expect(bench.model.mod.every((m) => m === 320e-6)).toBe(true);
    expect(bench.log.calls.some((c) => c.method === 'setBias' && c.args[1] === 100e-6)).toBe(true);
  });
});
