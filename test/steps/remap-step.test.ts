/**
 * The remap step beyond the lane bookkeeping: what it declares, its parameters, the power re-test of a spare, the
 * rounds running out, and what it logs. Geometry 4x5 with the last column spare (16 active + 4 spares):
 *    1  2  3  4 | 5
 *    6  7  8  9 |10
 *   11 12 13 14 |15
 *   16 17 18 19 |20
 */
import { describe, expect, it } from 'vitest';
import { remapParams, remapStep } from '../../src/steps/remap.ts';
import { createFakeBench } from './fake-bench.ts';
import { makeGeometry, makeLaneState, runStep } from './helpers.ts';

const spares = [5, 10, 15, 20];

function setup(opts: Parameters<typeof createFakeBench>[0], dead: number[]) {
  const bench = createFakeBench({ rows: 4, cols: 5, ...opts });
  const geometry = makeGeometry(4, 5, spares);
  const lanes = makeLaneState(geometry);
  for (const d of dead) lanes.dead.add(d);
  return { bench, geometry, lanes };
}

describe('remap step declarations', () => {
  it('declares its measurements with units, dimensions and limits', () => {
    const specs = remapStep.measurements(
      remapParams.parse({ outlierDb: 2, targetBer: 1e-10 }),
      makeGeometry(4, 5, spares),
    );
    expect(specs).toEqual([
      { name: 'lanes_remapped', unit: 'count', dimensions: [] },
      { name: 'spares_left', unit: 'count', dimensions: [] },
      {
        name: 'unrepaired_lanes',
        unit: 'count',
        description: 'active lanes still dead or failed after the remap',
        limits: { high: 0 },
        dimensions: [],
      },
      {
        name: 'unrepaired',
        unit: 'bool',
        description: '1 for each physical lane that could not be replaced',
        limits: { high: 0 },
        dimensions: ['lane'],
      },
      {
        name: 'remap_p_op_delta_db',
        unit: 'dB',
        description: 'received power of each remapped lane vs the active lanes median',
        limits: { low: -2 },
        dimensions: ['lane'],
      },
      {
        name: 'remap_ber_upper_bound',
        unit: '',
        description: 'BER upper bound of each remapped lane',
        limits: { high: 1e-10 },
        dimensions: ['lane'],
      },
    ]);
    expect(remapStep.type).toBe('remap');
    expect(remapStep.description).toBe(
      'Replace dead and failed active lanes with spares and re-test them (power at I_op, BER screen)',
    );
  });

  it('has documented defaults and refuses parameters out of range', () => {
    expect(remapParams.parse({})).toEqual({
      retest: true,
      pattern: 'PRBS31',
      targetBer: 1e-9,
      confidence: 0.95,
      outlierDb: 3,
      rounds: 3,
      pollMs: 200,
      gateMargin: 1.02,
    });
    for (const bad of [{ rounds: 0 }, { rounds: 11 }, { pollMs: 0 }, { gateMargin: 0.99 }, { gateMargin: 2.01 }]) {
      expect(remapParams.safeParse(bad).success, JSON.stringify(bad)).toBe(false);
    }
    for (const good of [{ rounds: 1 }, { rounds: 10 }, { pollMs: 1 }, { gateMargin: 1 }, { gateMargin: 2 }]) {
      expect(remapParams.safeParse(good).success, JSON.stringify(good)).toBe(true);
    }
  });
});

