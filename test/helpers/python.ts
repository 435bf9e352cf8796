import { spawn } from 'node:child_process';

/**
 * Debian's interpreter. Standard SCPI clients (pyvisa + pyvisa-py, pyserial) come from Debian packages
 * (test/setup/ensure-deps.sh installs them), and only Debian's python3 sees Debian's dist-packages: a pyenv or
 * venv `python3` earlier on PATH does not.
 */
export const SYSTEM_PYTHON = '/usr/bin/python3';

/** Debian package that provides each Python module we use. */
const PACKAGE_OF: Record<string, string> = {
  pyvisa: 'python3-pyvisa',
  pyvisa_py: 'python3-pyvisa-py',
  serial: 'python3-serial',
  zeroconf: 'python3-zeroconf',
};

export interface PythonResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs a Python snippet with Debian's interpreter, asynchronously (in-process servers keep serving). */
export function runPython(code: string, args: string[] = []): Promise<PythonResult> {
  return new Promise((resolve) => {
    const p = spawn(SYSTEM_PYTHON, ['-c', code, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    p.stdout.on('data', (d) => {
      stdout += d;
    });
    p.stderr.on('data', (d) => {
      stderr += d;
    });
    p.on('error', (err) => resolve({ code: null, stdout, stderr: stderr + String(err.message) }));
    p.on('close', (c) => resolve({ code: c, stdout, stderr }));
  });
}

/** Names the modules Debian's python3 cannot import (an empty list when all are there). */
export async function missingPythonModules(modules: readonly string[]): Promise<string[]> {
  const r = await runPython(
    'import importlib.util, sys\nprint(",".join(m for m in sys.argv[1:] if importlib.util.find_spec(m) is None))',
    [...modules],
  );
  if (r.code !== 0) return [...modules];
  return r.stdout.trim().split(',').filter(Boolean);
}

/**
 * Throws an error that says what to install when Debian's python3 lacks one of `modules`, so a test fails with
 * the cause instead of a Python traceback (or, worse, skipping).
 */
export async function requirePythonModules(modules: readonly string[]): Promise<void> {
  const missing = await missingPythonModules(modules);
  if (missing.length === 0) return;
  const pkgs = [...new Set(missing.map((m) => PACKAGE_OF[m] ?? `python3-${m}`))];
  throw new Error(
    `${SYSTEM_PYTHON} cannot import ${missing.join(', ')}: install Debian's ${pkgs.join(' ')} ` +
      `(bash test/setup/ensure-deps.sh does it; a pyenv/venv python3 on PATH does not see Debian's packages)`,
  );
}
