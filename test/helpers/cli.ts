import { spawn } from 'node:child_process';

export interface CpobenchOptions {
  /** Extra environment variables (over the test's own environment). */
  env?: Record<string, string>;
  /** Kill the process (SIGKILL) after this long, so a hang fails the test instead of outliving it. */
  timeoutMs?: number;
}

/** Runs the real `cpobench` bin as a user would, asynchronously so in-test servers keep serving. */
export function cpobench(
  args: string[],
  input?: string,
  opts: CpobenchOptions = {},
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['src/cli/bin.js', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, NO_COLOR: '1', CPOBENCH_HISTORY: '/dev/null', ...opts.env },
    });
    const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => p.kill('SIGKILL'), opts.timeoutMs);
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    if (input !== undefined) p.stdin.end(input);
    p.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
  });
}
