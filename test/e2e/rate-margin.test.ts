/**
 * The rate margin against the truth: the link model knows every lane's BER at any rate, so the rate where a lane
 * truly reaches 1e-9 at the operating drive is found by bisection on the model, independently of the step's
 * counting and fitting. The fitted per-lane rates must land near it, and the margin must be the worst lane's.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { openContext, startSequenceRun } from '../../src/app/context.ts';
import type { LaneMeasurement, RunRecord, ScalarMeasurement } from '../../src/core/record.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
let bench: Bench;
let dir: string;
/** The operating point of the runs below: 2 dB less modulation than the profile's, so lanes reach 1e-9 near 3-4 Gb/s. */
let op: { biasA: number; modA: number };

const SEQUENCE = `name: rate
steps:
  - id: m
    type: margins
    params: { drive: false, targetBer: 1.0e-9, rateNominal: 2.0e9, maxRate: 4.0e9, rateStep: 0.25e9, minRate: 2.5e9 }
`;

/** One run of the rate margin with the LED board's operating point at `modScale` of the profile's. */
async function runAt(modScale: number, name: string): Promise<RunRecord> {
  const station = structuredClone(bench.station) as {
    instruments: Record<string, { operating?: { biasA: number; modA: number } }>;
  };
  const board = station.instruments['led-driver']!;
  board.operating = { biasA: board.operating!.biasA, modA: board.operating!.modA * modScale };
  op = board.operating;
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, stringify(station));
  const ctx = await openContext({ stationFile: file, db: join(dir, 'runs.db'), lock: { dir: join(dir, 'locks') } });
  try {
    const seq = parseSequence(SEQUENCE, 'rate.yaml', ctx.registry, ctx.loadContext);
    return await startSequenceRun(ctx, seq, { dut: name, operator: 'test' }).done;
  } finally {
    await ctx.close();
  }
}

beforeAll(async () => {
  dir = tmp.make();
  bench = await startBench({ profile: 'mosaic-800g', timeScale: 1000, seed: 3 });
}, 120_000);

afterAll(async () => {
  await bench?.close();
  tmp.cleanup();
});

const find = (rec: RunRecord, name: string) => rec.steps[0]!.measurements.find((m) => m.spec.name === name);

describe('rate margin on the simulated bench', () => {
  it("a healthy DUT clean up to the generator's 4 Gb/s: the margin is that, a lower bound, no lane fitted", async () => {
    const rec = await runAt(1, 'nominal');
    expect(rec.outcome, rec.error).toBe('PASS');
    expect((find(rec, 'rate_max_passing') as ScalarMeasurement).value).toBe(4e9);
    expect((find(rec, 'rate_lane_bps') as LaneMeasurement).lanes).toEqual([]);
  });

  it("at 2.5 dB less drive: each lane's fitted rate at 1e-9 lands near the link model's own; the margin is the worst lane's", async () => {
    const rec = await runAt(10 ** (-2.5 / 10), 'reduced');
    expect(rec.outcome, rec.error).not.toBe('ERROR');
    const perLane = find(rec, 'rate_lane_bps') as LaneMeasurement;
    const fitted = perLane.lanes.map((lane, i) => ({ lane, rate: perLane.values[i]! }));
    expect(fitted.length).toBeGreaterThan(300);

    const model = bench.model;
    const all = model.allLanes();
    model.setBias(all, op.biasA);
    model.setModulation(all, op.modA);
    model.setOutput(all, true);
    model.setPattern(all, 'PRBS31');
    const truth = (lane: number) => {
      let lo = 1e9;
      let hi = 8e9;
      for (let i = 0; i < 40; i++) {
        const mid = (lo + hi) / 2;
        model.setRate(mid);
        if (model.ber()[lane - 1]! > 1e-9) hi = mid;
        else lo = mid;
      }
      return (lo + hi) / 2;
    };
    const errors: number[] = [];
    for (let i = 0; i < fitted.length; i += 11) {
      const f = fitted[i]!;
      const t = truth(f.lane);
      errors.push(Math.abs(f.rate - t) / t);
    }
    model.setRate(2e9);
    errors.sort((a, b) => a - b);
    expect(errors[errors.length >> 1]!).toBeLessThan(0.01); // measured 0.4 %
    expect(errors.at(-1)!).toBeLessThan(0.03); // measured 1.1 %
    const margin = (find(rec, 'rate_max_passing') as ScalarMeasurement).value!;
    expect(margin).toBe(Math.min(...fitted.map((f) => f.rate)));
  });
});
