/**
 * The bench lock with real files and real processes: refusals name the holder, kill -9 leaves a lock the next
 * user takes over, racers for one stale lock get exactly one winner, another host's lock is never taken.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentOwner } from '../../src/core/owner.ts';
import {
  ensureLockDirectory,
  InstrumentLockedError,
  type InstrumentLockRecord,
  instrumentLockState,
  lockDirectory,
  lockInstruments,
  lockPath,
  processCommand,
} from '../../src/station/bench-lock.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHILD = join(import.meta.dirname, 'lock-child.ts');
const RES = 'TCPIP0::127.0.0.1::5025::SOCKET';

let dir: string;
const children: ChildProcessWithoutNullStreams[] = [];

beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpobench-lock-test-'));
});
afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((r) => c.once('close', r));
      c.kill('SIGKILL');
      await gone;
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

interface ChildResult {
  ok: boolean;
  token?: string;
  tookOver?: number[];
  code?: string;
  message?: string;
}

interface Child {
  proc: ChildProcessWithoutNullStreams;
  result: Promise<ChildResult>;
  exited: Promise<number | null>;
}

function child(resource: string, mode: 'hold' | 'exit' | 'race', barrier?: string, racers?: number): Child {
  const args = ['--import', 'tsx', CHILD, dir, resource, mode];
  if (barrier) args.push(barrier, String(racers));
  const proc = spawn(process.execPath, args, { cwd: ROOT });
  children.push(proc);
  let stderr = '';
  proc.stderr.on('data', (d) => {
    stderr += d;
  });
  const exited = new Promise<number | null>((r) => proc.once('close', (code) => r(code)));
  const result = new Promise<ChildResult>((resolve, reject) => {
    createInterface({ input: proc.stdout }).once('line', (l) => resolve(JSON.parse(l) as ChildResult));
    proc.once('close', (code) => reject(new Error(`lock child exited (${code}) without a result: ${stderr}`)));
  });
  return { proc, result, exited };
}

/** A lock left by a process killed with SIGKILL while holding it. */
async function staleLock(resource: string): Promise<{ pid: number; token: string }> {
  const c = child(resource, 'hold');
  const r = await c.result;
  expect(r.ok, r.message).toBe(true);
  c.proc.kill('SIGKILL');
  await c.exited;
  return { pid: c.proc.pid!, token: r.token! };
}

function readLock(resource: string): InstrumentLockRecord {
  return JSON.parse(readFileSync(lockPath(resource, dir).path, 'utf8')) as InstrumentLockRecord;
}

function lockFiles(): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.lock'));
}

