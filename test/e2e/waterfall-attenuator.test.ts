/**
 * The waterfall through the attenuator, against the truth. On the BERT bench (a 4-channel error detector behind a
 * switch, an N7764A-class attenuator in front of each input) the waterfall sets the received power with the
 * attenuator, not the drive: the link model knows each lane's BER for any extra path loss, so the loss where a
 * lane truly reaches 1e-12 is found by bisection on the model, independently of the step's counting and fitting.
 * And a sequence asking for the attenuator on a bench without one is refused at load, at the param's line.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext, startSequenceRun } from '../../src/app/context.ts';
import type { LaneMeasurement, RunRecord } from '../../src/core/record.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
let ctx: AppContext;
let rec: RunRecord;
const LANES = [1, 2, 3, 4, 57, 58, 59, 60, 201, 202, 203, 204];

beforeAll(async () => {
  ctx = await openContext({
    sim: { profile: 'mosaic-800g-bert', timeScale: 100000, seed: 5 },
    db: join(tmp.make(), 'runs.db'),
  });
  const seq = parseSequence(
    `name: wf\nsteps:\n  - { id: wf, type: waterfall, params: { lanes: [${LANES.join(', ')}], targetBer: 1.0e-12, minMarginDb: 3 } }\n`,
    'wf.yaml',
    ctx.registry,
    ctx.loadContext,
  );
  rec = await startSequenceRun(ctx, seq, { dut: 'WF-VOA', operator: 'test' }).done;
}, 180_000);

afterAll(async () => {
  await ctx?.close();
  tmp.cleanup();
});

const lanesOf = (name: string) =>
  rec.steps[0]!.measurements.find((m) => m.spec.name === name) as LaneMeasurement | undefined;

describe('waterfall through the attenuator', () => {
  it('sets the received power with the attenuator and fits each lane within 0.3 dB of the model', async () => {
    expect(rec.outcome, rec.error).toBe('PASS');
    const levels = rec.steps[0]!.measurements.filter((m) => m.spec.name === 'waterfall_ber');
    expect(levels.length).toBeGreaterThan(3);
    expect(levels.every((m) => m.at?.power_db !== undefined && m.at?.drive_db === undefined)).toBe(true);
    const margin = lanesOf('sensitivity_margin_db')!;
    expect(margin.lanes).toEqual(LANES);

    // the truth: extra path loss on one lane at a time, at the operating drive, until its BER is 1e-12
    const model = ctx.sim!.model;
    const all = model.allLanes();
    const op = ctx.sim!.profile.operatingPoint;
    model.setBias(all, op.biasA);
    model.setModulation(all, op.modA);
    model.setOutput(all, true);
    model.setPattern(all, 'PRBS31');
    const switchLoss = ctx.sim!.profile.bench.kind === 'bert' ? ctx.sim!.profile.bench.switchLossDb : 0;
    const truth = (lane: number) => {
      let lo = 0;
      let hi = 20;
      for (let i = 0; i < 40; i++) {
        const mid = (lo + hi) / 2;
        model.setPathLoss([lane], switchLoss + mid);
        if (model.ber()[lane - 1]! > 1e-12) hi = mid;
        else lo = mid;
      }
      model.setPathLoss([lane], 0);
      return (lo + hi) / 2;
    };
    margin.lanes.forEach((lane, i) => {
      expect(Math.abs(margin.values[i]! - truth(lane)), `lane ${lane}`).toBeLessThan(0.3);
    });
    // the attenuator and the drive are back at the operating point
    expect(await ctx.station.get('attenuator').attenuation()).toEqual([0, 0, 0, 0]);
  });

  it('a sequence that asks for the attenuator on a bench without one is refused at load, at the line of axis', async () => {
    const other = await openContext({
      sim: { profile: 'mosaic-800g', timeScale: 1000 },
      db: join(tmp.make(), 'runs.db'),
    });
    try {
      const file = join(tmp.make(), 'wf.yaml');
      writeFileSync(file, 'name: wf\nsteps:\n  - id: wf\n    type: waterfall\n    params:\n      axis: attenuator\n');
      expect(() =>
        parseSequence(
          'name: wf\nsteps:\n  - id: wf\n    type: waterfall\n    params:\n      axis: attenuator\n',
          file,
          other.registry,
          other.loadContext,
        ),
      ).toThrow(
        /wf\.yaml:6:\d+.*steps\[0\]\.params\.axis.*a station with a attenuator: step wf \(waterfall\) needs one for axis/s,
      );
    } finally {
      await other.close();
    }
  });
});
