/**
 * `cpobench resume` as a user meets it: the real CLI runs the shipped burn-in-96h on the simulated MOSAIC bench,
 * is SIGKILLed in the middle, the run shows INTERRUPTED, and `cpobench resume ID` finishes it with every
 * checkpoint kept (counted in the SQLite file) and the outcome the physics gives. And the refusals, each exit 2
 * saying why: unknown, still interrupted on another station, not a burn-in, finished.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { cpobench, parseJson, type RunRow, runIdFrom, spawnCli, tempDirs } from './helpers.ts';

const tmp = tempDirs('cpobench-resume-');
afterAll(() => tmp.cleanup());

interface Checkpoint {
  hours: number;
  point: number;
  vals: Buffer;
}

/** The burn-in checkpoints the store holds (read-only, as another process sees the file). */
function checkpoints(db: string, runId: string): Checkpoint[] {
  const d = new Database(db, { readonly: true, fileMustExist: true });
  try {
    const rows = d
      .prepare("SELECT at, vals FROM measurements WHERE run_id = ? AND name = 'burnin_power' ORDER BY pk")
      .all(runId) as { at: string; vals: Buffer }[];
    return rows.map((r) => ({ ...(JSON.parse(r.at) as { hours: number; point: number }), vals: r.vals }));
  } finally {
    d.close();
  }
}

async function waitFor(what: string, ok: () => boolean, timeoutMs: number): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ok()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function runs(db: string): Promise<RunRow[]> {
  const r = await cpobench(['runs', '--db', db, '--json']);
  return parseJson<RunRow[]>(r.stdout, 'runs');
}

describe('cpobench resume (real processes)', () => {
  it('a burn-in SIGKILLed in the middle is INTERRUPTED, then resumed to its end with no checkpoint lost', async () => {
    const db = join(tmp.make(), 'runs.db');
    const cli = spawnCli([
      'run',
      'burn-in-96h',
      '--sim',
      'mosaic-800g',
      '--time-scale',
      '20000',
      '--db',
      db,
      '--no-progress',
    ]);
    let id: string;
    try {
      await cli.waitForStderr(/^run \S+: /m, 30_000);
      id = runIdFrom(cli.stderr());
      // in the middle: a few checkpoints of the 25 (every 4 h of 96) are in the store
      await waitFor('6 checkpoints', () => checkpoints(db, id).length >= 6, 60_000);
    } finally {
      cli.proc.kill('SIGKILL');
    }
    const killed = await cli.exited;
    expect(killed.signal).toBe('SIGKILL');
    const before = checkpoints(db, id);
    expect(before.length).toBeGreaterThanOrEqual(6);
    expect(before.length).toBeLessThan(25);
    // not RUNNING forever: the next opener of the store sees its controller gone
    expect((await runs(db)).find((r) => r.id === id)?.outcome).toBe('INTERRUPTED');

    // refused: another station (profile), another DUT (seed) — the run stays INTERRUPTED
    const other = await cpobench(['resume', id, '--db', db, '--sim', 'lightbundle-512g']);
    expect(other.code).toBe(2);
    expect(other.stderr).toMatch(
      /cannot resume: run \S+: the station changed since the run started \(.*lanes were 20x20/,
    );
    const seed = await cpobench(['resume', id, '--db', db, '--sim', 'mosaic-800g', '--seed', '2']);
    expect(seed.code).toBe(2);
    expect(seed.stderr).toMatch(/simulated bench was mosaic-800g seed 1, now mosaic-800g seed 2/);
    expect((await runs(db)).find((r) => r.id === id)?.outcome).toBe('INTERRUPTED');

    // resumed as it was opened (the store kept the launch: profile, seed, clock)
    const jsonOut = join(tmp.make(), 'r.json');
    const res = await cpobench(['resume', id, '--db', db, '--no-progress', '--json', jsonOut], undefined, {
      timeoutMs: 170_000,
    });
    expect(res.stderr).toMatch(new RegExp(`resuming run ${id}: burn-in-96h`));
    const after = checkpoints(db, id);
    // every checkpoint once, 0..96 h every 4 h; the ones taken before the kill unchanged
    expect(after.map((c) => c.hours)).toEqual(Array.from({ length: 25 }, (_, i) => i * 4));
    expect(after.map((c) => c.point)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    for (const [i, c] of before.entries()) expect(after[i]!.vals.equals(c.vals), `checkpoint ${i}`).toBe(true);
    // the DUT the resumed burn-in sees is the one it left: the mean power keeps falling across the resume (a
    // simulated DUT started afresh and not given its stress history would jump back up)
    const mean = (c: Checkpoint) => {
      const v = new Float64Array(c.vals.buffer.slice(c.vals.byteOffset, c.vals.byteOffset + c.vals.byteLength));
      const p0 = new Float64Array(
        after[0]!.vals.buffer.slice(after[0]!.vals.byteOffset, after[0]!.vals.byteOffset + after[0]!.vals.byteLength),
      );
      let s = 0;
      for (let i = 0; i < v.length; i++) s += v[i]! / p0[i]!;
      return s / v.length;
    };
    const means = after.map(mean);
    for (let k = 1; k < means.length; k++) expect(means[k]!, `checkpoint ${k}`).toBeLessThan(means[k - 1]!);
    expect(1 - means[24]!).toBeGreaterThan(0.001); // ≈ 0.17 % lost in 96 h at 85 °C and 1.5 × I_op (seed 1)
    const row = (await runs(db)).find((r) => r.id === id)!;
    // the outcome the physics gives: healthy MOSAIC lanes lose well under 10 % in 96 h at 85 °C (seed 1: PASS)
    expect(row.outcome).toBe('PASS');
    expect(res.code).toBe(0);
    // one burn-in step row, continued in place, and the rest of the sequence ran
    const rep = parseJson<{ steps: { id: string; verdict?: string }[]; outcome: string }>(
      readFileSync(jsonOut, 'utf8'),
      'the --json record',
    );
    expect(rep.outcome).toBe('PASS');
    expect(rep.steps.map((s) => [s.id, s.verdict])).toEqual([
      ['inventory', 'PASS'],
      ['burn-in', 'PASS'],
      ['remap', 'PASS'],
    ]);

    // refused: it finished
    const again = await cpobench(['resume', id, '--db', db]);
    expect(again.code).toBe(2);
    expect(again.stderr).toMatch(/cannot resume: run \S+ finished \(PASS at .*\): there is nothing to resume/);
  }, 300_000);

  it('refuses an unknown run and a run that is not a burn-in, saying why (exit 2)', async () => {
    const db = join(tmp.make(), 'runs.db');
    const unknown = await cpobench(['resume', 'r-no-such-run', '--db', db]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown run id: r-no-such-run/);
    // a smoke run killed in its BER screen: INTERRUPTED, but nothing in it can be resumed
    const cli = spawnCli(['run', 'smoke', '--sim', 'mosaic-800g', '--time-scale', '10', '--db', db, '--no-progress']);
    try {
      await cli.waitForStderr(/BER screen/, 30_000);
    } finally {
      cli.proc.kill('SIGKILL');
    }
    await cli.exited;
    const id = runIdFrom(cli.stderr());
    const r = await cpobench(['resume', id, '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /cannot resume: run \S+ \(sequence smoke\) is not a burn-in: none of its steps can be resumed \(resumable step types: burn-in\)/,
    );
    expect((await runs(db)).find((x) => x.id === id)?.outcome).toBe('INTERRUPTED');
  }, 120_000);
});
