/**
 * The shipped sequences, unchanged, on the third simulated bench (mosaic-800g-bert: the MOSAIC-class DUT on
 * off-the-shelf instruments, a 4-channel error detector behind an optical switch, the power meter on the switch,
 * no per-lane receiver kit), through the real CLI: the verdicts the link gives (PASS, healthy seed 1).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { cpobench, parseJson, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
beforeAll(() => {
  dir = tmp.make();
});
afterAll(() => tmp.cleanup());

type LanesMeasurement = { kind: 'lanes'; spec: { name: string }; lanes: number[]; values: number[] };

function lanesOf(rec: RunRecord, step: string, name: string): LanesMeasurement {
  const s = rec.steps.find((x) => x.id === step)!;
  return (s.measurements as unknown as LanesMeasurement[]).find((m) => m.kind === 'lanes' && m.spec.name === name)!;
}

describe('cpobench run on --sim mosaic-800g-bert', () => {
  it('smoke passes: the BER screen of 400 lanes in gates of 4, energy per bit; every part made safe', async () => {
    const json = join(dir, 'smoke.json');
    const r = await cpobench(
      ['run', 'smoke', '--sim', 'mosaic-800g-bert', '--db', join(dir, 'runs.db'), '--json', json],
      undefined,
      {
        timeoutMs: 60_000,
      },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict\s+PASS/);
    expect(r.stderr).toMatch(/instrument clock 20000x real time/); // the profile's runTimeScale
    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'smoke.json');
    expect(rec.outcome).toBe('PASS');
    expect(rec.instruments.map((i) => [i.role, i.driver])).toEqual([
      ['led-driver', 'cpobench-led-board'],
      ['smu', 'keithley-2450'],
      ['bert', 'anritsu-mp1900a'],
      ['lane-switch', 'keysight-n7734a'],
      ['attenuator', 'keysight-n7764a'],
      ['power-analyzer', 'keysight-n6705c'],
      ['optical-meter', 'thorlabs-pm100d'],
      ['tec', 'thorlabs-ted4015'],
    ]);
    const ub = lanesOf(rec, 'ber-screen', 'ber_upper_bound');
    expect(ub.lanes).toHaveLength(400);
    expect(Math.max(...ub.values)).toBeLessThanOrEqual(1e-9);
    // whole-second gates: 2 s at 2 Gb/s on every lane, counted 4 at a time
    expect(new Set(lanesOf(rec, 'ber-screen', 'ber_bits').values)).toEqual(new Set([4e9]));
    const safe = Object.fromEntries(rec.safeState!.instruments.map((i) => [i.role, i.observed]));
    expect(safe).toMatchObject({
      smu: 'output off, source level 0 A (read back)',
      bert: 'measurement stopped on module 1 (read back)',
      attenuator: 'shutter closed on every channel (1, 2, 3, 4) (read back)',
    });
    expect(rec.summary?.benchSafe).toBe(true);
  });

  it('mosaic-800g-qual passes: lane map and L-I through the meter on the switch, BER 1e-12 in 100 gates', async () => {
    const json = join(dir, 'qual.json');
    const t0 = Date.now();
    const r = await cpobench(
      ['run', 'mosaic-800g-qual', '--sim', 'mosaic-800g-bert', '--db', join(dir, 'runs.db'), '--json', json],
      undefined,
      { timeoutMs: 170_000 },
    );
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict\s+PASS/);
    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'qual.json');
    expect(rec.outcome).toBe('PASS');
    expect(rec.steps.every((s) => s.verdict === 'PASS')).toBe(true);
    expect([...new Set(rec.steps.map((s) => s.id))]).toEqual([
      'inventory',
      'open-short',
      'lane-map',
      'li',
      'crosstalk',
      'ber',
      'remap',
      'energy',
      'temperature',
      't-li',
      't-ber',
      'margins',
      'sensitivity',
      'supply-margin',
    ]);
    expect(rec.laneMap).toMatchObject({ dead: [], swapped: [] });
    const ub = lanesOf(rec, 'ber', 'ber_upper_bound');
    expect(ub.lanes).toHaveLength(400);
    expect(Math.max(...ub.values)).toBeLessThanOrEqual(1e-12);
    // the meter behind the switch sees each lane's own light: -30 dBm is the sequence's floor
    expect(Math.min(...lanesOf(rec, 'li', 'p_op_dbm').values)).toBeGreaterThan(-30);
    expect(rec.summary?.benchSafe).toBe(true);
    process.stderr.write(`mosaic-800g-qual on mosaic-800g-bert: ${((Date.now() - t0) / 1000).toFixed(1)} s wall\n`);
  }, 180_000);

  it('a station whose switch port map leaves tested lanes uncovered is refused before anything starts (exit 2)', async () => {
    const station = join(dir, 'short-map.yaml');
    const text = readFileSync('fixtures/stations/mosaic-800g-bert.yaml', 'utf8').replace(
      'ports: [ { ports: [1, 400], lanes: [1, 400] } ]',
      'ports: [ { ports: [1, 399], lanes: [1, 399] } ]',
    );
    writeFileSync(station, text);
    const line = text.split('\n').findIndex((l) => l.includes('ports: [ { ports: [1, 399]')) + 1;
    const r = await cpobench(['run', 'smoke', '--station', station, '--db', join(dir, 'runs.db')], undefined, {
      timeoutMs: 30_000,
    });
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      `${station}:${line}:10 switching.ports: a switch port for every lane a run tests (the active lanes and the spares); lane 400 has none`,
    );
    expect(r.stderr).not.toMatch(/^run /m);
  });
});