describe('bench lock', () => {
  it('two stations in one process: the second is refused naming role, resource and the holder', async () => {
    const a = await lockInstruments(
      [
        { role: 'led-driver', resource: 'TCPIP::127.0.0.1::5025::SOCKET' },
        { role: 'tec', resource: 'TCPIP0::127.0.0.1::5029::SOCKET' },
      ],
      { dir, station: 'bench A', command: 'cpobench serve --station a.yaml' },
    );
    expect(lockFiles()).toHaveLength(2);
    // the same instruments spelled differently, under other roles, plus one that is free
    const err = await lockInstruments(
      [
        { role: 'pd-receiver', resource: 'TCPIP9::127.0.0.1::5024::SOCKET' },
        { role: 'light', resource: 'tcpip0::127.0.0.1::5025::socket' },
        { role: 'thermal', resource: 'TCPIP::127.0.0.1::5029::SOCKET' },
      ],
      { dir, station: 'bench B' },
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(InstrumentLockedError);
    const e = err as InstrumentLockedError;
    expect(e.code).toBe('E_LOCKED');
    expect(e.refusals.map((r) => r.role).sort()).toEqual(['light', 'thermal']);
    expect(e.message).toContain('light (tcpip0::127.0.0.1::5025::socket) [its led-driver]');
    expect(e.message).toContain('thermal (TCPIP::127.0.0.1::5029::SOCKET) [its tec]');
    expect(e.message).toContain(`pid ${process.pid} on ${hostname()}`);
    expect(e.message).toContain('"cpobench serve --station a.yaml", station "bench A", since 20');
    // all or none: the free instrument B got first (5024 sorts before 5025) is given back
    expect(instrumentLockState('TCPIP0::127.0.0.1::5024::SOCKET', dir)).toEqual({ kind: 'free' });
    expect(lockFiles()).toHaveLength(2);

    a.release();
    a.release(); // idempotent
    expect(lockFiles()).toHaveLength(0);
    const b = await lockInstruments([{ role: 'light', resource: 'TCPIP0::127.0.0.1::5025::SOCKET' }], {
      dir,
      station: 'bench B',
    });
    expect(readLock(RES).station).toBe('bench B');
    b.release();
  });

  it('release never removes a lock someone else holds now', async () => {
    const a = await lockInstruments([{ role: 'led-driver', resource: RES }], { dir, station: 'A' });
    const path = lockPath(RES, dir).path;
    // as if A had been judged gone and another process had taken its instrument over
    const other = { ...readLock(RES), token: 'someone-else', station: 'B' };
    writeFileSync(path, JSON.stringify(other));
    a.release();
    a.release();
    expect(readLock(RES).token).toBe('someone-else');
  });

  it('a live holder in another process is refused; once it is killed with SIGKILL its lock is taken over', async () => {
    const holder = child(RES, 'hold');
    expect((await holder.result).ok).toBe(true);
    const err = (await lockInstruments([{ role: 'led-driver', resource: RES }], { dir, station: 'mine' }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(InstrumentLockedError);
    expect(err.message).toContain(`pid ${holder.proc.pid} on ${hostname()}`);
    expect(err.message).toMatch(/"node .*lock-child\.ts .* hold", station "child-hold"/);
    expect(readLock(RES).owner.pid).toBe(holder.proc.pid);

    holder.proc.kill('SIGKILL');
    await holder.exited;
    expect(instrumentLockState(RES, dir).kind).toBe('stale');
    const mine = await lockInstruments([{ role: 'led-driver', resource: RES }], { dir, station: 'mine' });
    expect(mine.tookOver.map((t) => t.owner.pid)).toEqual([holder.proc.pid]);
    expect(readLock(RES)).toMatchObject({ station: 'mine', owner: { pid: process.pid } });
    mine.release();
    expect(lockFiles()).toEqual([]);
  });

  it('processes that find the same stale lock at once: exactly one takes it over', async () => {
    let previous = (await staleLock(RES)).pid;
    for (let round = 0; round < 2; round++) {
      const barrier = join(dir, `barrier-${round}`);
      mkdirSync(barrier);
      const racers = [0, 1, 2].map(() => child(RES, 'race', barrier, 3));
      const results = await Promise.all(racers.map((r) => r.result));
      const winners = results.flatMap((r, i) => (r.ok ? [i] : []));
      expect(winners, JSON.stringify(results)).toHaveLength(1);
      const w = winners[0]!;
      expect(readLock(RES).token).toBe(results[w]!.token);
      const winnerPid = racers[w]!.proc.pid!;
      expect(results[w]!.tookOver).toEqual([previous]);
      for (const [i, r] of results.entries()) {
        if (i === w) continue;
        expect(r.code).toBe('E_LOCKED');
        expect(r.message).toContain(`pid ${winnerPid} on`);
      }
      // the next round races for the lock of this round's winner, killed with SIGKILL
      for (const [i, r] of racers.entries()) if (i !== w) r.proc.stdin.end();
      racers[w]!.proc.kill('SIGKILL');
      await Promise.all(racers.map((r) => r.exited));
      expect(readLock(RES).owner.pid).toBe(winnerPid);
      previous = winnerPid;
    }
    // no guard or temp file left behind by a takeover that finished
    expect(readdirSync(dir).filter((f) => !f.startsWith('barrier'))).toEqual(lockFiles());
  });

  it('a lock from another host is never taken over, even when its pid does not run here', async () => {
    const path = lockPath(RES, dir).path;
    const foreign: InstrumentLockRecord = {
      version: 1,
      token: 'f00d',
      owner: { pid: 2 ** 22 + 4321, host: `${hostname()}-lab2`, bootId: 'another-boot', startTime: '1' },
      key: 'tcp:127.0.0.1:5025',
      resource: RES,
      role: 'led-driver',
      station: 'lab 2 bench',
      command: 'cpobench run smoke --station lab2.yaml',
      user: 'ana',
      since: '2026-01-01T00:00:00.000Z',
    };
    writeFileSync(path, JSON.stringify(foreign));
    expect(instrumentLockState(RES, dir).kind).toBe('held');
    const err = (await lockInstruments([{ role: 'led-driver', resource: RES }], { dir, station: 'mine' }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(InstrumentLockedError);
    expect(err.message).toContain(`pid ${2 ** 22 + 4321} on ${hostname()}-lab2 (user ana)`);
    expect(err.message).toContain('"cpobench run smoke --station lab2.yaml", station "lab 2 bench"');
    expect(readLock(RES).token).toBe('f00d');
  });

  it('a lock file that is not a lock record is never removed: refused, naming the file', async () => {
    const path = lockPath(RES, dir).path;
    writeFileSync(path, 'garbage');
    const err = (await lockInstruments([{ role: 'led-driver', resource: RES }], { dir, station: 'mine' }).catch(
      (e: unknown) => e,
    )) as Error;
    expect(err).toBeInstanceOf(InstrumentLockedError);
    expect(err.message).toContain(`led-driver (${RES}) is locked by ${path}`);
    expect(readFileSync(path, 'utf8')).toBe('garbage');
  });

  it('a takeover interrupted by kill -9 (its guard left behind) does not block the next one', async () => {
    const stale = await staleLock(RES);
    const path = lockPath(RES, dir).path;
    const dead = readLock(RES).owner;
    writeFileSync(`${path}.break-${stale.token}`, JSON.stringify({ token: 'g1', owner: dead, breaking: stale.token }));
    const mine = await lockInstruments([{ role: 'led-driver', resource: RES }], { dir, station: 'mine' });
    expect(mine.tookOver.map((t) => t.owner.pid)).toEqual([stale.pid]);
    mine.release();
    expect(readdirSync(dir)).toEqual([]);
  });

  it('a process that exits without releasing leaves no lock behind', async () => {
    const c = child(RES, 'exit');
    expect((await c.result).ok).toBe(true);
    expect(await c.exited).toBe(0);
    expect(lockFiles()).toEqual([]);
  });

  it('the lock directory: CPOBENCH_LOCK_DIR or <tmp>/cpobench-locks, created with mode 1777', () => {
    expect(lockDirectory({ CPOBENCH_LOCK_DIR: '/x/locks' })).toBe('/x/locks');
    expect(lockDirectory({})).toBe(join(tmpdir(), 'cpobench-locks'));
    const d = join(dir, 'shared', 'locks');
    ensureLockDirectory(d);
    expect(statSync(d).mode & 0o7777).toBe(0o1777);
  });

  it('the holder is described by its command line as typed', () => {
    expect(processCommand(['/usr/bin/node', '/opt/cpobench/src/cli/bin.js', 'run', 'mosaic-800g-qual'])).toBe(
      'cpobench run mosaic-800g-qual',
    );
    expect(processCommand(['node', 'src/cli/main.ts', 'run', 'smoke', '--operator', 'Ana B'])).toBe(
      'cpobench run smoke --operator "Ana B"',
    );
    expect(currentOwner().pid).toBe(process.pid);
  });
});
