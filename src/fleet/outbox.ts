/**
 * The bench's outbox: SQLite triggers on the results tables append one line per changed row (run, its
 * instruments, steps, measurements, lane map, holds, prompts) to `fleet_outbox`, in the same transaction as the
 * change, numbered by the bench's own sequence (AUTOINCREMENT: never reused, never reordered, whatever the clock
 * says). Reading the outbox gives each changed row's current state, in first-change order (a run before its
 * steps, a step before its measurements). The SQLite file stays the source of truth; the outbox only says what to
 * send next. Installing it on a file that already holds runs queues those runs too (a bench joining a lab
 * forwards its history). The transcript is not forwarded (bounded, per bench; see README).
 */
import { randomUUID } from 'node:crypto';
import Database from 'better-sqlite3';
import type { HoldRow, InstrumentRow, PromptRow, StepRow } from '../store/assemble.ts';
import type { ForwardBatch, ForwardItem, WireMeasurement, WireRun } from './wire.ts';

const TRIGGERS: [string, string, string, string][] = [
  // name, event on table, kind, ref expression
  ['runs_ins', 'INSERT ON runs', 'run', 'NULL'],
  ['runs_upd', 'UPDATE ON runs', 'run', 'NULL'],
  ['instruments_ins', 'INSERT ON instruments', 'instruments', 'NULL'],
  ['steps_ins', 'INSERT ON steps', 'step', 'NEW.pk'],
  ['steps_upd', 'UPDATE ON steps', 'step', 'NEW.pk'],
  ['measurements_ins', 'INSERT ON measurements', 'measurement', 'NEW.pk'],
  ['lane_maps_ins', 'INSERT ON lane_maps', 'lane_map', 'NULL'],
  ['lane_maps_upd', 'UPDATE ON lane_maps', 'lane_map', 'NULL'],
  ['holds_ins', 'INSERT ON holds', 'hold', 'NEW.pk'],
  ['holds_upd', 'UPDATE ON holds', 'hold', 'NEW.pk'],
  ['prompts_ins', 'INSERT ON prompts', 'prompt', 'NEW.prompt_id'],
  ['prompts_upd', 'UPDATE ON prompts', 'prompt', 'NEW.prompt_id'],
];

const BACKFILL = `
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT 'run', id, NULL FROM runs ORDER BY started_ms, id;
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT DISTINCT 'instruments', run_id, NULL FROM instruments;
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT 'step', run_id, pk FROM steps ORDER BY pk;
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT 'measurement', run_id, pk FROM measurements ORDER BY pk;
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT 'lane_map', run_id, NULL FROM lane_maps;
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT 'hold', run_id, pk FROM holds ORDER BY pk;
INSERT INTO fleet_outbox (kind, run_id, ref) SELECT 'prompt', run_id, prompt_id FROM prompts ORDER BY run_id, seq;
`;

interface OutboxLine {
  seq: number;
  kind: string;
  run_id: string;
  ref: string | number | null;
}

export interface OutboxOptions {
  /** Lines per batch (default 2,000). */
  batchLines?: number;
  busyTimeoutMs?: number;
}

export class Outbox {
  private readonly db: Database.Database;
  private readonly batchLines: number;
  private readonly st: ReturnType<Outbox['prepare']>;

  /** Opens the bench's SQLite results file (created by the store) and installs the outbox if missing. */
  constructor(
    readonly path: string,
    opts: OutboxOptions = {},
  ) {
    this.batchLines = Math.max(1, opts.batchLines ?? 2000);
    this.db = new Database(path);
    this.db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
    this.install();
    this.st = this.prepare();
    this.origin = this.db.prepare('SELECT id FROM fleet_origin').pluck().get() as string;
  }

  /** This file's outbox identity (sent with the registration and each batch). */
  readonly origin: string;

  private install(): void {
    const db = this.db;
    db.transaction(() => {
      const has = db.prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'fleet_outbox'").get();
      if (has) return;
      db.exec(`CREATE TABLE fleet_outbox (seq INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,
        run_id TEXT NOT NULL, ref ANY) STRICT`);
      // which file the sequence numbers belong to: a bench given a fresh file under the same name starts over
      db.exec('CREATE TABLE fleet_origin (id TEXT NOT NULL) STRICT');
      db.prepare('INSERT INTO fleet_origin (id) VALUES (?)').run(randomUUID());
      db.exec(BACKFILL);
      for (const [name, on, kind, ref] of TRIGGERS) {
        const runId = on.endsWith('runs') ? 'NEW.id' : 'NEW.run_id';
        db.exec(`CREATE TRIGGER fleet_${name} AFTER ${on} BEGIN
          INSERT INTO fleet_outbox (kind, run_id, ref) VALUES ('${kind}', ${runId}, ${ref}); END`);
      }
    }).immediate();
  }

