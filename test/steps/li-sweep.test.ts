import { describe, expect, it } from 'vitest';
import { fitLi, type LiSweepResult, liSweepStep, sweepCurrents } from '../../src/steps/li-sweep.ts';
import { SHARED } from '../../src/steps/util.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';

describe('li-sweep', () => {
  it('extracts slope, threshold, p_op and V_f of the known L-I and flags the weak lane', async () => {
    // no crosstalk: received slope = coupling 0.5 × 0.3 W/A; threshold 10 µA
    const bench = createFakeBench({ nearest: 0, diagonal: 0, weak: { lane: 7, factor: 0.3 } });
    const ctx = await runStep(bench, liSweepStep, { points: 20 });
    const slope = ctx.lanesOf('li_slope');
    const thr = ctx.lanesOf('li_threshold');
    for (const l of [1, 5, 16]) {
      expect(slope.get(l)).toBeCloseTo(0.15, 6);
      expect(thr.get(l)! * 1e6).toBeCloseTo(10, 3);
    }
    expect(slope.get(7)).toBeCloseTo(0.045, 6);
    expect(ctx.get('i_op').value).toBeCloseTo(200e-6, 12);
    const pOp = ctx.lanesOf('p_op_dbm');
    expect(pOp.get(1)).toBeCloseTo(10 * Math.log10((0.15 * 190e-6) / 1e-3), 1);
    const vf = ctx.lanesOf('vf_op');
    expect(vf.get(1)).toBeCloseTo(2.5 + 1000 * 200e-6, 2);
    // weak lane: −5.2 dB below the median → outlier, failed
    expect(ctx.get('p_op_delta_db').verdict).toBe('FAIL');
    expect(ctx.get('li_outliers').value).toBe(1);
    expect(ctx.lanes.failed.has(7)).toBe(true);
    expect(ctx.lanes.failed.size).toBe(1);
    // and the charted outliers (median ± 5 MAD, at least 0.5 dB): lane 7 alone, with its deviation
    const unusual = ctx.lanesOf('li_outlier_db');
    expect([...unusual.keys()]).toEqual([7]);
    expect(unusual.get(7)).toBeCloseTo(ctx.lanesOf('p_op_delta_db').get(7)!, 9);
    expect(ctx.get('li_outlier_db').verdict).toBe('PASS'); // information, no limit
    // streamed: a frame per point and p_op_dbm; the median lane's curve as 20 points with at.current
    expect(ctx.frames.filter((f) => f.metric === 'received_power')).toHaveLength(20);
    expect(ctx.frames.some((f) => f.metric === 'p_op_dbm')).toBe(true);
    const curve = ctx.all('li_curve');
    expect(curve).toHaveLength(20);
    expect(curve[19].at.current).toBeCloseTo(600e-6, 12);
    expect(curve[19].value as number).toBeCloseTo(0.15 * (600e-6 - 10e-6), 9);
    // operating point restored
    expect(bench.model.bias.every((b) => b === 40e-6)).toBe(true);
    expect(bench.model.mod.every((m) => m === 320e-6)).toBe(true);
    const r = ctx.shared.get(SHARED.liSweep) as LiSweepResult;
    expect(r.power).toHaveLength(20);
  });

  it('uses at most 3 instrument round trips per point (400 lanes x 20 points)', async () => {
    const bench = createFakeBench({ rows: 20, cols: 20 });
    await runStep(bench, liSweepStep, { points: 20 });
    const perPoint = bench.log.count('setBias') + bench.log.count('receivedPower') + bench.log.count('forwardVoltage');
    expect(bench.log.count('receivedPower')).toBe(20);
    expect(bench.log.count('forwardVoltage')).toBe(20);
    expect(perPoint).toBeLessThanOrEqual(3 * 20 + 1); // +1: the restore of the operating point
    expect(bench.log.calls.length).toBeLessThan(75);
  });

  it('sweeps log and linear grids and fits with a fallback', () => {
    expect(sweepCurrents(1e-6, 1e-4, 3, 'log').map((x) => x * 1e6)).toEqual(
      [1, 10, 100].map((x) => expect.closeTo(x, 9)),
    );
    expect(sweepCurrents(0, 10, 3, 'linear')).toEqual([0, 5, 10]);
    const f = fitLi([1, 2, 3, 4], [0, 2, 4, 6], 100, 200); // nothing in range: upper half
    expect(f.slope).toBeCloseTo(2, 9);
    expect(f.threshold).toBeCloseTo(1, 9);
  });
});

describe('li-sweep drift', () => {
  it("compares p_op with the step's first sweep (P(85)/P(25) ≥ 0.9)", async () => {
    const bench = createFakeBench({ nearest: 0, diagonal: 0 });
    const first = await runStep(bench, liSweepStep, { points: 8 }, { stepId: 'li-check', at: { temperature: 25 } });
    expect(first.get('p_op_drift_db').verdict).toBe('PASS');
    bench.model.o.slope = 0.3 * 0.85; // 15 % less light when hot
    const hot = await runStep(
      bench,
      liSweepStep,
      { points: 8 },
      { stepId: 'li-check', at: { temperature: 85 }, shared: first.shared },
    );
    const drift = hot.lanesOf('p_op_drift_db');
    expect(drift.get(1)).toBeCloseTo(10 * Math.log10(0.85), 6);
    expect(hot.get('p_op_drift_db').verdict).toBe('FAIL');
    expect(hot.get('p_op_drift_db').at.temperature).toBe(85);
  });
});
