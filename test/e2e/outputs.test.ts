/**
 * Output files of `cpobench run` and `cpobench report`: written atomically (a failed write leaves the old file or
 * none, never a truncated one), each failure named on stderr without stopping the other outputs, and an
 * unwritable --csv directory refused at once. A failed output makes a passed run exit 2; a failed run keeps its
 * own code. Disk full is /dev/full (ENOSPC) or a file-size limit (`ulimit -f`, EFBIG); no root tricks.
 */
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { cpobench, parseJson, runIdFrom, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let db: string;
afterAll(() => tmp.cleanup());
beforeAll(() => {
  dir = tmp.make();
  db = join(dir, 'runs.db');
});

const smoke = (extra: string[], faults?: string) =>
  cpobench(
    [
      'run',
      'smoke',
      '--sim',
      'mosaic-800g',
      '--db',
      db,
      '--no-progress',
      ...(faults ? ['--faults', faults] : []),
      ...extra,
    ],
    undefined,
    { timeoutMs: 25_000 }, // an unwritable --csv used to spin forever
  );

describe('cpobench run outputs', () => {
  it('a full disk (/dev/full) for --json is named on stderr; --junit and --csv are still written; exit 2', async () => {
    const junit = join(dir, 'full', 'smoke.xml');
    const csv = join(dir, 'full', 'csv');
    const r = await smoke(['--json', '/dev/full', '--junit', junit, '--csv', csv]);
    expect(r.stdout).toMatch(/^verdict +PASS$/m); // the run itself passed
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toMatch(/^cpobench: --json: cannot write \/dev\/full: ENOSPC: no space left on device/m);
    expect(readFileSync(junit, 'utf8')).toMatch(/<\/testsuites>\n$/);
    expect(readdirSync(csv)).toContain('scalars.csv');
  });

  it('--csv under a regular file or under /proc fails at once naming the path; the others are written', async () => {
    const blocker = join(dir, 'not-a-dir');
    writeFileSync(blocker, 'x');
    const json = join(dir, 'proc', 'smoke.json');
    const r = await smoke(['--csv', join(blocker, 'csv'), '--json', json]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`cpobench: --csv: cannot write ${join(blocker, 'csv')}: ${blocker} is not a directory`);
    expect(parseJson<RunRecord>(readFileSync(json, 'utf8'), 'smoke.json').outcome).toBe('PASS');

    const proc = await smoke(['--csv', '/proc/cpobench-no-such-dir/csv']);
    expect(proc.code, proc.stderr).toBe(2);
    expect(proc.stderr).toMatch(
      /^cpobench: --csv: cannot write \/proc\/cpobench-no-such-dir\/csv: cannot create directory \/proc\/cpobench-no-such-dir: /m,
    );
  });

  it('a failed run keeps its own exit code (1) when an output also fails', async () => {
    const r = await smoke(['--json', '/dev/full'], 'dead-lanes-within-spares');
    expect(r.stdout).toMatch(/^verdict +FAIL$/m);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/cannot write \/dev\/full: ENOSPC/);
  });
});

describe('cpobench report --out', () => {
  it('a write cut short (file size limit, EFBIG) leaves the previous file intact and no temporary file', async () => {
    const first = await smoke([]);
    expect(first.code, first.stderr).toBe(0);
    const id = runIdFrom(first.stderr);
    const outDir = join(dir, 'report');
    const out = join(outDir, 'report.json');
    const prior = await cpobench(['report', id, '--db', db, '--format', 'json', '--out', out]);
    expect(prior.code, prior.stderr).toBe(0);
    writeFileSync(out, '{"previous": true}\n');
    // the JSON report is ~90 KB; the shell limits any file this process writes to 64 KiB (write fails EFBIG)
    const limited = await new Promise<{ code: number | null; stderr: string }>((resolve) => {
      const argv = ['report', id, '--db', db, '--format', 'json', '--out', out];
      const p = spawn('bash', ['-c', 'ulimit -f 64 && exec "$0" src/cli/bin.js "$@"', process.execPath, ...argv], {
        cwd: process.cwd(),
        env: { ...process.env, NO_COLOR: '1' },
      });
      let stderr = '';
      p.stderr.on('data', (d) => {
        stderr += d;
      });
      p.on('close', (code) => resolve({ code, stderr }));
    });
    expect(limited.code, limited.stderr).toBe(2);
    expect(limited.stderr).toContain(`cannot write ${out}: EFBIG: file too large`);
    expect(readFileSync(out, 'utf8')).toBe('{"previous": true}\n');
    expect(readdirSync(outDir)).toEqual(['report.json']); // no temporary file left behind
    // without the limit the same command replaces it completely
    const again = await cpobench(['report', id, '--db', db, '--format', 'json', '--out', out]);
    expect(again.code, again.stderr).toBe(0);
    expect(parseJson<RunRecord>(readFileSync(out, 'utf8'), 'report.json').id).toBe(id);
  }, 120_000); // four CLI processes one after the other: a cap for a loaded machine, not a measured time
});
