import { spawn } from 'node:child_process';

/** Runs the real `cpobench` bin as a user would, asynchronously so in-test servers keep serving. */
export function cpobench(
  args: string[],
  input?: string,
): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, ['src/cli/bin.js', ...args], {
      cwd: process.cwd(),
      env: { ...process.env, NO_COLOR: '1', CPOBENCH_HISTORY: '/dev/null' },
    });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    if (input !== undefined) p.stdin.end(input);
    p.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}
