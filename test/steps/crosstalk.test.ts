import { describe, expect, it } from 'vitest';
import { crosstalkPenaltyDb } from '../../src/core/ber.ts';
import { crosstalkStep } from '../../src/steps/crosstalk.ts';
import { laneMapStep } from '../../src/steps/lane-map.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';

describe('crosstalk', () => {
  it('computes nearest and diagonal coupling and the eye penalty from the lane-map rows', async () => {
    const bench = createFakeBench({ rows: 8, cols: 8, nearest: 0.01, diagonal: 0.0025 });
    const map = await runStep(bench, laneMapStep, {});
    const calls = bench.log.calls.length;
    const ctx = await runStep(bench, crosstalkStep, {}, { lanes: map.lanes, shared: map.shared });
    expect(bench.log.calls.length).toBe(calls); // reuses the rows, no new measurements
    const near = ctx.lanesOf('xt_nearest_db');
    const diag = ctx.lanesOf('xt_diagonal_db');
    const pen = ctx.lanesOf('xt_penalty_db');
    // interior lane (r2,c2) = 19: 4 nearest at −20 dB, 4 diagonal at −26.02 dB
    expect(near.get(19)).toBeCloseTo(-20, 6);
    expect(diag.get(19)).toBeCloseTo(10 * Math.log10(0.0025), 6);
    expect(pen.get(19)).toBeCloseTo(crosstalkPenaltyDb([0.01, 0.01, 0.01, 0.01, 0.0025, 0.0025, 0.0025, 0.0025]), 6);
    // corner lane 1: 2 nearest, 1 diagonal
    expect(pen.get(1)).toBeCloseTo(crosstalkPenaltyDb([0.01, 0.01, 0.0025]), 6);
    expect(ctx.get('xt_nearest_db').verdict).toBe('PASS');
    expect(ctx.get('xt_penalty_db').verdict).toBe('PASS');
    expect(ctx.get('xt_penalty_worst_db').value).toBeCloseTo(pen.get(19)!, 9);
  });

  it('fails lanes over the limits and maps the lanes itself when no rows exist', async () => {
    const bench = createFakeBench({ nearest: 0.05, diagonal: 0.01, dead: [6] });
    const ctx = await runStep(bench, crosstalkStep, { failLanes: true });
    expect(bench.log.count('setOutput')).toBeGreaterThan(0); // it measured the rows
    const near = ctx.lanesOf('xt_nearest_db');
    expect(near.get(1)).toBeCloseTo(10 * Math.log10(0.05), 6);
    expect(near.has(6)).toBe(false); // dead: not a victim
    expect(ctx.get('xt_nearest_db').verdict).toBe('FAIL');
    // lane 11 (r2,c2): nearest 7, 10, 12, 15; diagonal 6 (dead, dark), 8, 14, 16
    // Σε = 4·0.05 + 3·0.01 → penalty 1.14 dB > 0.5
    expect(ctx.lanesOf('xt_penalty_db').get(11)).toBeCloseTo(
      crosstalkPenaltyDb([0.05, 0.05, 0.05, 0.05, 0.01, 0.01, 0.01]),
      6,
    );
    expect(ctx.get('xt_penalty_db').verdict).toBe('FAIL');
    expect(ctx.lanes.failed.has(11)).toBe(true);
  });
});
