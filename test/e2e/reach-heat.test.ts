/**
 * The link model's reach and heat as a qualification sees them, on the simulated bench over real sockets:
 * - alc-30m: a waterfall at 30 m and at 5 m of fibre (`fibreLengthM`, `--fibre-length`): the sensitivity margins
 *   differ by what the model predicts (its own bisection of each length's 1e-12 level);
 * - mosaic-800g: an L-I at 85 °C (the TEC really settles there first) peaks where the model's rollover is, and the
 *   same sweep at 25 °C still rises at the top of the range;
 * - the record carries the device (fibre, pitch, lanes/mm²) and the DUT against its class.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { openContext, startSequenceRun } from '../../src/app/context.ts';
import type { LaneMeasurement, RunRecord, ScalarMeasurement } from '../../src/core/record.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderJson } from '../../src/report/json.ts';
import { rolloverCurrent } from '../../src/sim/model/emitter.ts';
import { loadProfile } from '../../src/sim/model/profile.ts';
import { modelMarginsDb } from '../helpers/model-margin.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
afterAll(() => tmp.cleanup());

async function waterfallAt(fibreLengthM: number) {
  const ctx = await openContext({
    sim: { profile: 'alc-30m', timeScale: 1000, seed: 3, fibreLengthM },
    db: join(tmp.make(), 'runs.db'),
  });
  try {
    const seq = parseSequence(
      [
        'name: wf',
        'steps:',
        '  - { id: wf, type: waterfall, params: { targetBer: 1.0e-12, minMarginDb: 0 } }',
        '  - { id: ber, type: ber, params: { targetBer: 1.0e-12, confidence: 0.95, lanes: active } }',
        '',
      ].join('\n'),
      'wf.yaml',
      ctx.registry,
      ctx.loadContext,
    );
    const rec = await startSequenceRun(ctx, seq, { dut: `ALC-${fibreLengthM}`, operator: 'test' }).done;
    const margin = rec.steps[0]!.measurements.find((m) => m.spec.name === 'sensitivity_margin_db') as LaneMeasurement;
    const fitted = (margin.values.filter((v) => v !== null) as number[]).sort((a, b) => a - b);
    // the model's own: the level where the median lane reaches 1e-12, all lanes lowered together
    const truths = modelMarginsDb(
      ctx,
      margin.lanes.filter((_, i) => i % 20 === 0),
    ).sort((a, b) => a - b);
    return { rec, median: fitted[fitted.length >> 1]!, truth: truths[truths.length >> 1]!, fitted: fitted.length };
  } finally {
    await ctx.close();
  }
}

describe('reach on alc-30m', () => {
  it('a waterfall at 30 m and at 5 m differs as the model predicts', async () => {
    const far = await waterfallAt(30);
    const near = await waterfallAt(5);
    expect(far.rec.summary?.device?.fibreLengthM).toBe(30);
    expect(near.rec.summary?.device?.fibreLengthM).toBe(5);
    expect(far.fitted).toBeGreaterThan(300);
    expect(near.fitted).toBeGreaterThan(300);
    const predicted = near.truth - far.truth;
    expect(predicted).toBeGreaterThan(2); // 2.5 dB less loss, 6x less crosstalk, 6x the modal bandwidth
    expect(Math.abs(near.median - far.median - predicted)).toBeLessThan(0.3);
    expect(Math.abs(far.median - far.truth)).toBeLessThan(0.3);
    // the record: the run at 30 m shows the class's 30 m reach met; at 5 m that reach is not measured
    const reach = (r: RunRecord) => r.summary?.classCheck?.results.find((x) => x.metric === 'reach_m');
    expect(reach(far.rec)).toMatchObject({ value: 30, met: true });
    expect(reach(near.rec)?.met).toBeNull();
  }, 240_000);
});

describe('heat on mosaic-800g', () => {
  it('at 85 °C the L-I rolls over where the model puts it; at 25 °C it still rises', async () => {
    const ctx = await openContext({ sim: { profile: 'mosaic-800g', timeScale: 1000 }, db: join(tmp.make(), 'r.db') });
    let rec: RunRecord;
    try {
      const seq = parseSequence(
        [
          'name: li-hot',
          'steps:',
          '  - id: temperature',
          '    type: temperature-sweep',
          '    params: { setpoints: [25, 85], toleranceC: 0.2, dwellS: 2, settleTimeoutS: 600, idleC: 25 }',
          '    steps:',
          '      - { id: li, type: li-sweep, params: { points: 41, spacing: linear, iMinA: 1.0e-5, iMaxA: 6.0e-4, framePerPoint: false, driftMaxDb: 3 } }',
          '',
        ].join('\n'),
        'li-hot.yaml',
        ctx.registry,
        ctx.loadContext,
      );
      rec = await startSequenceRun(ctx, seq, { dut: 'HOT-1', operator: 'test' }).done;
    } finally {
      await ctx.close();
    }
    const steps = rec.steps.filter((s) => s.type === 'li-sweep');
    const curve = (t: number) =>
      steps
        .flatMap((s) => s.measurements)
        .filter((m): m is ScalarMeasurement => m.spec.name === 'li_curve' && m.at?.temperature === t)
        .map((m) => ({ i: m.at!.current!, p: m.value! }))
        .sort((a, b) => a.i - b.i);
    const hot = curve(85);
    const cold = curve(25);
    expect(hot).toHaveLength(41);
    expect(cold).toHaveLength(41);
    const peak = hot.reduce((a, b) => (b.p > a.p ? b : a));
    const prof = loadProfile('mosaic-800g');
    const predicted = rolloverCurrent(85, { ...prof.emitter, wavelengthNm: 450 }, 1e-4, 3e-3);
    const stepA = (6e-4 - 1e-5) / 40;
    expect(Math.abs(peak.i - predicted)).toBeLessThanOrEqual(stepA);
    expect(hot[hot.length - 1]!.p).toBeLessThan(peak.p * 0.995); // it falls after the peak
    expect(cold[cold.length - 1]!.p).toBeGreaterThan(cold[cold.length - 2]!.p); // 25 °C: still rising at 600 µA
    // the temperature sweep waited for the PID to settle (overshoot and ringing take instrument time)
    const settle = rec.steps
      .flatMap((s) => s.measurements)
      .find((m): m is ScalarMeasurement => m.spec.name === 'tec_settle_s' && m.at?.temperature === 85);
    expect(settle?.value).toBeGreaterThan(120); // 60 °C at 0.5 °C/s, then the loop settles
    // the device in the record
    expect(rec.summary?.device).toMatchObject({ class: 'mosaic-800g', fibreLengthM: 10, lanePitchUm: 45 });
    expect(rec.summary?.device?.lanesPerMm2).toBeCloseTo(400 / 0.81, 6);
    expect(rec.summary?.classCheck?.results.find((x) => x.metric === 'lanes_per_mm2')?.met).toBe(true);
    // the JSON and HTML reports carry it
    expect(JSON.parse(renderJson(rec)).summary.classCheck.class).toBe('mosaic-800g');
    const html = renderHtml(rec);
    expect(html).toContain('<h2>DUT against its class</h2>');
    expect(html).toMatch(/lane density<\/td><td>≥ 400 lanes\/mm²<\/td><td class="num">493\.8/);
    expect(html).toMatch(/energy per bit<\/td><td>3\.9\.\.6\.6 pJ\/bit<\/td><td class="num">—<\/td><td>not measured/);
  }, 240_000);
});
