/** `cpobench hub` and `cpobench serve --hub` as separate processes, as a lab runs them. */
import { type ChildProcess, spawn } from 'node:child_process';

export interface Proc {
  child: ChildProcess;
  out(): string;
  /** The first match of `re` in stdout (waits up to 60 s). */
  match(re: RegExp): Promise<RegExpExecArray>;
  /** SIGINT (or the given signal), then the exit code. */
  stop(sig?: NodeJS.Signals): Promise<number | null>;
  exit: Promise<number | null>;
}

export function startCpobench(args: string[], env: Record<string, string>, cwd = process.cwd()): Proc {
  const child = spawn(process.execPath, [`${process.cwd()}/src/cli/bin.js`, ...args], {
    cwd,
    env: { ...process.env, NO_COLOR: '1', CPOBENCH_HISTORY: '/dev/null', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  child.stdout!.on('data', (d) => {
    out += d;
  });
  child.stderr!.on('data', (d) => {
    err += d;
  });
  const exit = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
  return {
    child,
    out: () => `${out}\n--- stderr ---\n${err}`,
    exit,
    async match(re) {
      const until = Date.now() + 60_000;
      while (Date.now() < until) {
        const m = re.exec(out);
        if (m) return m;
        if (child.exitCode !== null) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      throw new Error(`no ${re} in the output of cpobench ${args.join(' ')}:\n${out}\n${err}`);
    },
    async stop(sig = 'SIGINT') {
      if (child.exitCode === null && child.signalCode === null) child.kill(sig);
      return exit;
    },
  };
}
