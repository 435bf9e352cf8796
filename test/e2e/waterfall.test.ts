/**
 * The waterfall against the truth: the simulated bench's link model knows every lane's BER at any drive, so the
 * level where a lane truly reaches 1e-12 (all lanes lowered together, as the step lowers them) can be found by
 * bisection on the model, independently of the step's counting and fitting. Healthy lanes' fitted margins must be
 * within 0.3 dB of it.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext, startSequenceRun } from '../../src/app/context.ts';
import type { LaneMeasurement, RunRecord } from '../../src/core/record.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import { modelMarginsDb } from '../helpers/model-margin.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
let ctx: AppContext;
let rec: RunRecord;

beforeAll(async () => {
  ctx = await openContext({
    sim: { profile: 'mosaic-800g', timeScale: 1000, seed: 3 },
    db: join(tmp.make(), 'runs.db'),
  });
  const seq = parseSequence(
    'name: wf\nsteps:\n  - { id: wf, type: waterfall, params: { targetBer: 1.0e-12, minMarginDb: 3 } }\n',
    'wf.yaml',
    ctx.registry,
    ctx.loadContext,
  );
  rec = await startSequenceRun(ctx, seq, { dut: 'WF-1', operator: 'test' }).done;
}, 120_000);

afterAll(async () => {
  await ctx?.close();
  tmp.cleanup();
});

const lanesOf = (name: string) =>
  rec.steps[0]!.measurements.find((m) => m.spec.name === name) as LaneMeasurement | undefined;

describe('waterfall on the simulated bench', () => {
  it("fits each healthy lane's margin to 1e-12 within 0.3 dB of the link model's own", () => {
    expect(rec.outcome, rec.error).toBe('PASS');
    const margin = lanesOf('sensitivity_margin_db')!;
    expect(margin.lanes.length).toBeGreaterThan(300); // most lanes count enough errors to fit
    // Each lane within 0.3 dB of the truth, or within the 95 % interval the step itself reports when that is
    // wider (the best lanes count few errors at the levels they are fitted on: a lane 0.3 dB better than the
    // typical one can carry a ±0.7 dB interval); and nearly every lane within 0.3 dB.
    const interval = lanesOf('sensitivity_interval_db')!;
    let checked = 0;
    let within = 0;
    const sampled = margin.lanes.filter((_, i) => i % 13 === 0);
    const truths = modelMarginsDb(ctx, sampled);
    for (const [k, lane] of sampled.entries()) {
      const fitted = margin.values[margin.lanes.indexOf(lane)]!;
      const width = interval.values[interval.lanes.indexOf(lane)] ?? 0;
      const err = Math.abs(fitted - truths[k]!);
      expect(err, `lane ${lane} (its interval ±${width})`).toBeLessThan(Math.max(0.3, width));
      if (err < 0.3) within++;
      checked++;
    }
    expect(checked).toBeGreaterThan(20);
    expect(within / checked).toBeGreaterThan(0.9);
  });

  it('reports the interval, the points, the counted BER per level, and lanes too good to fit apart', () => {
    const interval = lanesOf('sensitivity_interval_db')!;
    const widths = (interval.values.filter((v) => v !== null) as number[]).sort((a, b) => a - b);
    expect(widths.length).toBe(
      interval.lanes.length - lanesOf('sensitivity_margin_db')!.values.filter((v) => v === null).length,
    );
    expect(widths[0]!).toBeGreaterThan(0);
    expect(widths[widths.length >> 1]!).toBeLessThan(0.2); // the typical lane's 95 % interval: ± under 0.2 dB
    const points = lanesOf('waterfall_points')!;
    const judged = new Set(lanesOf('sensitivity_margin_db')!.lanes);
    const used = points.lanes.filter((l) => judged.has(l)).map((l) => points.values[points.lanes.indexOf(l)] as number);
    expect(Math.min(...used)).toBeGreaterThanOrEqual(2); // a fit has two points or more
    const levels = rec.steps[0]!.measurements.filter((m) => m.spec.name === 'waterfall_ber').map((m) => m.at!.drive_db);
    expect(levels.length).toBeGreaterThanOrEqual(3);
    expect(new Set(levels).size).toBe(levels.length); // one measurement per level, never overwritten
    const better = lanesOf('sensitivity_better_than_db')!;
    const fitted = new Set(lanesOf('sensitivity_margin_db')!.lanes);
    for (const l of better.lanes) expect(fitted.has(l)).toBe(false);
    expect(better.lanes.length + fitted.size).toBe(400);
    // the drive is back at the operating point
    const m = rec.steps[0]!.measurements.find((x) => x.spec.name === 'worst_margin_db')!;
    expect(m.kind === 'scalar' && m.value! > 3).toBe(true);
  });
});
