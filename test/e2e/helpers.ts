/**
 * Helpers for the end-to-end tests: temp dirs, the real CLI spawned as a user runs it, JSON from its stdout.
 */
import { type ChildProcess, type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export { cpobench } from '../helpers/cli.ts';

/** A fresh temp dir; `cleanup()` removes every dir handed out. */
export function tempDirs(prefix = 'cpobench-e2e-') {
  const dirs: string[] = [];
  return {
    make(): string {
      const d = mkdtempSync(join(tmpdir(), prefix));
      dirs.push(d);
      return d;
    },
    cleanup(): void {
      for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
    },
  };
}

/** A spawned CLI process whose output can be awaited line by line. */
export interface LiveCli {
  proc: ChildProcessWithoutNullStreams;
  stdout(): string;
  stderr(): string;
  /** Resolves when stderr matches `re`; rejects on timeout or when the process ends first. */
  waitForStderr(re: RegExp, timeoutMs: number): Promise<void>;
  /** Resolves with the exit code and signal once the process has ended and been reaped. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

export function spawnCli(args: string[]): LiveCli {
  const proc = spawn(process.execPath, ['src/cli/bin.js', ...args], {
    cwd: process.cwd(),
    env: { ...process.env, NO_COLOR: '1', CPOBENCH_HISTORY: '/dev/null' },
  });
  let out = '';
  let err = '';
  const watchers = new Set<() => void>();
  let ended = false;
  proc.stdout.on('data', (d) => {
    out += d;
  });
  proc.stderr.on('data', (d) => {
    err += d;
    for (const w of [...watchers]) w();
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    proc.on('close', (code, signal) => {
      ended = true;
      for (const w of [...watchers]) w();
      resolve({ code, signal });
    });
  });
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    waitForStderr(re, timeoutMs) {
      return new Promise<void>((resolve, reject) => {
        const timer = setTimeout(() => {
          watchers.delete(check);
          reject(new Error(`timed out after ${timeoutMs} ms waiting for ${re} in stderr:\n${err}`));
        }, timeoutMs);
        const check = () => {
          if (re.test(err)) {
            clearTimeout(timer);
            watchers.delete(check);
            resolve();
          } else if (ended) {
            clearTimeout(timer);
            watchers.delete(check);
            reject(new Error(`process ended before ${re} showed in stderr:\n${err}`));
          }
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/**
 * Spawns the CLI and resolves once its stderr matches `re` (a run reached some step). If that never comes,
 * the process is killed before the error is thrown, so no run is left behind.
 */
export async function spawnCliUntil(args: string[], re: RegExp, timeoutMs = 25_000): Promise<LiveCli> {
  const cli = spawnCli(args);
  try {
    await cli.waitForStderr(re, timeoutMs);
  } catch (err) {
    cli.proc.kill('SIGKILL');
    throw err;
  }
  return cli;
}

/** Parses a command's stdout as JSON, with the output in the error when it is not. */
export function parseJson<T = unknown>(text: string, what: string): T {
  try {
    return JSON.parse(text) as T;
  } catch (err) {
    throw new Error(`${what}: not JSON (${(err as Error).message}):\n${text.slice(0, 2000)}`);
  }
}

export interface RunRow {
  id: string;
  sequence: string;
  dut: string;
  outcome: string;
  startedAt: string;
  finishedAt?: string;
  error?: string;
}

/** The run id the CLI prints first on stderr: `run <id>: <sequence> on <station>, DUT <sn>`. */
export function runIdFrom(stderr: string): string {
  const m = /^run (\S+): /m.exec(stderr);
  if (!m) throw new Error(`no "run <id>:" line in stderr:\n${stderr}`);
  return m[1]!;
}

/** Starts `cpobench sim` (a separate process, as a user runs it) and resolves once it printed its five instrument lines. */
export function startSim(
  args: string[],
): Promise<{ child: ChildProcess; lines: string[]; exit: Promise<number | null> }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['src/cli/bin.js', 'sim', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, NO_COLOR: '1' },
    });
    let out = '';
    let err = '';
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    child.stderr.on('data', (d) => {
      err += d;
    });
    child.stdout.on('data', (d) => {
      out += d;
      const lines = out.split('\n').filter(Boolean);
      if (lines.length >= 5) resolve({ child, lines, exit });
    });
    exit.then((code) => reject(new Error(`cpobench sim exited ${code} early: ${err}`)));
  });
}
