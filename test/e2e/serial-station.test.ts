/**
 * A whole bench on serial lines: `cpobench sim --serial --station-out FILE` (each instrument on a pty through
 * socat, in its own process), then the real CLI runs smoke and the full mosaic-800g qualification against that
 * station file, over the ptys, to PASS.
 */
import type { ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunRecord } from '../../src/core/record.ts';
import { isDark, readLed } from '../helpers/probe.ts';
import { cpobench, parseJson, startSim, tempDirs } from './helpers.ts';

const ROLES = ['led-driver', 'pd-receiver', 'power-analyzer', 'optical-meter', 'tec'];
const tmp = tempDirs('cpobench-serial-');
let dir: string;
let station: string;
let resources: Record<string, string>;
let sim: { child: ChildProcess; lines: string[]; exit: Promise<number | null> } | undefined;

beforeAll(async () => {
  dir = tmp.make();
  station = join(dir, 'station.yaml');
  sim = await startSim(['--serial', '--time-scale', '1000', '--station-out', station]);
  const file = parse(readFileSync(station, 'utf8')) as { instruments: Record<string, { resource: string }> };
  resources = Object.fromEntries(Object.entries(file.instruments).map(([role, i]) => [role, i.resource]));
});

afterAll(async () => {
  if (sim && sim.child.exitCode === null) {
    sim.child.kill('SIGINT');
    await sim.exit;
  }
  tmp.cleanup();
});

async function run(sequence: string, dut: string): Promise<{ code: number | null; rec: RunRecord; stderr: string }> {
  const json = join(dir, `${dut}.json`);
  const r = await cpobench(
    ['run', sequence, '--station', station, '--db', join(dir, 'runs.db'), '--dut', dut, '--json', json],
    undefined,
    { timeoutMs: 240_000 },
  );
  const rec = existsSync(json) ? parseJson<RunRecord>(readFileSync(json, 'utf8'), json) : undefined;
  if (!rec) throw new Error(`no record (exit ${r.code}):\n${r.stderr}`);
  return { code: r.code, rec, stderr: r.stderr };
}

describe('a full sequence over serial lines (cpobench sim --serial, ptys through socat)', () => {
  it('the station file points every instrument at a pty', async () => {
    expect(Object.keys(resources).sort()).toEqual([...ROLES].sort());
    for (const [role, res] of Object.entries(resources)) {
      expect(res).toMatch(new RegExp(`^ASRL/.+/${role}::INSTR$`));
      // after a client closes its line the bench opens a fresh pty under the same name: give it a moment
      const path = res.replace(/^ASRL/, '').replace(/::INSTR$/, '');
      for (let i = 0; i < 60 && !existsSync(path); i++) await new Promise((r) => setTimeout(r, 50));
      expect(existsSync(path), path).toBe(true);
    }
    expect(sim!.lines.map((l) => l.split(/\s+/)[1])).toEqual(ROLES.map((r) => resources[r]));
  });

  it('smoke passes over the ptys', async () => {
    const { code, rec, stderr } = await run('smoke', 'SN-SERIAL-1');
    expect(rec.outcome, `${rec.error ?? ''}\n${stderr}`).toBe('PASS');
    expect(code).toBe(0);
    // the run talked to the instruments over their serial lines
    for (const i of rec.instruments) expect(i.resource, i.role).toMatch(/^ASRL\/.+::INSTR$/);
    expect(rec.instruments.map((i) => [i.role, i.resource]).sort()).toEqual(ROLES.map((r) => [r, resources[r]]).sort());
    expect(rec.steps.map((s) => s.verdict)).toEqual(['PASS', 'PASS', 'PASS']);
  }, 240_000);

  it('mosaic-800g-qual passes over the ptys: every step, all 400 lanes, the bench left dark', async () => {
    const { code, rec, stderr } = await run('mosaic-800g-qual', 'SN-SERIAL-2');
    const steps = rec.steps.map((s) => `${s.id}:${s.verdict}${s.error ? ` (${s.error})` : ''}`).join(', ');
    expect(rec.outcome, `${rec.error ?? ''} ${steps}\n${stderr}`).toBe('PASS');
    expect(code).toBe(0);
    // every top-level step ran (the temperature sweep's nested steps are recorded once per setpoint as well)
    const top = ['inventory', 'lane-map', 'li', 'crosstalk', 'ber', 'remap', 'energy', 'temperature', 'margins'];
    expect([...new Set(rec.steps.map((s) => s.id))].filter((id) => top.includes(id))).toEqual(top);
    expect(rec.steps.every((s) => s.verdict === 'PASS' || s.verdict === 'MARGINAL')).toBe(true);
    expect(rec.summary).toMatchObject({ lanesActive: 400, lanesDead: 0, benchSafe: true });
    expect(rec.safeState?.safe).toBe(true);
    for (const i of rec.instruments) expect(i.resource, i.role).toMatch(/^ASRL\/.+::INSTR$/);
    // the LED driver reads back dark over its serial line, from a client of its own
    expect(isDark(await readLed(resources['led-driver']!, 400))).toBe(true);
  }, 240_000);

  it('the simulated bench stops on Ctrl-C (exit 0) and removes its ptys', async () => {
    // a bench of its own: the tests run in any order, the others need theirs running
    const own = join(tmp.make(), 'station.yaml');
    const other = await startSim(['--serial', '--time-scale', '1000', '--station-out', own]);
    const file = parse(readFileSync(own, 'utf8')) as { instruments: Record<string, { resource: string }> };
    const paths = Object.values(file.instruments).map((i) => i.resource.replace(/^ASRL/, '').replace(/::INSTR$/, ''));
    expect(paths).toHaveLength(ROLES.length);
    for (const p of paths) expect(existsSync(p)).toBe(true);
    other.child.kill('SIGINT');
    expect(await other.exit).toBe(0);
    for (const p of paths) expect(existsSync(p)).toBe(false);
  });
});
