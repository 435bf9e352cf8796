import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { isUnknownRun, StoreError, UnknownRunError } from '../../src/store/errors.ts';
import { LATEST_SCHEMA_VERSION, migrate } from '../../src/store/migrations.ts';
import { newRunId, openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';
import { expectedAfterStore, laneFrame, sampleRecord, tempDir, writeRecord } from './fixtures.ts';

let tmp: ReturnType<typeof tempDir>;
const open: SqliteStore[] = [];
function openStore(name = 'runs.db', opts = {}): SqliteStore {
  const s = openSqliteStore(join(tmp.dir, name), opts);
  open.push(s);
  return s;
}

beforeEach(() => {
  tmp = tempDir();
});
afterEach(() => {
  for (const s of open.splice(0)) s.close();
  tmp.cleanup();
});

function catchErr(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected an error');
}

describe('SqliteStore round trip', () => {
  it('stores and returns a complete record', () => {
    const store = openStore();
    const rec = sampleRecord();
    const id = writeRecord(store, rec);
    expect(id).toMatch(/^r\d{8}T\d{9}-[0-9a-z]+$/);
    const back = store.getRun(id);
    expect(back).toEqual(expectedAfterStore(rec, id));
    // Survives closing and reopening.
    store.close();
    const again = openStore();
    expect(again.getRun(id)).toEqual(expectedAfterStore(rec, id));
  });

  it('keeps a 400-lane array as one row with compact blobs', () => {
    const store = openStore();
    const id = writeRecord(store, sampleRecord());
    store.close();
    const db = new Database(join(tmp.dir, 'runs.db'), { readonly: true });
    const rows = db
      .prepare(
        "SELECT length(vals) AS v, length(lanes) AS l, length(verdicts) AS d FROM measurements WHERE run_id = ? AND name = 'ber_upper'",
      )
      .all(id) as { v: number; l: number | null; d: number | null }[];
    db.close();
    expect(rows).toHaveLength(1);
    expect(rows[0].v).toBe(400 * 8);
    expect(rows[0].l).toBeNull(); // contiguous 1..400: stored as a range
    expect(rows[0].d).toBe(400); // mixed verdicts: one byte per lane
  });

  it('round-trips non-contiguous lanes, lane numbers above 65535, nulls and uniform verdicts', () => {
    const store = openStore();
    const id = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    store.appendStep(id, { index: 0, id: 's', name: 's', type: 't', startedAt: '2025-03-01T10:00:00.000Z' });
    const a = laneFrame('a', 5, (l) => (l === 2 ? null : l / 3));
    a.lanes = [9, 2, 7, 1, 3];
    const b = laneFrame('b', 3, (l) => l);
    b.lanes = [1, 100000, 5];
    store.addMeasurement(id, 's', a);
    store.addMeasurement(id, 's', b);
    const got = store.getRun(id).steps[0].measurements;
    expect(got).toEqual([a, b]);
  });

  it('generates sortable run ids', () => {
    const a = newRunId(new Date('2025-01-01T00:00:00.000Z'));
    const b = newRunId(new Date('2025-01-01T00:00:00.001Z'));
    expect(a < b).toBe(true);
    expect(newRunId()).not.toBe(newRunId());
  });
});

describe('write path', () => {
  it('batch() commits many frames in one transaction, visible to other connections only at the end', () => {
    const store = openStore();
    const id = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    store.appendStep(id, { index: 0, id: 'sweep', name: 'sweep', type: 't', startedAt: '2025-03-01T10:00:00.000Z' });
    const reader = new Database(join(tmp.dir, 'runs.db'), { readonly: true });
    const count = () =>
      (reader.prepare('SELECT count(*) AS n FROM measurements WHERE run_id = ?').get(id) as { n: number }).n;
    let seenInside = -1;
    store.batch(() => {
      for (let p = 0; p < 20; p++)
        store.addMeasurement(
          id,
          'sweep',
          laneFrame('rx', 400, (l) => l * p, { at: { point: p } }),
        );
      seenInside = count();
    });
    expect(seenInside).toBe(0);
    expect(count()).toBe(20);
    reader.close();
  });

  it('a failing batch writes nothing and rethrows', () => {
    const store = openStore();
    const id = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    store.appendStep(id, { index: 0, id: 'sweep', name: 'sweep', type: 't', startedAt: '2025-03-01T10:00:00.000Z' });
    expect(() =>
      store.batch(() => {
        store.addMeasurement(
          id,
          'sweep',
          laneFrame('rx', 4, (l) => l),
        );
        throw new Error('instrument fell over');
      }),
    ).toThrow('instrument fell over');
    expect(store.getRun(id).steps[0].measurements).toHaveLength(0);
  });

  it('rejects lane arrays of different lengths', () => {
    const store = openStore();
    const id = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    store.appendStep(id, { index: 0, id: 's', name: 's', type: 't', startedAt: '2025-03-01T10:00:00.000Z' });
    const bad = laneFrame('rx', 4, (l) => l);
    bad.values.pop();
    const err = catchErr(() => store.addMeasurement(id, 's', bad));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('INVALID');
  });

  it('bounds the transcript to the last N entries per run', () => {
    const store = openStore('t.db', { transcriptLimit: 50 });
    const id = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    const other = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    for (let i = 0; i < 130; i++)
      store.appendTranscript(id, { t: i, instrument: 'tec', dir: 'tx', text: `SOUR:TEMP ${i}` });
    store.appendTranscript(other, [{ t: 0, instrument: 'tec', dir: 'rx', text: '25.0', ms: 1.5 }]);
    const page = store.getTranscript(id);
    expect(page.entries).toHaveLength(50);
    expect(page.entries[0].text).toBe('SOUR:TEMP 80');
    expect(page.entries[49].text).toBe('SOUR:TEMP 129');
    expect(page.total).toBe(130);
    expect(page.dropped).toBe(80);
    store.finishRun(id, { outcome: 'PASS' });
    const db = new Database(join(tmp.dir, 't.db'), { readonly: true });
    const rows = (db.prepare('SELECT count(*) AS n FROM transcript WHERE run_id = ?').get(id) as { n: number }).n;
    db.close();
    expect(rows).toBe(50);
    expect(store.getTranscript(other).entries).toEqual([{ t: 0, instrument: 'tec', dir: 'rx', text: '25.0', ms: 1.5 }]);
  });

  it('two stores on two files in one process are independent', () => {
    const a = openStore('a.db');
    const b = openStore('b.db');
    const ia = writeRecord(a, sampleRecord({ dut: 'A' }));
    const ib = writeRecord(b, sampleRecord({ dut: 'B' }));
    expect(a.listRuns().map((r) => r.dut)).toEqual(['A']);
    expect(b.listRuns().map((r) => r.dut)).toEqual(['B']);
    expect(() => a.getRun(ib)).toThrow(UnknownRunError);
    expect(b.getRun(ib).dut).toBe('B');
    expect(a.getRun(ia).dut).toBe('A');
  });

  it('disk full: the write fails loudly, the run can still end as ERROR with what was written', () => {
    const store = openStore('full.db', { maxPageCount: 40 });
    const id = writeRecord(store, sampleRecord({ steps: [], outcome: 'RUNNING' }));
    store.appendStep(id, { index: 0, id: 's', name: 's', type: 't', startedAt: '2025-03-01T10:00:00.000Z' });
    let written = 0;
    let failure: unknown;
    for (let i = 0; i < 1000 && !failure; i++) {
      try {
        store.addMeasurement(
          id,
          's',
          laneFrame('rx', 400, (l) => l + i, { at: { point: i } }),
        );
        written++;
      } catch (err) {
        failure = err;
      }
    }
    expect(failure).toBeInstanceOf(StoreError);
    expect((failure as StoreError).code).toBe('FULL');
    expect((failure as StoreError).message).toContain('full.db');
    expect(written).toBeGreaterThan(0);
    store.finishRun(id, { outcome: 'ERROR', error: (failure as Error).message });
    const rec = store.getRun(id);
    expect(rec.outcome).toBe('ERROR');
    expect(rec.steps[0].measurements).toHaveLength(written);
    // A new run on a full store refuses to start.
    const big = 'x'.repeat(200_000);
    const e2 = catchErr(() => store.createRun({ ...sampleRecord(), station: { name: 's', snapshot: { big } } }));
    expect((e2 as StoreError).code).toBe('FULL');
  });
});

describe('unknown ids', () => {
  it('throws UnknownRunError for reads and writes on an unknown run', () => {
    const store = openStore();
    for (const fn of [
      () => store.getRun('r-nope'),
      () => store.finishRun('r-nope', { outcome: 'PASS' }),
      () =>
        store.addMeasurement(
          'r-nope',
          's',
          laneFrame('x', 2, (l) => l),
        ),
      () => store.appendStep('r-nope', { index: 0, id: 's', name: 's', type: 't', startedAt: 'x' }),
      () => store.addHold('r-nope', sampleRecord().holds[0]),
      () => store.appendTranscript('r-nope', { t: 0, instrument: 'x', dir: 'tx', text: '*IDN?' }),
      () => store.recordAbort('r-nope', { requestedAt: 'x', by: 'y' }),
      () => store.compareRuns('r-nope', 'r-nope2'),
    ]) {
      const err = catchErr(fn);
      expect(err).toBeInstanceOf(UnknownRunError);
      expect(isUnknownRun(err)).toBe(true);
      expect((err as UnknownRunError).runId).toBe('r-nope');
    }
  });

  it('distinguishes an unknown step of a known run', () => {
    const store = openStore();
    const id = writeRecord(store, sampleRecord({ outcome: 'RUNNING' }));
    const err = catchErr(() =>
      store.addMeasurement(
        id,
        'nope',
        laneFrame('x', 2, (l) => l),
      ),
    );
    expect((err as StoreError).code).toBe('UNKNOWN_STEP');
  });

  it('refuses a duplicate run id', () => {
    const store = openStore();
    const id = store.createRun({ ...sampleRecord(), id: 'r-fixed' });
    expect(id).toBe('r-fixed');
    expect((catchErr(() => store.createRun({ ...sampleRecord(), id: 'r-fixed' })) as StoreError).code).toBe(
      'DUPLICATE',
    );
  });
});

describe('history', () => {
  function seed(store: SqliteStore): Record<string, string> {
    const mk = (dut: string, seq: string, outcome: RunRecord['outcome'], day: number) =>
      writeRecord(
        store,
        sampleRecord({
          dut,
          sequence: { name: seq, hash: `h-${seq}` },
          outcome,
          startedAt: `2025-03-0${day}T10:00:00.000Z`,
          finishedAt: `2025-03-0${day}T11:00:00.000Z`,
        }),
      );
    return {
      a1: mk('SN-A', 'qual', 'PASS', 1),
      a2: mk('SN-A', 'qual', 'FAIL', 3),
      b1: mk('SN-B', 'qual', 'PASS', 2),
      b2: mk('SN-B', 'burnin', 'ERROR', 4),
      a3: mk('SN-A', 'burnin', 'PASS', 5),
    };
  }

  it('lists newest first and filters by DUT, sequence, outcome and date', () => {
    const store = openStore();
    const ids = seed(store);
    expect(store.listRuns().map((r) => r.id)).toEqual([ids.a3, ids.b2, ids.a2, ids.b1, ids.a1]);
    expect(store.listRuns({ dut: 'SN-A' }).map((r) => r.id)).toEqual([ids.a3, ids.a2, ids.a1]);
    expect(store.listRuns({ sequence: 'burnin' }).map((r) => r.id)).toEqual([ids.a3, ids.b2]);
    expect(store.listRuns({ outcome: 'PASS' }).map((r) => r.id)).toEqual([ids.a3, ids.b1, ids.a1]);
    expect(store.listRuns({ dut: 'SN-A', outcome: 'PASS', sequence: 'qual' }).map((r) => r.id)).toEqual([ids.a1]);
    expect(
      store.listRuns({ since: '2025-03-02T00:00:00Z', until: new Date('2025-03-04T00:00:00Z') }).map((r) => r.id),
    ).toEqual([ids.a2, ids.b1]);
    expect(store.listRuns({ limit: 2 }).map((r) => r.id)).toEqual([ids.a3, ids.b2]);
    const item = store.listRuns({ dut: 'SN-B', sequence: 'burnin' })[0];
    expect(item).toMatchObject({
      dut: 'SN-B',
      sequence: 'burnin',
      outcome: 'ERROR',
      station: 'bench-3',
      operator: 'alice',
    });
    expect((catchErr(() => store.listRuns({ since: 'yesterday-ish' })) as StoreError).code).toBe('INVALID');
  });

  it('compares two runs of the same DUT', () => {
    const store = openStore();
    const base = sampleRecord();
    const a = writeRecord(store, base);
    const changed = sampleRecord();
    const ber = changed.steps[1].measurements[0];
    if (ber.kind !== 'lanes') throw new Error('fixture');
    ber.values[16] = 1e-14; // lane 17 fixed
    ber.verdicts[16] = 'PASS';
    ber.values[99] = 5e-9; // lane 100 now fails
    ber.verdicts[99] = 'FAIL';
    const thr = changed.steps[0].measurements[0];
    if (thr.kind !== 'scalar') throw new Error('fixture');
    thr.value = 0.012;
    thr.verdict = 'FAIL';
    changed.steps[0].measurements.push({
      kind: 'scalar',
      spec: { name: 'extra', unit: 'V', dimensions: [] },
      value: 1,
      verdict: 'PASS',
    });
    const b = writeRecord(store, changed);
    const c = store.compareRuns(a, b);
    expect(c.sameDut).toBe(true);
    expect(c.sameSequence).toBe(true);
    expect(c.a.id).toBe(a);
    expect(c.b.id).toBe(b);
    const t = c.measurements.find((m) => m.name === 'li_threshold')!;
    expect(t).toMatchObject({ step: 'li', a: 0.002, b: 0.012, verdictA: 'PASS', verdictB: 'FAIL' });
    expect(t.delta).toBeCloseTo(0.01, 12);
    const bd = c.measurements.find((m) => m.name === 'ber_upper')!;
    expect(bd.lanes?.newFailures).toEqual([100]);
    expect(bd.lanes?.fixed).toEqual([17]);
    expect(bd.lanes?.maxAbsDeltaLane).toBe(100);
    expect(c.measurements.find((m) => m.name === 'extra')?.only).toBe('b');
    // li_power appears three times at different currents: matched pairwise, not collapsed.
    expect(c.measurements.filter((m) => m.name === 'li_power')).toHaveLength(3);
    expect(c.verdictChanges).toBe(2); // li_threshold PASS→FAIL, extra (only in b)
    expect(c.steps.map((s) => s.id)).toEqual(['li', 'ber', 'energy', 'cosmetic']);
    const other = writeRecord(store, sampleRecord({ dut: 'SN-OTHER' }));
    expect(store.compareRuns(a, other).sameDut).toBe(false);
  });
});

describe('opening files', () => {
  it('creates the parent directory of a new database', () => {
    const store = openStore('deep/er/runs.db');
    writeRecord(store, sampleRecord());
    expect(existsSync(join(tmp.dir, 'deep/er/runs.db'))).toBe(true);
  });

  it('refuses a non-SQLite file without modifying it', () => {
    const p = join(tmp.dir, 'notes.db');
    writeFileSync(p, 'station: bench-3\nthis is a YAML file, not a database\n'.repeat(40));
    const before = readFileSync(p);
    const mtime = statSync(p).mtimeMs;
    const err = catchErr(() => openSqliteStore(p));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('NOT_SQLITE');
    expect((err as StoreError).message).toContain(p);
    expect(readFileSync(p).equals(before)).toBe(true);
    expect(statSync(p).mtimeMs).toBe(mtime);
    expect(existsSync(`${p}-wal`)).toBe(false);
    expect(existsSync(`${p}-shm`)).toBe(false);
  });

  it('refuses a corrupt SQLite file with a clear error naming it, without modifying it', () => {
    const p = join(tmp.dir, 'corrupt.db');
    const good = openSqliteStore(p);
    writeRecord(good, sampleRecord());
    good.close();
    const bytes = readFileSync(p);
    // Keep the 16-byte magic, trash the rest of the header page and the schema page.
    for (let i = 16; i < Math.min(bytes.length, 8192); i++) bytes[i] = (i * 7919) & 0xff;
    writeFileSync(p, bytes);
    const mtime = statSync(p).mtimeMs;
    const err = catchErr(() => openSqliteStore(p));
    expect(err).toBeInstanceOf(StoreError);
    expect(['CORRUPT', 'NOT_SQLITE']).toContain((err as StoreError).code);
    expect((err as StoreError).message).toContain(p);
    expect(readFileSync(p).equals(bytes)).toBe(true);
    expect(statSync(p).mtimeMs).toBe(mtime);
  });

  it('gives a clear error when the location cannot be written', () => {
    // As root, chmod does not stop writes: use a path whose parent is a regular file, a real failure too.
    const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;
    let p: string;
    if (isRoot) {
      writeFileSync(join(tmp.dir, 'afile'), 'x');
      p = join(tmp.dir, 'afile', 'runs.db');
    } else {
      const ro = join(tmp.dir, 'ro');
      openSqliteStore(join(ro, 'seed.db')).close();
      chmodSync(ro, 0o555);
      p = join(ro, 'runs.db');
    }
    try {
      const err = catchErr(() => openSqliteStore(p));
      expect(err).toBeInstanceOf(StoreError);
      expect(['READONLY', 'IO']).toContain((err as StoreError).code);
      expect((err as StoreError).message).toContain(p);
    } finally {
      if (!isRoot) chmodSync(join(tmp.dir, 'ro'), 0o755);
    }
  });

  it('refuses a path whose parent is a regular file', () => {
    writeFileSync(join(tmp.dir, 'plain'), 'x');
    const p = join(tmp.dir, 'plain', 'sub', 'runs.db');
    const err = catchErr(() => openSqliteStore(p));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).message).toContain(p);
  });

  it('throws CLOSED after close()', () => {
    const store = openStore();
    store.close();
    expect((catchErr(() => store.listRuns()) as StoreError).code).toBe('CLOSED');
  });
});

