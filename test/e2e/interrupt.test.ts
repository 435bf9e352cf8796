/**
 * kill -9 in the middle of a real run: nothing in the process gets a chance to clean up, yet the store keeps
 * the steps already finished and the next reader marks the run INTERRUPTED.
 */
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { LaneMeasurement, RunRecord } from '../../src/core/record.ts';
import { cpobench, parseJson, type RunRow, runIdFrom, spawnCliUntil, tempDirs } from './helpers.ts';

const tmp = tempDirs();
afterAll(() => tmp.cleanup());

describe('a run killed with SIGKILL', () => {
  it('is INTERRUPTED in the store and keeps the measurements of the steps finished before the kill', async () => {
    const db = join(tmp.make(), 'runs.db');
    // waits until the L-I sweep (step 4 of 12) has finished: inventory, open/short, lane map and L-I are in the store
    const cli = await spawnCliUntil(
      [
        'run',
        'mosaic-800g-qual',
        '--sim',
        'mosaic-800g',
        '--time-scale',
        '1000',
        '--db',
        db,
        '--dut',
        'SN-KILL',
        '--no-progress',
      ],
      /^ {2}PASS +li$/m,
      25_000,
    );
    expect(cli.proc.kill('SIGKILL')).toBe(true);
    const end = await cli.exited;
    expect(end.signal).toBe('SIGKILL');
    const id = runIdFrom(cli.stderr());
    // it really was killed mid-run: no summary was printed, the full sequence takes ~18 s
    expect(cli.stdout()).not.toMatch(/verdict/);
    const finishedBeforeKill = [...cli.stderr().matchAll(/^ {2}PASS +(\S+)$/gm)].map((m) => m[1]);
    expect(finishedBeforeKill.slice(0, 4)).toEqual(['inventory', 'open-short', 'lane-map', 'li']);

    const list = await cpobench(['runs', '--db', db, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const rows = parseJson<RunRow[]>(list.stdout, 'runs --json');
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ id, outcome: 'INTERRUPTED', dut: 'SN-KILL' });
    expect(rows[0]!.finishedAt).toBeTruthy();
    expect(rows[0]!.error).toMatch(/interrupted/i);

    const rep = await cpobench(['report', id, '--format', 'json', '--db', db]);
    expect(rep.code, rep.stderr).toBe(0);
    const rec = parseJson<RunRecord>(rep.stdout, 'report json');
    expect(rec.outcome).toBe('INTERRUPTED');
    const byId = new Map(rec.steps.map((s) => [s.id, s]));
    for (const stepId of finishedBeforeKill) {
      const s = byId.get(stepId!);
      expect(s, `step ${stepId} kept`).toBeDefined();
      expect(s!.verdict).toBe('PASS');
      expect(s!.measurements.length).toBeGreaterThan(0);
    }
    // the per-lane arrays are complete, not just the scalars
    const li = byId.get('li')!;
    // (every lane's, that is: li_outlier_db lists only the lanes outside the array's band, none on this DUT)
    const laneArrays = li.measurements.filter(
      (m): m is LaneMeasurement => m.kind === 'lanes' && m.spec.name !== 'li_outlier_db',
    );
    expect(laneArrays.length).toBeGreaterThan(0);
    for (const m of laneArrays) {
      expect(m.lanes).toHaveLength(400);
      expect(m.values).toHaveLength(400);
    }
    const inv = byId.get('inventory')!.measurements.find((m) => m.spec.name === 'instruments');
    expect(inv?.kind === 'scalar' && inv.value).toBe(5);
    // the record stops where the process died: a step persisted in the instant before the kill may be there
    // without its stderr line yet, but the sequence (10 steps) is far from done
    const passed = rec.steps.filter((s) => s.verdict === 'PASS').map((s) => s.id);
    expect(passed.slice(0, finishedBeforeKill.length)).toEqual(finishedBeforeKill);
    expect(passed).not.toContain('margins');
    expect(rec.steps.some((s) => s.verdict === undefined) || rec.steps.length < 9).toBe(true);

    // the JUnit export of the interrupted run is red and says why, even if every stored step had passed
    const junit = await cpobench(['report', id, '--format', 'junit', '--db', db]);
    expect(junit.code, junit.stderr).toBe(0);
    expect(junit.stdout).toMatch(/<testsuites [^>]*errors="[1-9]/);
    expect(junit.stdout).toMatch(
      /<testcase name="run" [^>]*>\s*<error message="[^"]*interrupted[^"]*" type="INTERRUPTED">/i,
    );
  });
});
