/**
 * The CLI at the edges a user meets: a pipe whose reader goes away (`cpobench runs | head`), and a control
 * token from the environment that is too short. The real bin, spawned.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpobench, runIdFrom, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let db: string;
let runId: string;
afterAll(() => tmp.cleanup());
beforeAll(async () => {
  db = join(tmp.make(), 'runs.db');
  const r = await cpobench(['run', 'smoke', '--sim', 'mosaic-800g', '--db', db, '--no-progress']);
  expect(r.code, r.stderr).toBe(0);
  runId = runIdFrom(r.stderr);
});

/** Spawns the CLI with its stdout's reader already gone: every write to stdout meets EPIPE. */
function withClosedStdout(args: string[]): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['src/cli/bin.js', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, NO_COLOR: '1' },
    });
    p.stdout.destroy();
    let stderr = '';
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('close', (code, signal) => resolve({ code, signal, stderr }));
  });
}

describe('a closed pipe on stdout (cpobench runs | head)', () => {
  for (const args of [['runs'], ['runs', '--json'], ['report', '<id>', '--format', 'html']]) {
    it(`cpobench ${args.join(' ')}: exit 0, nothing on stderr`, async () => {
      const r = await withClosedStdout([...args.map((a) => (a === '<id>' ? runId : a)), '--db', db]);
      expect(r.stderr).toBe('');
      expect(r.signal).toBeNull();
      expect(r.code).toBe(0);
    });
  }
});

describe('CPOBENCH_TOKEN', () => {
  it('shorter than the minimum is refused at start with the reason, nothing started (exit 2)', async () => {
    const r = await cpobench(['serve', '--sim', 'mosaic-800g', '--port', '0', '--db', db], undefined, {
      env: { CPOBENCH_TOKEN: 'short' },
      timeoutMs: 20_000, // it used to start serving with a random token nobody saw
    });
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toBe(
      'cpobench: CPOBENCH_TOKEN is 5 characters long; a control token needs at least 8 ' +
        '(set a longer one, or unset it to have one generated)\n',
    );
    expect(r.stdout).toBe(''); // no instruments, no dashboard URL
  });
});

describe('cpobench run --dut/--operator are checked as the API checks them', () => {
  const refused = (extra: string[]) =>
    cpobench(['run', 'smoke', '--sim', 'mosaic-800g', '--db', db, '--no-progress', ...extra], undefined, {
      timeoutMs: 20_000,
    });

  it('a DUT serial with an escape sequence, a blank operator, an over-long serial: exit 2, nothing started', async () => {
    const esc = await refused(['--dut', 'SN\u001b[2J']);
    expect(esc.code, esc.stderr).toBe(2);
    expect(esc.stderr).toBe('cpobench: --dut: no control characters, got \\x1b at position 3 of "SN\\x1b[2J"\n');
    const blank = await refused(['--operator', '   ']);
    expect(blank.code, blank.stderr).toBe(2);
    expect(blank.stderr).toBe('cpobench: --operator: an operator name is required\n');
    const long = await refused(['--dut', 'S'.repeat(201)]);
    expect(long.code, long.stderr).toBe(2);
    expect(long.stderr).toBe('cpobench: --dut: at most 200 characters, got 201\n');
  });
});
