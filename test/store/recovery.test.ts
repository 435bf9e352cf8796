/**
 * Store recovery and journal mode, checked without a second cpobench process: the owner of a RUNNING run is set
 * by hand to a live process of this machine (our parent) with its true or a wrong start time, and the SQLite file
 * header says which journal the file uses.
 */
import { closeSync, openSync, readFileSync, readSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { currentOwner, isOwnerAlive, type OwnerIdentity } from '../../src/core/owner.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';
import { sampleRecord, tempDir, writeRecord } from './fixtures.ts';

let tmp: ReturnType<typeof tempDir>;
const open: SqliteStore[] = [];
beforeEach(() => {
  tmp = tempDir('cpobench-recovery-');
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  tmp.cleanup();
});

function openStore(path: string, opts = {}): SqliteStore {
  const s = openSqliteStore(path, opts);
  open.push(s);
  return s;
}

/** Field 22 (starttime) of /proc/<pid>/stat, read here independently of src/core/owner.ts. */
function procStartTime(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
}

/** Another live process of this machine and boot (our parent: vitest's main process). */
function liveOther(): OwnerIdentity {
  const pid = process.ppid;
  return {
    pid,
    host: hostname(),
    bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
    startTime: procStartTime(pid),
  };
}

function setOwner(file: string, runId: string, o: OwnerIdentity): void {
  const db = new Database(file);
  try {
    db.prepare('UPDATE runs SET owner_pid = ?, owner_host = ?, owner_boot_id = ?, owner_start = ? WHERE id = ?').run(
      o.pid,
      o.host,
      o.bootId,
      o.startTime,
      runId,
    );
  } finally {
    db.close();
  }
}

describe.runIf(process.platform === 'linux')('owner identity (pid reuse)', () => {
  it('reads this process: pid, host, boot id and /proc start time', () => {
    const me = currentOwner();
    expect(me).toEqual({
      pid: process.pid,
      host: hostname(),
      bootId: readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim(),
      startTime: procStartTime(process.pid),
    });
  });

  it('another live process with its own start time is alive', () => {
    expect(isOwnerAlive(liveOther())).toBe(true);
    expect(isOwnerAlive({ ...liveOther(), startTime: null })).toBe(true); // no start time recorded: cannot tell
    expect(isOwnerAlive({ ...liveOther(), bootId: null })).toBe(true);
  });

  // Guards the mutant "drop the pid-reuse check" (`owner.startTime && stat.startTime !== owner.startTime`):
  // the pid is alive, but it is another process than the one that wrote the record.
  it('a live pid with another start time is a reused pid: the owner is gone', () => {
    const other = liveOther();
    expect(isOwnerAlive({ ...other, startTime: String(Number(other.startTime) + 1) })).toBe(false);
    expect(isOwnerAlive({ ...other, startTime: '1' })).toBe(false);
  });

  it('this process with another start time is a reused pid too', () => {
    const me = currentOwner();
    expect(isOwnerAlive({ ...me, startTime: String(Number(me.startTime) + 1) })).toBe(false);
    expect(isOwnerAlive({ ...me, startTime: null })).toBe(true);
  });

  it('another boot is gone, another host is alive (never touched), a pid nobody has is gone', () => {
    expect(isOwnerAlive({ ...liveOther(), bootId: 'another-boot' })).toBe(false);
    expect(isOwnerAlive({ ...liveOther(), host: `${hostname()}-elsewhere`, bootId: 'x', startTime: '1' })).toBe(true);
    // pid_max is at most 2^22 on Linux: this pid cannot exist
    expect(isOwnerAlive({ ...liveOther(), pid: 2 ** 22 + 1, startTime: null })).toBe(false);
  });

  it('a zombie (exited, not yet reaped) is gone', async () => {
    const { spawn } = await import('node:child_process');
    // a parent that forks a child which exits at once, and never reaps it (perl-base is essential on Debian)
    const sh = spawn('perl', ['-e', '$| = 1; my $p = fork(); exit 0 unless $p; print "$p\\n"; sleep 5'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    try {
      const pid = Number(await new Promise<string>((r) => sh.stdout!.once('data', (d) => r(String(d).trim()))));
      const deadline = Date.now() + 5000;
      let state = '';
      while (Date.now() < deadline) {
        state = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1][0];
        if (state === 'Z') break;
        await new Promise((r) => setTimeout(r, 10));
      }
      expect(state).toBe('Z');
      expect(isOwnerAlive({ pid, host: hostname(), bootId: null, startTime: procStartTime(pid) })).toBe(false);
    } finally {
      sh.kill('SIGKILL');
    }
  });
});

describe.runIf(process.platform === 'linux')('markInterrupted', () => {
  it('keeps a RUNNING run whose owner is alive, marks one whose pid was reused, leaves unknown owners alone', () => {
    const file = join(tmp.dir, 'runs.db');
    const writer = openStore(file);
    const alive = writeRecord(writer, sampleRecord({ outcome: 'RUNNING' }));
    const reused = writeRecord(writer, sampleRecord({ outcome: 'RUNNING' }));
    const unknown = writeRecord(writer, sampleRecord({ outcome: 'RUNNING' }));
    const other = liveOther();
    setOwner(file, alive, other);
    setOwner(file, reused, { ...other, startTime: String(Number(other.startTime) + 1) });
    const db = new Database(file);
    db.prepare('UPDATE runs SET owner_pid = NULL WHERE id = ?').run(unknown);
    db.close();

    const noHost = writeRecord(writer, sampleRecord({ outcome: 'RUNNING' }));
    setOwner(file, noHost, { ...other, startTime: '1' }); // would be gone, but the host is unknown
    const db2 = new Database(file);
    db2.prepare('UPDATE runs SET owner_host = NULL WHERE id = ?').run(noHost);
    db2.close();

    const next = openStore(file, { markInterruptedOnOpen: false });
    const before = Date.now();
    expect(next.markInterrupted()).toEqual([reused]);
    expect(next.getRun(noHost).outcome).toBe('RUNNING');
    expect(next.getRun(alive).outcome).toBe('RUNNING');
    expect(next.getRun(unknown).outcome).toBe('RUNNING');
    const rec = next.getRun(reused);
    expect(rec.outcome).toBe('INTERRUPTED');
    expect(Date.parse(rec.finishedAt!)).toBeGreaterThanOrEqual(before - 1000);
    expect(Date.parse(rec.finishedAt!)).toBeLessThanOrEqual(Date.now());
    expect(JSON.stringify(rec)).toContain(`interrupted: the process that ran it (pid ${other.pid} on ${other.host})`);
    expect(next.markInterrupted()).toEqual([]);
  });

  it('runs on open unless told not to', () => {
    const file = join(tmp.dir, 'runs.db');
    const w = openStore(file);
    const id = writeRecord(w, sampleRecord({ outcome: 'RUNNING' }));
    setOwner(file, id, { ...liveOther(), startTime: '1' });
    expect(openStore(file, { markInterruptedOnOpen: false }).getRun(id).outcome).toBe('RUNNING');
    expect(openStore(file).getRun(id).outcome).toBe('INTERRUPTED');
  });
});

describe('busy timeout', () => {
  // A writer blocked by another connection's write lock waits for the configured time (default 5 s), then fails;
  // 200 ms here, with a stated margin of 2 s for a loaded machine (far from 5 s, the default it must not fall to).
  it('a blocked write waits busyTimeoutMs, then fails as busy', () => {
    const file = join(tmp.dir, 'runs.db');
    const store = openStore(file, { busyTimeoutMs: 200 });
    const id = writeRecord(store, sampleRecord({ outcome: 'RUNNING', steps: [] }));
    const other = new Database(file);
    try {
      other.exec('BEGIN IMMEDIATE');
      const t0 = performance.now();
      expect(() => store.finishRun(id, { outcome: 'PASS' })).toThrow(/busy|locked/i);
      const waited = performance.now() - t0;
      expect(waited).toBeGreaterThanOrEqual(190);
      expect(waited).toBeLessThan(200 + 2000);
      other.exec('ROLLBACK');
      store.finishRun(id, { outcome: 'PASS' });
      expect(store.getRun(id).outcome).toBe('PASS');
    } finally {
      other.close();
    }
  });
});

describe('journal mode', () => {
  it('an in-memory store has no journal file to switch and works; a closed one names the call', () => {
    const mem = openSqliteStore(':memory:');
    const id = writeRecord(mem, sampleRecord({ outcome: 'RUNNING' }));
    expect(mem.getRun(id).outcome).toBe('RUNNING');
    expect(mem.sizeOnDisk()).toBe(0);
    mem.close();
    expect(() => mem.markInterrupted()).toThrow(/^markInterrupted: the results store :memory: is closed$/);
  });

  /** SQLite file format, database header offsets 18/19: 1 = rollback journal, 2 = WAL. */
  function headerVersions(file: string): [number, number] {
    const fd = openSync(file, 'r');
    try {
      const b = Buffer.alloc(20);
      readSync(fd, b, 0, 20, 0);
      return [b[18], b[19]];
    } finally {
      closeSync(fd);
    }
  }

  // Guards the mutant "switch the store from WAL to a rollback journal".
  it('the file is in WAL mode: header says so, and a reader mid-transaction never blocks the run writing', () => {
    const file = join(tmp.dir, 'runs.db');
    const store = openStore(file, { busyTimeoutMs: 50 });
    const id = writeRecord(store, sampleRecord({ outcome: 'RUNNING', steps: [] }));
    expect(headerVersions(file)).toEqual([2, 2]);
    // a report export or dashboard query holding a read transaction open
    const reader = new Database(file, { readonly: true });
    try {
      reader.exec('BEGIN');
      const before = reader.prepare('SELECT outcome FROM runs WHERE id = ?').get(id) as { outcome: string };
      expect(before.outcome).toBe('RUNNING');
      // with a rollback journal this commit needs an exclusive lock and fails with SQLITE_BUSY after 50 ms
      store.finishRun(id, { outcome: 'PASS' });
      // the reader keeps its snapshot until it ends its transaction
      expect((reader.prepare('SELECT outcome FROM runs WHERE id = ?').get(id) as { outcome: string }).outcome).toBe(
        'RUNNING',
      );
      reader.exec('COMMIT');
      expect((reader.prepare('SELECT outcome FROM runs WHERE id = ?').get(id) as { outcome: string }).outcome).toBe(
        'PASS',
      );
    } finally {
      reader.close();
    }
  });
});
