/**
 * `cpobench sim` as a separate process inside a test's network namespace (test/helpers/netns.ts), as a user runs
 * it: resolves once it printed its five instrument lines and said where its VXI-11/HiSLIP servers are.
 */
import type { ChildProcess } from 'node:child_process';
import type { NetNamespace } from './netns.ts';

export interface SimProcess {
  child: ChildProcess;
  lines: string[];
  stdout(): string;
  stderr(): string;
  exit: Promise<number | null>;
  /** SIGINT, then the exit code. */
  stop(): Promise<number | null>;
}

export function startSimIn(
  ns: NetNamespace,
  args: string[],
  o: { uid?: number; ready?: RegExp } = {},
): Promise<SimProcess> {
  const ready = o.ready ?? /Ctrl-C stops/;
  return new Promise((resolve, reject) => {
    const child = ns.spawn(process.execPath, ['src/cli/bin.js', 'sim', ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NO_COLOR: '1' },
      ...(o.uid !== undefined ? { uid: o.uid } : {}),
    });
    let out = '';
    let err = '';
    const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`cpobench sim did not start within 30 s:\n${err}`));
    }, 30_000);
    const check = () => {
      const lines = out.split('\n').filter(Boolean);
      if (lines.length >= 5 && ready.test(err)) {
        clearTimeout(timer);
        resolve({
          child,
          lines,
          stdout: () => out,
          stderr: () => err,
          exit,
          stop: async () => {
            if (child.exitCode === null) child.kill('SIGINT');
            return exit;
          },
        });
      }
    };
    child.stdout!.on('data', (d) => {
      out += d;
      check();
    });
    child.stderr!.on('data', (d) => {
      err += d;
      check();
    });
    exit.then((code) => {
      clearTimeout(timer);
      reject(new Error(`cpobench sim exited ${code} early:\n${err}`));
    });
  });
}
