import { type ChildProcess, spawn } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentOwner, isOwnerAlive } from '../../src/core/owner.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { sampleRecord, tempDir, writeRecord } from './fixtures.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const CHILD = join(import.meta.dirname, 'child-run.ts');

let tmp: ReturnType<typeof tempDir>;
let child: ChildProcess | undefined;

beforeEach(() => {
  tmp = tempDir('cpobench-interrupt-');
});
afterEach(async () => {
  if (child && child.exitCode === null && child.signalCode === null) {
    const gone = new Promise((r) => child!.once('exit', r));
    child.kill('SIGKILL');
    await gone;
  }
  child = undefined;
  tmp.cleanup();
});

interface Started {
  runId: string;
  /** Resolves when a line matching the predicate appears; returns the last `frame k` seen so far. */
  until: (pred: (line: string) => boolean) => Promise<void>;
  lastFrame: () => number;
  exited: Promise<unknown>;
}

function startChild(db: string, mode: 'write' | 'idle'): Promise<Started> {
  const c = spawn(process.execPath, ['--import', 'tsx', CHILD, db, mode], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child = c;
  let stderr = '';
  c.stderr!.on('data', (d) => {
    stderr += String(d);
  });
  const exited = new Promise((r) => c.once('exit', r));
  const rl = createInterface({ input: c.stdout! });
  let last = -1;
  let runId = '';
  // Lines that arrive in one chunk are emitted before a later until() registers: keep them all.
  const seen: string[] = [];
  const waiters: { pred: (l: string) => boolean; resolve: () => void }[] = [];
  rl.on('line', (line) => {
    const m = /^frame (\d+)$/.exec(line);
    if (m) last = Number(m[1]);
    const r = /^run (\S+)$/.exec(line);
    if (r) runId = r[1];
    seen.push(line);
    for (const w of waiters.splice(0)) {
      if (w.pred(line)) w.resolve();
      else waiters.push(w);
    }
  });
  const until = (pred: (l: string) => boolean) =>
    new Promise<void>((resolve, reject) => {
      if (seen.some(pred)) return resolve();
      waiters.push({ pred, resolve });
      c.once('exit', (code) => reject(new Error(`child exited (${code}) early: ${stderr}`)));
    });
  return until((l) => l.startsWith('run ')).then(() => ({ runId, until, lastFrame: () => last, exited }));
}

async function killHard(s: Started): Promise<void> {
  child!.kill('SIGKILL');
  await s.exited; // reaped: no zombie left behind
}

describe('interrupted runs', () => {
  it('a run killed with SIGKILL mid-write shows INTERRUPTED with every frame it reported written', async () => {
    const db = join(tmp.dir, 'kill.db');
    const s = await startChild(db, 'write');
    await s.until((l) => l === 'frame 60');
    await killHard(s);
    const reported = s.lastFrame();
    expect(reported).toBeGreaterThanOrEqual(60);

    const store = openSqliteStore(db);
    try {
      const rec = store.getRun(s.runId);
      expect(rec.outcome).toBe('INTERRUPTED');
      expect(rec.finishedAt).toBeDefined();
      expect(rec.error).toMatch(/interrupted/);
      const frames = rec.steps[0].measurements;
      // Persisted before streamed: every frame the child printed is in the store, intact.
      expect(frames.length).toBeGreaterThanOrEqual(reported + 1);
      frames.forEach((m, k) => {
        if (m.kind !== 'lanes') throw new Error('expected lane frames');
        expect(m.at).toEqual({ point: k });
        expect(m.lanes).toHaveLength(400);
        expect(m.values[0]).toBe(1 + k * 1000);
        expect(m.values[399]).toBe(400 + k * 1000);
      });
      expect(store.listRuns({ outcome: 'INTERRUPTED' }).map((r) => r.id)).toEqual([s.runId]);
    } finally {
      store.close();
    }
  });

  it('never touches a run whose owner process is alive; marks it once the owner is gone', async () => {
    const db = join(tmp.dir, 'live.db');
    const s = await startChild(db, 'idle');
    await s.until((l) => l === 'idle');

    const first = openSqliteStore(db);
    try {
      expect(first.getRun(s.runId).outcome).toBe('RUNNING');
      expect(first.markInterrupted()).toEqual([]);
      expect(first.getRun(s.runId).outcome).toBe('RUNNING');
    } finally {
      first.close();
    }

    await killHard(s);
    const second = openSqliteStore(db);
    try {
      const rec = second.getRun(s.runId);
      expect(rec.outcome).toBe('INTERRUPTED');
      expect(rec.steps[0].measurements).toHaveLength(10);
      expect(second.markInterrupted()).toEqual([]); // already done
    } finally {
      second.close();
    }
  });

  it('does not mark runs of this process, even from a second store on the same file', () => {
    const db = join(tmp.dir, 'same.db');
    const a = openSqliteStore(db);
    const b = openSqliteStore(db);
    try {
      const id = writeRecord(a, sampleRecord({ outcome: 'RUNNING' }));
      expect(b.markInterrupted()).toEqual([]);
      expect(b.getRun(id).outcome).toBe('RUNNING');
      a.finishRun(id, { outcome: 'PASS' });
      expect(b.getRun(id).outcome).toBe('PASS');
    } finally {
      a.close();
      b.close();
    }
  });

  it('liveness: a recycled pid (different start time) or another boot counts as gone, another host as alive', () => {
    const me = currentOwner();
    expect(isOwnerAlive(me)).toBe(true);
    expect(isOwnerAlive({ ...me, host: `${me.host}-elsewhere`, pid: 999_999_999 })).toBe(true);
    if (me.startTime !== null) expect(isOwnerAlive({ ...me, startTime: `${me.startTime}1` })).toBe(false);
    if (me.bootId !== null) expect(isOwnerAlive({ ...me, bootId: 'another-boot' })).toBe(false);
    expect(isOwnerAlive({ ...me, pid: 2 ** 22 + 12345, startTime: null })).toBe(false);
  });
});
