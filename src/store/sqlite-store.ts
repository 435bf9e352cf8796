/**
 * The default results store: one SQLite file (better-sqlite3, WAL).
 *
 * Durability: every write is synchronous. Outside batch() each call is its own committed transaction; inside
 * batch() the caller's frames share one transaction that commits before batch() returns. With
 * journal_mode=WAL and synchronous=NORMAL a commit appends the transaction to the -wal file with write(2) but
 * does not fsync it. That is still crash-safe for a killed process (SIGKILL, OOM, crash): the data is in the
 * kernel's page cache the moment write(2) returns, and the next opener replays the WAL. Only a power loss or
 * kernel panic can lose the last few commits (never corrupt the file); FULL would fsync on every commit and
 * cost an order of magnitude in write rate.
 */
import { accessSync, closeSync, constants, existsSync, mkdirSync, openSync, readSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { currentOwner, isOwnerAlive, type OwnerIdentity } from '../core/owner.ts';
import {
  type BenchSafety,
  type HoldRecord,
  type InstrumentRecord,
  type LaneMapRecord,
  type Measurement,
  type PromptRecord,
  RECORD_SCHEMA_VERSION,
  type RunRecord,
  type RunStatus,
  type TranscriptEntry,
} from '../core/record.ts';
import {
  assembleRecord,
  type HoldRow,
  type InstrumentRow,
  type MeasurementRow,
  type PromptRow,
  type RunRow,
  type StepRow,
} from './assemble.ts';
import { packLanes, packValues, packVerdicts } from './codec.ts';
import { compareRecords } from './compare.ts';
import { StoreError, UnknownRunError, wrapSqliteError } from './errors.ts';
import { assertNotNewer, migrate, readSchemaVersion } from './migrations.ts';
import type {
  PromptAnswer,
  RunComparison,
  RunFilter,
  RunFinish,
  RunHeader,
  RunListItem,
  RunResumeInfo,
  RunStore,
  StepFinish,
  StepStart,
  TranscriptPage,
} from './types.ts';

export const DEFAULT_DB_PATH = './data/cpobench.db';
export const DEFAULT_TRANSCRIPT_LIMIT = 20_000;
const SQLITE_MAGIC = Buffer.from('SQLite format 3\0', 'latin1');

export interface SqliteStoreOptions {
  /** Transcript entries kept per run (the last N). Default 20,000. */
  transcriptLimit?: number;
  /** Mark RUNNING runs of dead processes INTERRUPTED when opening. Default true. */
  markInterruptedOnOpen?: boolean;
  /** How long a write waits for another process's lock. Default 5,000 ms. */
  busyTimeoutMs?: number;
  /** Caps the database at this many pages (a quota): writes beyond it fail with StoreError FULL. */
  maxPageCount?: number;
}

/** A sortable run id: `r` + UTC timestamp to the millisecond + random suffix. */
export function newRunId(now: Date = new Date()): string {
  const ts = now.toISOString().replace(/[-:.]/g, '').replace('Z', '');
  const rnd = Math.floor(Math.random() * 0x100000000)
    .toString(36)
    .padStart(7, '0');
  return `r${ts}-${rnd}`;
}

/** Opens (creating it and its directory if needed) an SQLite results store. */
export function openSqliteStore(path: string = DEFAULT_DB_PATH, options: SqliteStoreOptions = {}): SqliteStore {
  return new SqliteStore(path, options);
}

/**
 * Checks, without writing anything, that `path` can be opened: a non-SQLite file is refused before SQLite
 * touches it, a missing file gets its parent directory, an unwritable file or directory is refused.
 */
function preflight(path: string): void {
  if (path === ':memory:') return;
  let exists = false;
  try {
    const st = statSync(path);
    exists = true;
    if (!st.isFile()) throw new StoreError('IO', `cannot open results database ${path}: not a regular file`);
    if (st.size > 0) {
      const head = Buffer.alloc(16);
      const fd = openSync(path, 'r');
      let n = 0;
      try {
        n = readSync(fd, head, 0, 16, 0);
      } finally {
        closeSync(fd);
      }
      if (n < 16 || st.size < 512 || !head.equals(SQLITE_MAGIC)) {
        throw new StoreError(
          'NOT_SQLITE',
          `${path} is not an SQLite database (no SQLite header); refusing to open it, the file was not modified`,
        );
      }
    }
  } catch (err) {
    if (err instanceof StoreError) throw err;
    const code = (err as NodeJS.ErrnoException).code;
    if (code !== 'ENOENT') throw wrapSqliteError(err, 'cannot open results database', path);
  }
  const dir = dirname(path);
  if (!exists) {
    try {
      mkdirSync(dir, { recursive: true });
    } catch (err) {
      throw wrapSqliteError(err, 'cannot create the directory for the results database', path);
    }
  }
  try {
    // WAL needs the -wal and -shm files next to the database: the directory must be writable too.
    accessSync(dir, constants.W_OK);
    if (exists) accessSync(path, constants.R_OK | constants.W_OK);
  } catch (err) {
    throw new StoreError('READONLY', `results database ${path}: file or directory is not writable`, { cause: err });
  }
}

function json(v: unknown): string | null {
  return v === undefined ? null : JSON.stringify(v);
}

function toMs(v: string | Date, what: string): number {
  const ms = v instanceof Date ? v.getTime() : Date.parse(v);
  if (Number.isNaN(ms)) throw new StoreError('INVALID', `${what}: not a date: ${String(v)}`);
  return ms;
}

export class SqliteStore implements RunStore {
  readonly location: string;
  private readonly db: Database.Database;
  private readonly owner: OwnerIdentity;
  private readonly transcriptLimit: number;
  private readonly stepPks = new Map<string, number>();
  private readonly transcriptSeq = new Map<string, { seq: number; pruned: number }>();
  private readonly st: ReturnType<SqliteStore['prepare']>;

  constructor(path: string = DEFAULT_DB_PATH, options: SqliteStoreOptions = {}) {
    this.location = path === ':memory:' ? path : resolve(path);
    this.transcriptLimit = Math.max(1, options.transcriptLimit ?? DEFAULT_TRANSCRIPT_LIMIT);
    this.owner = currentOwner();
    preflight(this.location);

    let db: Database.Database;
    try {
      db = new Database(this.location);
    } catch (err) {
      throw wrapSqliteError(err, 'cannot open results database', this.location);
    }
    try {
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(options.busyTimeoutMs ?? 5000))}`);
      // Read-only checks first: a corrupt or newer file is refused before anything is written to it.
      db.prepare('SELECT count(*) FROM sqlite_master').get();
      assertNotNewer(readSchemaVersion(db), this.location);
      if (this.location !== ':memory:') {
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        // SQLite answers another mode only for in-memory databases (excluded above) or a VFS without shared
        // memory, which no test here has: the refusal below is a guard that cannot be reached from a test.
        // Stryker disable all: unreachable here (see above)
        if (String(mode).toLowerCase() !== 'wal') {
          throw new StoreError('IO', `results database ${this.location}: cannot switch to WAL (got ${mode})`);
        }
      }
      // Stryker restore all
      db.pragma('synchronous = NORMAL');
      db.pragma('foreign_keys = ON');
      if (options.maxPageCount !== undefined) db.pragma(`max_page_count = ${Math.floor(options.maxPageCount)}`);
      migrate(db);
    } catch (err) {
      db.close();
      throw wrapSqliteError(err, 'cannot open results database', this.location);
    }
    this.db = db;
    this.st = this.prepare();
    if (options.markInterruptedOnOpen ?? true) this.markInterrupted();
  }

  private prepare() {
    const db = this.db;
    return {
      insertRun: db.prepare(`INSERT INTO runs (id, record_schema, sequence_name, sequence_version, sequence_hash,
        sequence_file, station_name, station_snapshot, dut, operator, software_version, software_revision,
        started_at, started_ms, outcome, owner_pid, owner_host, owner_boot_id, owner_start, station_fingerprint, launch,
        lot, wafer, die_x, die_y)
        VALUES (@id, @record_schema, @sequence_name, @sequence_version, @sequence_hash, @sequence_file,
        @station_name, @station_snapshot, @dut, @operator, @software_version, @software_revision,
        @started_at, @started_ms, 'RUNNING', @owner_pid, @owner_host, @owner_boot_id, @owner_start,
        @station_fingerprint, @launch, @lot, @wafer, @die_x, @die_y)`),
      getResumeInfo: db.prepare('SELECT station_fingerprint, launch, resumes FROM runs WHERE id = ?'),
      reopenRun: db.prepare(`UPDATE runs SET outcome = 'RUNNING', finished_at = NULL, error = NULL, summary = NULL,
        abort = NULL, owner_pid = ?, owner_host = ?, owner_boot_id = ?, owner_start = ?, resumes = ?
        WHERE id = ? AND outcome = 'INTERRUPTED'`),
      runExists: db.prepare('SELECT 1 FROM runs WHERE id = ?').pluck(),
      getRun: db.prepare('SELECT * FROM runs WHERE id = ?'),
      deleteInstruments: db.prepare('DELETE FROM instruments WHERE run_id = ?'),
      insertInstrument: db.prepare(`INSERT INTO instruments (run_id, idx, role, resource, driver, manufacturer,
        model, serial, firmware, raw_identity) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getInstruments: db.prepare('SELECT * FROM instruments WHERE run_id = ? ORDER BY idx'),
      insertStep: db.prepare(
        'INSERT INTO steps (run_id, idx, step_id, name, type, started_at, at) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      findStep: db.prepare('SELECT pk FROM steps WHERE run_id = ? AND step_id = ? ORDER BY pk DESC LIMIT 1').pluck(),
      finishStep: db.prepare('UPDATE steps SET finished_at = ?, verdict = ?, error = ?, attempts = ? WHERE pk = ?'),
      getSteps: db.prepare('SELECT * FROM steps WHERE run_id = ? ORDER BY idx, pk'),
      insertMeasurement: db.prepare(`INSERT INTO measurements (run_id, step_pk, kind, name, unit, description,
        limits, dimensions, at, verdict, value, lane_enc, lane_first, lane_count, lanes, vals, verdicts, verdicts_all)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`),
      getMeasurements: db.prepare('SELECT * FROM measurements WHERE run_id = ? ORDER BY pk'),
      upsertLaneMap: db.prepare(
        'INSERT INTO lane_maps (run_id, data) VALUES (?, ?) ON CONFLICT(run_id) DO UPDATE SET data = excluded.data',
      ),
      getLaneMap: db.prepare('SELECT data FROM lane_maps WHERE run_id = ?').pluck(),
      insertHold: db.prepare(`INSERT INTO holds (run_id, step, watched, started_at, ended_at, value, band_low,
        band_high) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
      updateHold: db.prepare(
        'UPDATE holds SET ended_at = COALESCE(?, ended_at), value = COALESCE(?, value) WHERE pk = ? AND run_id = ?',
      ),
      getHolds: db.prepare('SELECT * FROM holds WHERE run_id = ? ORDER BY pk'),
      insertPrompt: db.prepare(`INSERT INTO prompts (run_id, prompt_id, seq, step, kind, message, asked_at,
        answered_at, answer, answered_by) VALUES (?, ?, (SELECT COALESCE(MAX(seq), 0) + 1 FROM prompts WHERE run_id = ?),
        ?, ?, ?, ?, ?, ?, ?)`),
      answerPrompt: db.prepare(
        'UPDATE prompts SET answer = ?, answered_at = ?, answered_by = ? WHERE run_id = ? AND prompt_id = ?',
      ),
      getPrompts: db.prepare('SELECT * FROM prompts WHERE run_id = ? ORDER BY seq'),
      setAbort: db.prepare('UPDATE runs SET abort = ? WHERE id = ?'),
      setStartState: db.prepare('UPDATE runs SET start_state = ? WHERE id = ?'),
      setSafeState: db.prepare('UPDATE runs SET safe_state = ? WHERE id = ?'),
      finishRun: db.prepare('UPDATE runs SET outcome = ?, finished_at = ?, summary = ?, error = ? WHERE id = ?'),
      maxTranscriptSeq: db.prepare('SELECT COALESCE(MAX(seq), 0) FROM transcript WHERE run_id = ?').pluck(),
      insertTranscript: db.prepare(
        'INSERT INTO transcript (run_id, seq, t, instrument, dir, text, ms) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ),
      pruneTranscript: db.prepare('DELETE FROM transcript WHERE run_id = ? AND seq <= ?'),
      getTranscript: db.prepare('SELECT * FROM transcript WHERE run_id = ? ORDER BY seq DESC LIMIT ?'),
      runningRuns: db.prepare(
        "SELECT id, owner_pid, owner_host, owner_boot_id, owner_start FROM runs WHERE outcome = 'RUNNING'",
      ),
      interrupt: db.prepare(
        "UPDATE runs SET outcome = 'INTERRUPTED', finished_at = ?, error = COALESCE(error, ?) WHERE id = ? AND outcome = 'RUNNING'",
      ),
    };
  }

  /** Runs a write, turning SQLite errors into StoreErrors that name the database. */
  private guard<T>(what: string, fn: () => T, runId?: string): T {
    if (!this.db.open) throw new StoreError('CLOSED', `${what}: the results store ${this.location} is closed`);
    try {
      return fn();
    } catch (err) {
      const inner = err instanceof StoreError && err.cause ? err.cause : err;
      const code = (inner as { code?: string }).code;
      if (runId !== undefined && code === 'SQLITE_CONSTRAINT_FOREIGNKEY') throw new UnknownRunError(runId);
      throw wrapSqliteError(err, what, this.location);
    }
  }

  private requireRun(runId: string): void {
    if (!this.st.runExists.get(runId)) throw new UnknownRunError(runId);
  }

  private stepPk(runId: string, stepId: string): number {
    const key = `${runId}\u0000${stepId}`;
    let pk = this.stepPks.get(key);
    if (pk === undefined) {
      pk = this.st.findStep.get(runId, stepId) as number | undefined;
      if (pk === undefined) {
        this.requireRun(runId);
        throw new StoreError('UNKNOWN_STEP', `run ${runId} has no step ${stepId}`);
      }
      this.stepPks.set(key, pk);
    }
    return pk;
  }

  batch<T>(fn: () => T): T {
    return this.guard('batch', () => (this.db.inTransaction ? fn() : this.db.transaction(fn).immediate()));
  }

  createRun(header: RunHeader): string {
    return this.guard('cannot start the run', () => {
      const startedAt = header.startedAt ?? new Date().toISOString();
      const id = header.id ?? newRunId(new Date(toMs(startedAt, 'startedAt')));
      if (this.st.runExists.get(id)) throw new StoreError('DUPLICATE', `a run with id ${id} already exists`);
      this.batch(() => {
        this.st.insertRun.run({
          id,
          record_schema: RECORD_SCHEMA_VERSION,
          sequence_name: header.sequence.name,
          sequence_version: header.sequence.version ?? null,
          sequence_hash: header.sequence.hash,
          sequence_file: header.sequence.file ?? null,
          station_name: header.station.name,
          station_snapshot: JSON.stringify(header.station.snapshot ?? null),
          dut: header.dut,
          operator: header.operator,
          software_version: header.software.version,
          software_revision: header.software.revision ?? null,
          started_at: startedAt,
          started_ms: toMs(startedAt, 'startedAt'),
          owner_pid: this.owner.pid,
          owner_host: this.owner.host,
          owner_boot_id: this.owner.bootId,
          owner_start: this.owner.startTime,
          station_fingerprint: json(header.resume?.fingerprint),
          launch: json(header.resume?.launch),
          lot: header.lot ?? null,
          wafer: header.wafer ?? null,
          die_x: header.die?.x ?? null,
          die_y: header.die?.y ?? null,
        });
        if (header.instruments) this.writeInstruments(id, header.instruments);
      });
      return id;
    });
  }

  private writeInstruments(runId: string, instruments: InstrumentRecord[]): void {
    this.st.deleteInstruments.run(runId);
    instruments.forEach((ins, i) => {
      this.st.insertInstrument.run(
        runId,
        i,
        ins.role,
        ins.resource,
        ins.driver,
        ins.identity?.manufacturer ?? null,
        ins.identity?.model ?? null,
        ins.identity?.serial ?? null,
        ins.identity?.firmware ?? null,
        ins.identity?.raw ?? null,
      );
    });
  }

  getResumeInfo(runId: string): RunResumeInfo {
    return this.guard('getResumeInfo', () => {
      const row = this.st.getResumeInfo.get(runId) as
        | { station_fingerprint: string | null; launch: string | null; resumes: string | null }
        | undefined;
      if (!row) throw new UnknownRunError(runId);
      return {
        ...(row.station_fingerprint === null ? {} : { fingerprint: JSON.parse(row.station_fingerprint) }),
        ...(row.launch === null ? {} : { launch: JSON.parse(row.launch) }),
        resumes: row.resumes === null ? [] : (JSON.parse(row.resumes) as string[]),
      };
    });
  }

  reopenRun(runId: string, instruments?: InstrumentRecord[]): void {
    this.guard(
      'reopenRun',
      () =>
        this.batch(() => {
          const info = this.getResumeInfo(runId);
          const o = this.owner;
          const resumes = JSON.stringify([...info.resumes, new Date().toISOString()]);
          const changed = this.st.reopenRun.run(o.pid, o.host, o.bootId, o.startTime, resumes, runId).changes;
          if (changed === 0) {
            const outcome = (this.st.getRun.get(runId) as RunRow).outcome;
            throw new StoreError(
              'NOT_INTERRUPTED',
              `run ${runId} is ${outcome}, not INTERRUPTED: it cannot be resumed`,
            );
          }
          if (instruments) this.writeInstruments(runId, instruments);
        }),
      runId,
    );
  }

  setInstruments(runId: string, instruments: InstrumentRecord[]): void {
    this.guard(
      'setInstruments',
      () => {
        this.requireRun(runId);
        this.batch(() => this.writeInstruments(runId, instruments));
      },
      runId,
    );
  }

  appendStep(runId: string, step: StepStart): void {
    this.guard(
      'appendStep',
      () => {
        const at = step.at && Object.keys(step.at).length > 0 ? JSON.stringify(step.at) : null;
        const info = this.st.insertStep.run(runId, step.index, step.id, step.name, step.type, step.startedAt, at);
        this.stepPks.set(`${runId}\u0000${step.id}`, Number(info.lastInsertRowid));
      },
      runId,
    );
  }

  finishStep(runId: string, stepId: string, finish: StepFinish): void {
    this.guard(
      'finishStep',
      () => {
        const pk = this.stepPk(runId, stepId);
        this.st.finishStep.run(
          finish.finishedAt ?? new Date().toISOString(),
          finish.verdict,
          finish.error ?? null,
          finish.attempts ?? null,
          pk,
        );
      },
      runId,
    );
  }

  addMeasurement(runId: string, stepId: string, m: Measurement): void {
    this.guard(
      'addMeasurement',
      () => {
        const pk = this.stepPk(runId, stepId);
        const s = m.spec;
        if (m.kind === 'lanes') {
          const n = m.values.length;
          if (m.lanes.length !== n || m.verdicts.length !== n) {
            throw new StoreError(
              'INVALID',
              `measurement ${s.name}: lanes (${m.lanes.length}), values (${n}) and verdicts (${m.verdicts.length}) differ in length`,
            );
          }
          const lanes = packLanes(m.lanes);
          const [vblob, vall] = packVerdicts(m.verdicts);
          this.st.insertMeasurement.run(
            runId,
            pk,
            'lanes',
            s.name,
            s.unit,
            s.description ?? null,
            json(s.limits),
            JSON.stringify(s.dimensions),
            json(m.at),
            m.verdict,
            null,
            lanes.enc,
            lanes.first,
            lanes.count,
            lanes.blob,
            packValues(m.values),
            vblob,
            vall,
          );
        } else {
          const v = m.value;
          this.st.insertMeasurement.run(
            runId,
            pk,
            'scalar',
            s.name,
            s.unit,
            s.description ?? null,
            json(s.limits),
            JSON.stringify(s.dimensions),
            json(m.at),
            m.verdict,
            v === null || Number.isNaN(v) ? null : v,
            null,
            null,
            null,
            null,
            null,
            null,
            null,
          );
        }
      },
      runId,
    );
  }

  setLaneMap(runId: string, laneMap: LaneMapRecord): void {
    this.guard('setLaneMap', () => void this.st.upsertLaneMap.run(runId, JSON.stringify(laneMap)), runId);
  }

  addHold(runId: string, hold: HoldRecord): number {
    return this.guard(
      'addHold',
      () =>
        Number(
          this.st.insertHold.run(
            runId,
            hold.step,
            hold.watched,
            hold.startedAt,
            hold.endedAt ?? null,
            hold.value,
            hold.band[0],
            hold.band[1],
          ).lastInsertRowid,
        ),
      runId,
    );
  }

  updateHold(runId: string, holdId: number, patch: Partial<Pick<HoldRecord, 'endedAt' | 'value'>>): void {
    this.guard(
      'updateHold',
      () => {
        const r = this.st.updateHold.run(patch.endedAt ?? null, patch.value ?? null, holdId, runId);
        if (r.changes === 0) {
          this.requireRun(runId);
          throw new StoreError('INVALID', `run ${runId} has no hold ${holdId}`);
        }
      },
      runId,
    );
  }

  addPrompt(runId: string, p: PromptRecord): void {
    this.guard(
      'addPrompt',
      () =>
        void this.st.insertPrompt.run(
          runId,
          p.id,
          runId,
          p.step,
          p.kind,
          p.message,
          p.askedAt,
          p.answeredAt ?? null,
          p.answer === undefined ? null : JSON.stringify(p.answer),
          p.answeredBy ?? null,
        ),
      runId,
    );
  }

  answerPrompt(runId: string, promptId: string, a: PromptAnswer): void {
    this.guard(
      'answerPrompt',
      () => {
        const r = this.st.answerPrompt.run(
          JSON.stringify(a.answer),
          a.answeredAt ?? new Date().toISOString(),
          a.answeredBy ?? null,
          runId,
          promptId,
        );
        if (r.changes === 0) {
          this.requireRun(runId);
          throw new StoreError('INVALID', `run ${runId} has no prompt ${promptId}`);
        }
      },
      runId,
    );
  }

  recordAbort(runId: string, abort: NonNullable<RunRecord['abort']>): void {
    this.guard('recordAbort', () => {
      if (this.st.setAbort.run(JSON.stringify(abort), runId).changes === 0) throw new UnknownRunError(runId);
    });
  }

  recordSafeState(runId: string, phase: 'start' | 'end', check: BenchSafety): void {
    this.guard('recordSafeState', () => {
      const st = phase === 'start' ? this.st.setStartState : this.st.setSafeState;
      if (st.run(JSON.stringify(check), runId).changes === 0) throw new UnknownRunError(runId);
    });
  }

  appendTranscript(runId: string, entries: TranscriptEntry | TranscriptEntry[]): void {
    const list = Array.isArray(entries) ? entries : [entries];
    if (list.length === 0) return;
    this.guard(
      'appendTranscript',
      () =>
        this.batch(() => {
          let c = this.transcriptSeq.get(runId);
          if (!c) {
            const seq = this.st.maxTranscriptSeq.get(runId) as number;
            c = { seq, pruned: seq };
            this.transcriptSeq.set(runId, c);
          }
          for (const e of list) {
            c.seq++;
            this.st.insertTranscript.run(runId, c.seq, e.t, e.instrument, e.dir, e.text, e.ms ?? null);
          }
          // Prune in steps so the bound costs one DELETE per ~1,000 entries, not one per entry.
          if (c.seq - c.pruned >= Math.min(1000, this.transcriptLimit)) this.pruneTranscript(runId, c);
        }),
      runId,
    );
  }

  private pruneTranscript(runId: string, c: { seq: number; pruned: number }): void {
    this.st.pruneTranscript.run(runId, c.seq - this.transcriptLimit);
    c.pruned = c.seq;
  }

  finishRun(runId: string, f: RunFinish): void {
    this.guard('finishRun', () => {
      const r = this.st.finishRun.run(
        f.outcome,
        f.finishedAt ?? new Date().toISOString(),
        json(f.summary),
        f.error ?? null,
        runId,
      );
      if (r.changes === 0) throw new UnknownRunError(runId);
      const c = this.transcriptSeq.get(runId);
      if (c) {
        try {
          this.pruneTranscript(runId, c);
        } catch {
          // The run's outcome is written; a failed prune (e.g. disk full) only leaves extra transcript lines.
        }
        this.transcriptSeq.delete(runId);
      }
      for (const key of this.stepPks.keys()) if (key.startsWith(`${runId}\u0000`)) this.stepPks.delete(key);
    });
  }

  getRun(runId: string): RunRecord {
    return this.guard('getRun', () =>
      this.db
        .transaction(() => {
          const row = this.st.getRun.get(runId) as RunRow | undefined;
          if (!row) throw new UnknownRunError(runId);
          return this.assemble(row);
        })
        .deferred(),
    );
  }

  private assemble(row: RunRow): RunRecord {
    const runId = row.id;
    return assembleRecord({
      run: row,
      instruments: this.st.getInstruments.all(runId) as InstrumentRow[],
      steps: this.st.getSteps.all(runId) as StepRow[],
      measurements: this.st.getMeasurements.iterate(runId) as Iterable<MeasurementRow>,
      holds: this.st.getHolds.all(runId) as HoldRow[],
      prompts: this.st.getPrompts.all(runId) as PromptRow[],
      laneMap: this.st.getLaneMap.get(runId) as string | undefined,
    });
  }

  getTranscript(runId: string, opts: { limit?: number } = {}): TranscriptPage {
    return this.guard('getTranscript', () => {
      this.requireRun(runId);
      const limit = Math.min(this.transcriptLimit, Math.max(0, opts.limit ?? this.transcriptLimit));
      const rows = this.st.getTranscript.all(runId, limit) as {
        t: number;
        instrument: string;
        dir: TranscriptEntry['dir'];
        text: string;
        ms: number | null;
      }[];
      rows.reverse();
      const total = this.st.maxTranscriptSeq.get(runId) as number;
      const entries = rows.map((r) => {
        const e: TranscriptEntry = { t: r.t, instrument: r.instrument, dir: r.dir, text: r.text };
        if (r.ms !== null) e.ms = r.ms;
        return e;
      });
      return { entries, total, dropped: total - entries.length };
    });
  }

  listRuns(filter: RunFilter = {}): RunListItem[] {
    return this.guard('listRuns', () => {
      const where: string[] = [];
      const args: (string | number)[] = [];
      if (filter.dut !== undefined) {
        where.push('dut = ?');
        args.push(filter.dut);
      }
      if (filter.sequence !== undefined) {
        where.push('sequence_name = ?');
        args.push(filter.sequence);
      }
      if (filter.outcome !== undefined) {
        where.push('outcome = ?');
        args.push(filter.outcome);
      }
      if (filter.since !== undefined) {
        where.push('started_ms >= ?');
        args.push(toMs(filter.since, 'since'));
      }
      if (filter.until !== undefined) {
        where.push('started_ms < ?');
        args.push(toMs(filter.until, 'until'));
      }
      const limit = Math.max(1, Math.floor(filter.limit ?? 100));
      const sql = `SELECT id, sequence_name, sequence_version, sequence_hash, station_name, dut, operator,
        started_at, finished_at, outcome, error, summary FROM runs ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
        ORDER BY started_ms DESC, id DESC LIMIT ?`;
      const rows = this.db.prepare(sql).all(...args, limit) as Record<string, string | null>[];
      return rows.map((r) => {
        const item: RunListItem = {
          id: r.id!,
          sequence: r.sequence_name!,
          sequenceHash: r.sequence_hash!,
          station: r.station_name!,
          dut: r.dut!,
          operator: r.operator!,
          startedAt: r.started_at!,
          outcome: r.outcome as RunStatus,
        };
        if (r.sequence_version !== null) item.sequenceVersion = r.sequence_version;
        if (r.finished_at !== null) item.finishedAt = r.finished_at;
        if (r.error !== null) item.error = r.error;
        if (r.summary !== null) item.summary = JSON.parse(r.summary!);
        return item;
      });
    });
  }

  compareRuns(a: string, b: string): RunComparison {
    const ra = this.getRun(a);
    const rb = this.getRun(b);
    return compareRecords(ra, rb);
  }

  markInterrupted(): string[] {
    return this.guard('markInterrupted', () =>
      this.batch(() => {
        const marked: string[] = [];
        const rows = this.st.runningRuns.all() as {
          id: string;
          owner_pid: number | null;
          owner_host: string | null;
          owner_boot_id: string | null;
          owner_start: string | null;
        }[];
        const now = new Date().toISOString();
        for (const r of rows) {
          if (r.owner_pid === null) continue; // unknown owner: never touched
          // An unknown host is never this host, so isOwnerAlive would keep the run too: this line spells that out
          // and its `false` mutant cannot be told apart.
          // Stryker disable next-line ConditionalExpression: see above
          if (r.owner_host === null) continue;
          const owner: OwnerIdentity = {
            pid: r.owner_pid,
            host: r.owner_host,
            bootId: r.owner_boot_id,
            startTime: r.owner_start,
          };
          if (isOwnerAlive(owner)) continue;
          const msg = `interrupted: the process that ran it (pid ${r.owner_pid} on ${r.owner_host}) ended without finishing the run`;
          // Inside this transaction no other connection can change the row, so `>= 0` cannot be told apart.
          // Stryker disable next-line EqualityOperator: equivalent (see above)
          if (this.st.interrupt.run(now, msg, r.id).changes > 0) marked.push(r.id);
        }
        return marked;
      }),
    );
  }

  /** Bytes used by the database file and its WAL (after a checkpoint when `checkpoint` is true). */
  sizeOnDisk(checkpoint = false): number {
    if (this.location === ':memory:') return 0;
    if (checkpoint) this.db.pragma('wal_checkpoint(TRUNCATE)');
    let n = 0;
    for (const f of [this.location, `${this.location}-wal`]) if (existsSync(f)) n += statSync(f).size;
    return n;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
