/**
 * A process on a real pseudo-terminal (Python's pty module, see pty-relay.py): the test types bytes into the
 * terminal and reads what the program draws on it, as a person at the keyboard would.
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { StringDecoder } from 'node:string_decoder';
import { Screen, stripAnsi } from './screen.ts';

const RELAY = join(import.meta.dirname, 'pty-relay.py');
const PYTHON = '/usr/bin/python3';

export interface PtyOptions {
  rows?: number;
  cols?: number;
  env?: Record<string, string>;
  /** Kill the terminal (the program gets SIGHUP) after this long, so a hang fails the test instead of outliving it. */
  timeoutMs?: number;
}

export interface PtyProcess {
  /** Types into the terminal: `\r` is Enter, `\x03` is Ctrl-C. */
  type(keys: string): void;
  /** Everything written on the terminal so far, escape sequences and all. */
  raw(): string;
  /** The screen as a person sees it now (scrollback included). */
  screen(): Screen;
  /** The raw output without escape sequences: every redraw, in order. */
  plain(): string;
  /**
   * Resolves once the screen text matches `re` (or `re` counted `times` times); rejects on timeout or when the
   * program ends first.
   */
  waitForScreen(re: RegExp, timeoutMs: number, times?: number): Promise<void>;
  /** The program's exit code (128 + signal if a signal ended it) once it has ended and the terminal closed. */
  exited: Promise<number | null>;
  /** The program's pid (on the terminal), once the relay has started it. */
  pid: Promise<number>;
  /** Hangs up the terminal: the program gets SIGHUP (and SIGKILL 5 s later if it ignores that). */
  hangUp(): void;
  /** True once the program has ended and the terminal closed. */
  ended(): boolean;
}

export function spawnInPty(command: string, args: string[], opts: PtyOptions = {}): PtyProcess {
  const rows = opts.rows ?? 30;
  const cols = opts.cols ?? 120;
  const relay = spawn(PYTHON, [RELAY, String(rows), String(cols), command, ...args], {
    cwd: process.cwd(),
    env: { ...process.env, TERM: 'xterm', ...opts.env },
  });
  const screen = new Screen(rows, cols);
  const decoder = new StringDecoder('utf8');
  let raw = '';
  let relayErr = '';
  let ended = false;
  const watchers = new Set<() => void>();
  const notify = () => {
    for (const w of [...watchers]) w();
  };
  relay.stdout.on('data', (d: Buffer) => {
    const text = decoder.write(d);
    raw += text;
    screen.write(text);
    notify();
  });
  let resolvePid: (pid: number) => void = () => undefined;
  const pid = new Promise<number>((r) => {
    resolvePid = r;
  });
  relay.stderr.on('data', (d) => {
    relayErr += d;
    const m = /^pid (\d+)$/m.exec(relayErr);
    if (m) resolvePid(Number(m[1]));
  });
  relay.stdin.on('error', () => undefined); // typing into a terminal whose program has gone
  const timer = opts.timeoutMs === undefined ? undefined : setTimeout(() => relay.kill('SIGKILL'), opts.timeoutMs);
  const exited = new Promise<number | null>((resolve) => {
    relay.on('close', (code) => {
      clearTimeout(timer);
      ended = true;
      notify();
      resolve(code);
    });
  });
  return {
    type: (keys) => relay.stdin.write(keys),
    raw: () => raw,
    screen: () => screen,
    plain: () => stripAnsi(raw),
    exited,
    pid,
    hangUp: () => relay.stdin.end(),
    ended: () => ended,
    waitForScreen(re, timeoutMs, times = 1) {
      const all = new RegExp(re.source, re.flags.includes('g') ? re.flags : `${re.flags}g`);
      return new Promise<void>((resolve, reject) => {
        const done = (err?: Error) => {
          clearTimeout(t);
          watchers.delete(check);
          if (err) reject(err);
          else resolve();
        };
        const t = setTimeout(
          () =>
            done(
              new Error(
                `timed out after ${timeoutMs} ms waiting for ${re} (${times}x) on the terminal:\n${screen.text()}`,
              ),
            ),
          timeoutMs,
        );
        const check = () => {
          if ((screen.text().match(all)?.length ?? 0) >= times) done();
          else if (ended) done(new Error(`the program ended before ${re} showed on the terminal:\n${screen.text()}`));
        };
        watchers.add(check);
        check();
      });
    },
  };
}

/** The real `cpobench` bin on a terminal of its own. */
export function cpobenchInPty(args: string[], opts: PtyOptions = {}): PtyProcess {
  return spawnInPty(process.execPath, ['src/cli/bin.js', ...args], {
    ...opts,
    env: { NO_COLOR: '1', CPOBENCH_HISTORY: '/dev/null', ...opts.env },
  });
}

/** The terminals of one test file: `hangUpAll()` (in afterEach) leaves no program running after a failed test. */
export function terminals(): {
  cpobench(args: string[], opts?: PtyOptions): PtyProcess;
  spawn(command: string, args: string[], opts?: PtyOptions): PtyProcess;
  hangUpAll(): Promise<void>;
} {
  const all: PtyProcess[] = [];
  const track = (t: PtyProcess) => {
    all.push(t);
    return t;
  };
  return {
    cpobench: (args, opts) => track(cpobenchInPty(args, opts)),
    spawn: (command, args, opts) => track(spawnInPty(command, args, opts)),
    async hangUpAll() {
      for (const t of all.splice(0)) {
        if (!t.ended()) t.hangUp();
        await t.exited;
      }
    },
  };
}