describe('migrations', () => {
  it('upgrades an older file and keeps its runs', () => {
    const p = join(tmp.dir, 'old.db');
    const db = new Database(p);
    expect(migrate(db, 1)).toBe(1);
    db.prepare(
      `INSERT INTO runs (id, record_schema, sequence_name, sequence_hash, station_name, station_snapshot, dut, operator,
       software_version, started_at, started_ms, outcome) VALUES ('r-old', 1, 'qual', 'h', 'bench', '{}', 'SN-OLD', 'op',
       '0.0.1', '2024-01-01T00:00:00.000Z', 1704067200000, 'PASS')`,
    ).run();
    db.close();
    const store = openSqliteStore(p);
    open.push(store);
    expect(store.getRun('r-old')).toMatchObject({ id: 'r-old', dut: 'SN-OLD', outcome: 'PASS', steps: [] });
    store.appendTranscript('r-old', { t: 1, instrument: 'tec', dir: 'tx', text: '*IDN?' }); // table from v2
    expect(store.getTranscript('r-old').total).toBe(1);
    store.close();
    const check = new Database(p, { readonly: true });
    const versions = check.prepare('SELECT version FROM schema_version ORDER BY version').pluck().all();
    check.close();
    expect(versions).toEqual(Array.from({ length: LATEST_SCHEMA_VERSION }, (_, i) => i + 1));
  });

  it('keeps the coordinates of each run of a nested step (v4 steps.at), also in a file made before v4', () => {
    const p = join(tmp.dir, 'v3.db');
    const db = new Database(p);
    expect(migrate(db, 3)).toBe(3);
    db.close();
    const store = openSqliteStore(p);
    open.push(store);
    const id = store.createRun(sampleRecord());
    store.appendStep(id, { index: 0, id: 'sweep', name: 'Sweep', type: 'temperature-sweep', startedAt: 'x' });
    for (const [i, t] of [25, 85].entries()) {
      store.appendStep(id, {
        index: i + 1,
        id: 't-li',
        name: 'L-I check',
        type: 'li-sweep',
        startedAt: 'x',
        at: { temperature: t },
      });
      store.addMeasurement(
        id,
        't-li',
        laneFrame('p_op_dbm', 4, (l) => -10 - l - t / 100, { at: { temperature: t } }),
      );
      store.finishStep(id, 't-li', { verdict: 'PASS' });
    }
    store.finishStep(id, 'sweep', { verdict: 'PASS' });
    const steps = store.getRun(id).steps;
    expect(steps.map((s) => [s.id, s.at])).toEqual([
      ['sweep', undefined],
      ['t-li', { temperature: 25 }],
      ['t-li', { temperature: 85 }],
    ]);
    // the 85 °C run did not overwrite the 25 °C one: each keeps its own values and verdict
    expect(steps[1].measurements.map((m) => m.at)).toEqual([{ temperature: 25 }]);
    expect(steps[2].measurements.map((m) => m.at)).toEqual([{ temperature: 85 }]);
    expect(steps.slice(1).map((s) => s.verdict)).toEqual(['PASS', 'PASS']);
  });

  it("keeps the DUT's lot, wafer and die (v6), also in a file made before v6 whose runs have none", () => {
    const p = join(tmp.dir, 'v5.db');
    const db = new Database(p);
    expect(migrate(db, 5)).toBe(5);
    db.prepare(
      `INSERT INTO runs (id, record_schema, sequence_name, sequence_hash, station_name, station_snapshot, dut, operator,
       software_version, started_at, started_ms, outcome) VALUES ('r-v5', 1, 'qual', 'h', 'bench', '{}', 'SN-V5', 'op',
       '0.0.1', '2024-01-01T00:00:00.000Z', 1704067200000, 'PASS')`,
    ).run();
    db.close();
    const store = openSqliteStore(p);
    open.push(store);
    const old = store.getRun('r-v5');
    expect(old).toMatchObject({ id: 'r-v5', dut: 'SN-V5' });
    // absent, not null: a run started without them has none (RECORD-SCHEMA.md: optional fields are absent)
    expect(Object.keys(old)).not.toContain('lot');
    expect(Object.keys(old)).not.toContain('die');
    const id = writeRecord(store, sampleRecord({ lot: 'L2026-11', wafer: 'W07', die: { x: -3, y: 5 } }));
    expect(store.getRun(id)).toMatchObject({ lot: 'L2026-11', wafer: 'W07', die: { x: -3, y: 5 } });
    const partial = writeRecord(store, sampleRecord({ wafer: 'W08' }));
    const rec = store.getRun(partial);
    expect([rec.lot, rec.wafer, rec.die]).toEqual([undefined, 'W08', undefined]);
  });

  it('refuses a newer file with a clear message and does not modify it', () => {
    const p = join(tmp.dir, 'new.db');
    openSqliteStore(p).close();
    const db = new Database(p);
    db.prepare("INSERT INTO schema_version (version, description, applied_at) VALUES (99, 'future', 'x')").run();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.close();
    const before = readFileSync(p);
    const err = catchErr(() => openSqliteStore(p));
    expect(err).toBeInstanceOf(StoreError);
    expect((err as StoreError).code).toBe('SCHEMA_NEWER');
    expect((err as Error).message).toContain(
      `database schema version 99 is newer than this cpobench (knows up to ${LATEST_SCHEMA_VERSION}); upgrade cpobench`,
    );
    expect(readFileSync(p).equals(before)).toBe(true);
  });
});
