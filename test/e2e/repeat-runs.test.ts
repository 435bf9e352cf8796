/**
 * What a lab does all day, on one bench that is never restarted: one `cpobench sim` process, and the real CLI run
 * against its station file again and again. Smoke, the qualification, an aborted qualification, the qualification
 * again, a run killed with SIGKILL, the qualification again: every verdict right, every lane alive, and after the
 * abort and after each run the LED driver reads back dark over a second connection.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunRecord } from '../../src/core/record.ts';
import { isDark, readLed } from '../helpers/probe.ts';
import { cpobench, parseJson, type RunRow, runIdFrom, spawnCliUntil, startSim, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let station: string;
let db: string;
let sim: { child: ChildProcess; exit: Promise<number | null> };
let led: string;

beforeAll(async () => {
  dir = tmp.make();
  station = join(dir, 'station.yaml');
  db = join(dir, 'runs.db');
  sim = await startSim(['--time-scale', '1000', '--station-out', station]);
  led = (parse(readFileSync(station, 'utf8')) as { instruments: Record<string, { resource: string }> }).instruments[
    'led-driver'
  ]!.resource;
});

afterAll(async () => {
  sim?.child.kill('SIGINT');
  await sim?.exit;
  tmp.cleanup();
});

async function run(sequence: string, n: number): Promise<{ code: number | null; rec: RunRecord; stdout: string }> {
  const json = join(dir, `run-${n}.json`);
  const r = await cpobench(['run', sequence, '--station', station, '--db', db, '--dut', `SN-R${n}`, '--json', json]);
  return { code: r.code, rec: parseJson<RunRecord>(readFileSync(json, 'utf8'), `run ${n}`), stdout: r.stdout };
}

function expectQualificationPassed(r: { code: number | null; rec: RunRecord }, what: string): void {
  expect(r.rec.outcome, `${what}: ${r.rec.error ?? ''}`).toBe('PASS');
  expect(r.code).toBe(0);
  expect(r.rec.summary).toMatchObject({ lanesActive: 400, lanesDead: 0, benchSafe: true });
  expect(r.rec.steps.every((s) => s.verdict === 'PASS' || s.verdict === 'MARGINAL')).toBe(true);
  expect(r.rec.startState?.safe).toBe(true);
  expect(r.rec.safeState?.safe).toBe(true);
}

describe('many runs on one bench, never restarted (cpobench sim + the real CLI)', () => {
  it('smoke, qualification, aborted qualification, qualification, killed run, qualification: every verdict right', async () => {
    const smoke = await run('smoke', 1);
    expect(smoke.rec.outcome).toBe('PASS');
    expect(smoke.code).toBe(0);
    expect(isDark(await readLed(led, 400))).toBe(true);

    expectQualificationPassed(await run('mosaic-800g-qual', 2), 'the qualification after smoke');
    expect(isDark(await readLed(led, 400))).toBe(true);

    // aborted during the 1e-12 BER gate (about 1.5 s at the 1000x clock), every lane lit
    const abortedJson = join(dir, 'run-3.json');
    const aborting = await spawnCliUntil(
      ['run', 'mosaic-800g-qual', '--station', station, '--db', db, '--dut', 'SN-R3', '--json', abortedJson],
      /step 6\/12/,
    );
    aborting.proc.kill('SIGINT');
    const ended = await aborting.exited;
    expect(ended.code).toBe(2);
    const aborted = parseJson<RunRecord>(readFileSync(abortedJson, 'utf8'), 'aborted run');
    expect(aborted.outcome).toBe('ABORTED');
    expect(aborted.safeState).toMatchObject({ safe: true });
    expect(aborted.safeState!.instruments.find((i) => i.role === 'led-driver')!.observed).toBe(
      'outputs off, bias 0 A and modulation 0 A on all 400 lanes (read back)',
    );
    expect(isDark(await readLed(led, 400))).toBe(true);

    expectQualificationPassed(await run('mosaic-800g-qual', 4), 'the qualification after an abort');

    // killed with SIGKILL during the BER gate: nothing of ours runs, the bench stays as the run left it
    const killed = await spawnCliUntil(
      ['run', 'mosaic-800g-qual', '--station', station, '--db', db, '--dut', 'SN-R5'],
      /step 6\/12/,
    );
    const killedId = runIdFrom(killed.stderr());
    killed.proc.kill('SIGKILL');
    await killed.exited;

    expectQualificationPassed(await run('mosaic-800g-qual', 6), 'the qualification after a killed run');
    expect(isDark(await readLed(led, 400))).toBe(true);

    const list = await cpobench(['runs', '--db', db, '--json']);
    const rows = parseJson<RunRow[]>(list.stdout, 'runs --json');
    expect(rows.map((r) => [r.dut, r.outcome])).toEqual([
      ['SN-R6', 'PASS'],
      ['SN-R5', 'INTERRUPTED'],
      ['SN-R4', 'PASS'],
      ['SN-R3', 'ABORTED'],
      ['SN-R2', 'PASS'],
      ['SN-R1', 'PASS'],
    ]);
    expect(rows.find((r) => r.dut === 'SN-R5')!.id).toBe(killedId);
  }, 240_000);
});
