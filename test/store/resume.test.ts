/**
 * What `cpobench resume` needs of the store: the fingerprint and launch kept with a run, and taking over an
 * INTERRUPTED run (RUNNING again, owned by this process, nothing recorded lost), refused for any other state.
 */
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { StoreError } from '../../src/store/errors.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';
import { laneFrame, tempDir } from './fixtures.ts';

let tmp: ReturnType<typeof tempDir>;
const open: SqliteStore[] = [];
beforeEach(() => {
  tmp = tempDir('cpobench-resume-store-');
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  tmp.cleanup();
});

function openStore(path: string): SqliteStore {
  const s = openSqliteStore(path);
  open.push(s);
  return s;
}

const header = {
  sequence: { name: 'burn', hash: 'h1', file: 'burn.yaml' },
  station: { name: 'st', snapshot: {} },
  dut: 'SN1',
  operator: 'op',
  software: { version: '0.1.0' },
  resume: {
    fingerprint: { instruments: ['tec thorlabs-ted4015 THORLABS/TED4015/M1'], lanes: '20x20' },
    launch: { sim: { profile: 'mosaic-800g', seed: 1, timeScale: 1000 }, sequence: '/abs/burn.yaml' },
  },
};

/** The run's controller is gone: its owner set to a pid nobody has, as after a SIGKILL. */
function killOwner(file: string, runId: string): void {
  const db = new Database(file);
  try {
    db.prepare('UPDATE runs SET owner_pid = ? WHERE id = ?').run(2 ** 22 + 12345, runId);
  } finally {
    db.close();
  }
}

describe('resumable runs in the store', () => {
  it('keeps the fingerprint and launch; reopens an INTERRUPTED run with everything it recorded', () => {
    const file = join(tmp.dir, 'runs.db');
    const s = openStore(file);
    const id = s.createRun(header);
    s.appendStep(id, { index: 0, id: 'burn', name: 'burn', type: 'burn-in', startedAt: new Date().toISOString() });
    s.addMeasurement(
      id,
      'burn',
      laneFrame('burnin_power', 400, (l) => l * 1e-6, { at: { hours: 0, point: 0 } }),
    );
    expect(s.getResumeInfo(id)).toEqual({ ...header.resume, resumes: [] });
    // a run being run cannot be reopened
    expect(() => s.reopenRun(id)).toThrow(/is RUNNING, not INTERRUPTED/);
    killOwner(file, id);
    expect(s.markInterrupted()).toEqual([id]);
    expect(s.getRun(id).outcome).toBe('INTERRUPTED');
    s.reopenRun(id, [{ role: 'tec', resource: 'TCPIP0::127.0.0.1::5999::SOCKET', driver: 'thorlabs-ted4015' }]);
    const r = s.getRun(id);
    expect(r.outcome).toBe('RUNNING');
    expect(r.finishedAt).toBeUndefined();
    expect(r.error).toBeUndefined();
    expect(r.instruments.map((i) => i.resource)).toEqual(['TCPIP0::127.0.0.1::5999::SOCKET']);
    expect(r.steps[0]!.measurements).toHaveLength(1); // nothing lost
    expect(s.getResumeInfo(id).resumes).toHaveLength(1);
    // owned by this process now: the recovery on open leaves it alone
    expect(s.markInterrupted()).toEqual([]);
    // the step row is continued in place
    s.addMeasurement(
      id,
      'burn',
      laneFrame('burnin_power', 400, (l) => l * 1e-6, { at: { hours: 4, point: 1 } }),
    );
    s.finishStep(id, 'burn', { verdict: 'PASS' });
    s.finishRun(id, { outcome: 'PASS' });
    const done = s.getRun(id);
    expect(done.steps).toHaveLength(1);
    expect(done.steps[0]!.measurements.map((m) => m.at?.hours)).toEqual([0, 4]);
    // finished: refused, saying what it is
    let err: unknown;
    try {
      s.reopenRun(id);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('NOT_INTERRUPTED');
    expect((err as StoreError).message).toMatch(/is PASS, not INTERRUPTED: it cannot be resumed/);
    expect(() => s.getResumeInfo('r-nope')).toThrow(/unknown run id: r-nope/);
  });

  it('two processes resuming the same run: one takes it, the other is refused', () => {
    const file = join(tmp.dir, 'runs.db');
    const a = openStore(file);
    const id = a.createRun(header);
    killOwner(file, id);
    a.markInterrupted();
    const b = openStore(file);
    a.reopenRun(id);
    expect(() => b.reopenRun(id)).toThrow(/is RUNNING, not INTERRUPTED/);
    expect(a.getResumeInfo(id).resumes).toHaveLength(1);
  });

  it('a run stored without resume information has none', () => {
    const s = openStore(join(tmp.dir, 'runs.db'));
    const { resume: _, ...plain } = header;
    const id = s.createRun(plain);
    expect(s.getResumeInfo(id)).toEqual({ resumes: [] });
  });
});
