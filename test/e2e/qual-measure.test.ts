/**
 * lightbundle-512g-qual on the simulated LightBundle bench, as a lab runs it: the open/short screen, the bathtub and
 * the supply margin inside the qualification, checked against the link model's truth (its dead lanes, each lane's
 * eye at any threshold, its rail voltages), the run passing on the healthy seed twice on one bench.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, loadSequenceFor, openContext, startSequenceRun } from '../../src/app/context.ts';
import type { LaneMeasurement, RunRecord, ScalarMeasurement } from '../../src/core/record.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
let ctx: AppContext;
const recs: RunRecord[] = [];

beforeAll(async () => {
  ctx = await openContext({
    sim: { profile: 'lightbundle-512g', timeScale: 1e5, seed: 1 },
    db: join(tmp.make(), 'runs.db'),
  });
  for (let i = 0; i < 2; i++) {
    const seq = loadSequenceFor(ctx, 'lightbundle-512g-qual');
    recs.push(await startSequenceRun(ctx, seq, { dut: `LB-${i}`, operator: 'test' }).done);
  }
}, 300_000);

afterAll(async () => {
  await ctx?.close();
  tmp.cleanup();
});

const step = (rec: RunRecord, id: string) => rec.steps.find((s) => s.id === id)!;
const lanes = (rec: RunRecord, id: string, name: string) =>
  step(rec, id).measurements.find((m) => m.spec.name === name) as LaneMeasurement;
const scalar = (rec: RunRecord, id: string, name: string) =>
  step(rec, id).measurements.find((m) => m.spec.name === name) as ScalarMeasurement;

describe('lightbundle-512g-qual with open/short, aggregate link, bathtub and supply margin', () => {
  it('passes on the healthy seed, twice on one bench', () => {
    for (const rec of recs) {
      expect(rec.outcome, rec.error).toBe('PASS');
      expect(rec.steps.map((s) => s.id)).toEqual(expect.arrayContaining(['open-short', 'bathtub', 'supply-margin']));
    }
  });

  it("the open/short screen finds exactly the model's dead emitters, and they are remapped", () => {
    const model = ctx.sim!.model;
    for (const rec of recs) {
      const code = lanes(rec, 'open-short', 'open_short');
      const flagged = code.lanes.filter((_, i) => code.values[i] !== 0);
      expect(flagged).toEqual(model.deadLanes());
      for (const l of flagged) expect(rec.laneMap?.dead).toContain(l);
      expect(rec.laneMap?.logicalToPhysical.some((l) => flagged.includes(l))).toBe(false);
    }
  });

  it("the bathtub's openings match the model's eye at 1e-12 within 0.02 on the lanes it fitted", () => {
    const model = ctx.sim!.model;
    const rec = recs[1]!;
    const open = lanes(rec, 'bathtub', 'eye_opening');
    expect(open.lanes.length).toBeGreaterThan(200);
    // the model at the operating drive: the threshold where each lane's BER crosses 1e-12 on each side
    const before = model.threshold;
    const edge = (lane: number, outer: number) => {
      let out = outer;
      let inner = 0.5;
      for (let i = 0; i < 40; i++) {
        const mid = (out + inner) / 2;
        model.setThreshold(mid);
        if (model.ber()[lane - 1]! > 1e-12) out = mid;
        else inner = mid;
      }
      return (out + inner) / 2;
    };
    const all = model.allLanes();
    const op = ctx.sim!.profile.operatingPoint; // the run ended in the safe state: drive the model as the step did
    model.setBias(all, op.biasA);
    model.setModulation(all, op.modA);
    model.setOutput(all, true);
    model.setPattern(all, 'PRBS31');
    for (const lane of open.lanes.filter((_, i) => i % 37 === 0)) {
      const truth = edge(lane, 1) - edge(lane, 0);
      expect(Math.abs(open.values[open.lanes.indexOf(lane)]! - truth), `lane ${lane}`).toBeLessThan(0.02);
    }
    model.setThreshold(before);
    expect(before).toBe(0.5); // the step left the detector's threshold where it found it
  });

  it('the supply margin moved every counted rail ±5 % and left each at nominal in the model', () => {
    const rec = recs[1]!;
    expect(scalar(rec, 'supply-margin', 'supply_rails_restored').value).toBe(1);
    const corners = step(rec, 'supply-margin').measurements.filter((m) => m.spec.name === 'supply_rail_v');
    expect(corners).toHaveLength(6);
    expect([1, 2, 3, 4].map((r) => ctx.sim!.model.getRailVoltage(r))).toEqual([3.3, 0.8, 0.8, 1.8]);
  });

  it("the aggregate link: each lane's skew is the device's own, deskewed, one gate over the 256 active lanes", () => {
    const delays = ctx.sim!.model.laneDelays();
    for (const rec of recs) {
      const skew = lanes(rec, 'aggregate', 'lane_skew');
      expect(skew.lanes).toEqual(rec.laneMap?.logicalToPhysical.slice().sort((a, b) => a - b));
      const min = Math.min(...skew.lanes.map((l) => delays[l - 1]!));
      skew.lanes.forEach((l, i) => {
        expect(skew.values[i]!).toBeCloseTo(delays[l - 1]! - min, 15);
      });
      expect(scalar(rec, 'aggregate', 'deskew_applied').value).toBe(1);
      expect(scalar(rec, 'aggregate', 'aggregate_aligned').value).toBe(1);
      expect(scalar(rec, 'aggregate', 'aggregate_ber_upper_bound').verdict).toBe('PASS');
    }
  });
});
