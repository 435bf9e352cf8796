import { describe, expect, it } from 'vitest';
import { remapStep } from '../../src/steps/remap.ts';
import { createFakeBench } from './fake-bench.ts';
import { makeGeometry, makeLaneState, runStep } from './helpers.ts';

// 4x5 array, the last column is spare (LightBundle-style): 16 active + 4 spares
const spares = [5, 10, 15, 20];

function setup(opts: Parameters<typeof createFakeBench>[0], dead: number[], failed: number[] = []) {
  const bench = createFakeBench({ rows: 4, cols: 5, ...opts });
  const geometry = makeGeometry(4, 5, spares);
  const lanes = makeLaneState(geometry);
  for (const d of dead) lanes.dead.add(d);
  for (const f of failed) lanes.failed.set(f, 'test');
  return { bench, geometry, lanes };
}

describe('remap', () => {
  it('replaces dead and failed lanes with the nearest good spare, never a dead one, and re-tests them', async () => {
    const { bench, geometry, lanes } = setup({ dead: [7, 10] }, [7, 10], [13]);
    const ctx = await runStep(bench, remapStep, {}, { geometry, lanes });
    const to = ctx.lanes.remapped.map((r) => r.to);
    expect(to).not.toContain(10);
    expect(ctx.lanes.remapped).toEqual([
      { logical: 5, from: 7, to: 5 },
      { logical: 10, from: 13, to: 15 },
    ]);
    expect(ctx.lanes.active()).not.toContain(7);
    expect(ctx.lanes.active()).toContain(5);
    expect(ctx.lanes.sparesLeft).toEqual([20]);
    expect(ctx.get('lanes_remapped').value).toBe(2);
    expect(ctx.get('spares_left').value).toBe(1);
    expect(ctx.get('unrepaired_lanes').verdict).toBe('PASS');
    // re-test: BER screen on just the new lanes, and their power against the median
    const gateLanes = bench.log.calls.filter((c) => c.method === 'readCounters').at(-1)!.args[0];
    expect(gateLanes).toEqual([5, 15]);
    expect(ctx.lanesOf('remap_ber_upper_bound').size).toBe(2);
    expect(ctx.get('remap_ber_upper_bound').verdict).toBe('PASS');
    expect(ctx.get('remap_p_op_delta_db').verdict).toBe('PASS');
  });

  it('replaces a spare that fails its re-test with the next one', async () => {
    // the nearest spare to lane 7 (r1,c1) is 10 (r1,c4); it counts errors, so 5 (r0,c4) takes over
    const { bench, geometry, lanes } = setup({ dead: [7], noisy: [10] }, [7]);
    const ctx = await runStep(bench, remapStep, {}, { geometry, lanes });
    expect(ctx.lanes.failed.has(10)).toBe(true);
    expect(ctx.lanes.logicalToPhysical[5]).toBe(5);
    expect(ctx.lanes.remapped.map((r) => [r.from, r.to])).toEqual([
      [7, 10],
      [10, 5],
    ]);
    expect(ctx.get('unrepaired_lanes').value).toBe(0);
  });

  it('fails naming the lanes when the spares run out', async () => {
    const { bench, geometry, lanes } = setup({ dead: [1, 2, 3, 10, 15, 20] }, [1, 2, 3, 10, 15, 20]);
    const ctx = await runStep(bench, remapStep, {}, { geometry, lanes });
    expect(ctx.lanes.remapped.map((r) => r.to)).toEqual([5]);
    expect(ctx.get('unrepaired_lanes').value).toBe(2);
    expect(ctx.get('unrepaired_lanes').verdict).toBe('FAIL');
    const per = ctx.lanesOf('unrepaired');
    expect([...per.keys()]).toEqual([2, 3]);
    expect(ctx.get('unrepaired').verdict).toBe('FAIL');
    // a DUT finding the unrepaired_lanes FAIL carries: a warning, not an error of the step
    expect(ctx.logs.some((l) => l.level === 'warn' && /physical 2.*physical 3/.test(l.msg))).toBe(true);
    expect(ctx.lanes.sparesLeft).toEqual([]);
  });

  it('without retest only updates the lane state', async () => {
    const { bench, geometry, lanes } = setup({ dead: [7] }, [7]);
    const ctx = await runStep(bench, remapStep, { retest: false }, { geometry, lanes });
    expect(ctx.lanes.remapped).toHaveLength(1);
    expect(bench.log.calls).toHaveLength(0);
  });
});