describe('remap step re-test', () => {
  it('a spare 10 dB below the median fails the power re-test, skips the BER screen, and is replaced', async () => {
    // lane 7 is dead; its nearest spare is 10, which is weak (a tenth of the light): 5 takes over
    const { bench, geometry, lanes } = setup({ dead: [7], weak: { lane: 10, factor: 0.1 } }, [7]);
    const ctx = await runStep(bench, remapStep, {}, { geometry, lanes });
    expect(ctx.lanes.remapped.map((r) => [r.from, r.to])).toEqual([
      [7, 10],
      [10, 5],
    ]);
    expect(ctx.lanes.failed.get(10)).toBe('remap re-test: received power more than 3 dB below the median');
    const delta = ctx.lanesOf('remap_p_op_delta_db');
    expect(delta.get(10)!).toBeCloseTo(-10, 0);
    expect(Math.abs(delta.get(5)!)).toBeLessThan(1);
    expect(ctx.get('remap_p_op_delta_db').verdicts).toEqual(['FAIL', 'PASS']);
    // the BER screen ran on 5 only: the weak spare was never gated
    const gated = bench.log.calls.filter((c) => c.method === 'readCounters').map((c) => c.args[0]);
    expect(gated.length).toBeGreaterThan(0);
    expect(gated.every((l) => JSON.stringify(l) === '[5]')).toBe(true);
    expect([...ctx.lanesOf('remap_ber_upper_bound').keys()]).toEqual([5]);
    expect(ctx.lanesOf('remap_ber_upper_bound').get(5)!).toBeLessThan(1e-9);
    expect(ctx.lanesOf('remap_ber_upper_bound').get(5)!).toBeGreaterThan(0);
    expect(ctx.logs).toContainEqual({ level: 'warn', msg: 'spares 10 failed the re-test; replacing them' });
    expect(ctx.get('unrepaired_lanes').value).toBe(0);
  });

  it('when the rounds run out, a lane whose last spare failed is unrepaired and named', async () => {
    const { bench, geometry, lanes } = setup({ dead: [7], noisy: [10] }, [7]);
    const ctx = await runStep(bench, remapStep, { rounds: 1 }, { geometry, lanes });
    expect(ctx.lanes.remapped.map((r) => [r.from, r.to])).toEqual([[7, 10]]);
    expect(ctx.lanes.failed.get(10)).toBe('remap re-test: BER above 1e-9');
    expect(ctx.get('unrepaired_lanes')).toMatchObject({ value: 1, verdict: 'FAIL' });
    expect([...ctx.lanesOf('unrepaired').entries()]).toEqual([[10, 1]]);
    expect(ctx.logs).toContainEqual({
      level: 'warn',
      msg: '1 lane(s) could not be repaired (no good spare left): logical 5 on physical 10',
    });
  });

  it('names every lane in its messages, comma-separated', async () => {
    // lanes 7 and 12 go to their nearest spares 10 and 15, which both count errors
    const a = setup({ dead: [7, 12], noisy: [10, 15] }, [7, 12]);
    const ctx = await runStep(a.bench, remapStep, { rounds: 1 }, { geometry: a.geometry, lanes: a.lanes });
    expect(ctx.logs).toContainEqual({ level: 'warn', msg: 'spares 10, 15 failed the re-test; replacing them' });
    const b = setup({ dead: [1, 2, 3, 10, 15, 20] }, [1, 2, 3, 10, 15, 20]);
    const out = await runStep(b.bench, remapStep, {}, { geometry: b.geometry, lanes: b.lanes });
    expect(out.logs).toContainEqual({
      level: 'warn',
      msg:
        '2 lane(s) could not be repaired (no good spare left): ' + 'logical 1 on physical 2, logical 2 on physical 3',
    });
  });

  it('logs each move, and touches no instrument when nothing needs a spare', async () => {
    const moved = setup({ dead: [7] }, [7]);
    const ctx = await runStep(moved.bench, remapStep, {}, { geometry: moved.geometry, lanes: moved.lanes });
    expect(ctx.logs).toContainEqual({ level: 'info', msg: 'logical lane 5 from physical 7 to spare 10' });
    expect(ctx.logs.filter((l) => l.level !== 'info')).toEqual([]);

    const clean = setup({}, []);
    const idle = await runStep(clean.bench, remapStep, {}, { geometry: clean.geometry, lanes: clean.lanes });
    expect(clean.bench.log.calls).toHaveLength(0);
    expect(idle.get('lanes_remapped').value).toBe(0);
    expect(idle.get('spares_left').value).toBe(4);
    expect(idle.lanesOf('remap_p_op_delta_db').size).toBe(0);
  });
});