  private prepare() {
    const db = this.db;
    return {
      lines: db.prepare('SELECT seq, kind, run_id, ref FROM fleet_outbox WHERE seq > ? ORDER BY seq LIMIT ?'),
      last: db.prepare("SELECT COALESCE(seq, 0) FROM sqlite_sequence WHERE name = 'fleet_outbox'").pluck(),
      run: db.prepare(`SELECT id, record_schema, sequence_name, sequence_version, sequence_hash, sequence_file,
        station_name, station_snapshot, dut, operator, software_version, software_revision, started_at, started_ms,
        finished_at, outcome, summary, error, abort, start_state, safe_state, lot, wafer, die_x, die_y
        FROM runs WHERE id = ?`),
      instruments: db.prepare('SELECT * FROM instruments WHERE run_id = ? ORDER BY idx'),
      step: db.prepare(`SELECT pk, idx, step_id, name, type, started_at, finished_at, verdict, error, attempts, at
        FROM steps WHERE pk = ?`),
      measurement: db.prepare(`SELECT pk, step_pk, kind, name, unit, description, limits, dimensions, at, verdict,
        value, lane_enc, lane_first, lane_count, lanes, vals, verdicts, verdicts_all FROM measurements WHERE pk = ?`),
      laneMap: db.prepare('SELECT data FROM lane_maps WHERE run_id = ?').pluck(),
      hold: db.prepare(
        'SELECT pk, step, watched, started_at, ended_at, value, band_low, band_high FROM holds WHERE pk = ?',
      ),
      prompt: db.prepare(`SELECT prompt_id, seq, step, kind, message, asked_at, answered_at, answer, answered_by
        FROM prompts WHERE run_id = ? AND prompt_id = ?`),
      prune: db.prepare('DELETE FROM fleet_outbox WHERE seq <= ?'),
      pending: db.prepare('SELECT count(*) FROM fleet_outbox WHERE seq > ?').pluck(),
    };
  }

  /** The highest sequence number handed out so far (0 for none). */
  lastSeq(): number {
    return (this.st.last.get() as number | undefined) ?? 0;
  }

  /** Lines after `after` not yet sent. */
  pending(after: number): number {
    return this.st.pending.get(after) as number;
  }

  /**
   * The next batch after `after`: up to batchLines outbox lines, each changed row once (its current state, at
   * the place of its first line). Null when nothing is pending. Read in one transaction (a consistent state).
   */
  read(bench: string, after: number): ForwardBatch | null {
    return this.db
      .transaction(() => {
        const lines = this.st.lines.all(after, this.batchLines) as OutboxLine[];
        if (lines.length === 0) return null;
        const seen = new Set<string>();
        const items: ForwardItem[] = [];
        for (const l of lines) {
          const key = `${l.kind}\u0000${l.run_id}\u0000${l.ref ?? ''}`;
          if (seen.has(key)) continue;
          seen.add(key);
          const item = this.load(l);
          if (item) items.push(item);
        }
        return { bench, origin: this.origin, after, upTo: lines[lines.length - 1]!.seq, items };
      })
      .deferred();
  }

  private load(l: OutboxLine): ForwardItem | null {
    const runId = l.run_id;
    switch (l.kind) {
      case 'run': {
        const row = this.st.run.get(runId) as WireRun | undefined;
        return row ? { t: 'run', row } : null;
      }
      case 'instruments':
        return { t: 'instruments', runId, rows: this.st.instruments.all(runId) as InstrumentRow[] };
      case 'step': {
        const row = this.st.step.get(l.ref) as StepRow | undefined;
        return row ? { t: 'step', runId, row } : null;
      }
      case 'measurement': {
        const m = this.st.measurement.get(l.ref) as WireMeasurement | undefined;
        return m ? { t: 'measurement', runId, row: m } : null;
      }
      case 'lane_map': {
        const data = this.st.laneMap.get(runId) as string | undefined;
        return data === undefined ? null : { t: 'lane_map', runId, data };
      }
      case 'hold': {
        const row = this.st.hold.get(l.ref) as HoldRow | undefined;
        return row ? { t: 'hold', runId, row } : null;
      }
      case 'prompt': {
        const row = this.st.prompt.get(runId, l.ref) as PromptRow | undefined;
        return row ? { t: 'prompt', runId, row } : null;
      }
      default:
        return null;
    }
  }

  /** Forgets lines the hub confirmed (it holds them in PostgreSQL). */
  prune(upTo: number): void {
    this.st.prune.run(upTo);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
