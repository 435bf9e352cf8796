/**
 * Schema migrations. `schema_version` holds one row per applied migration; the version of a file is the
 * highest one. Opening an older file applies the missing migrations in order (each in its own transaction);
 * opening a newer one is refused before anything is written.
 */
import type Database from 'better-sqlite3';
import { StoreError } from './errors.ts';

export interface Migration {
  version: number;
  description: string;
  sql: string;
}

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    description: 'runs, instruments, steps, measurements (packed lane arrays), lane maps, holds, prompts',
    sql: `
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  record_schema INTEGER NOT NULL,
  sequence_name TEXT NOT NULL,
  sequence_version TEXT,
  sequence_hash TEXT NOT NULL,
  sequence_file TEXT,
  station_name TEXT NOT NULL,
  station_snapshot TEXT NOT NULL,
  dut TEXT NOT NULL,
  operator TEXT NOT NULL,
  software_version TEXT NOT NULL,
  software_revision TEXT,
  started_at TEXT NOT NULL,
  started_ms INTEGER NOT NULL,
  finished_at TEXT,
  outcome TEXT NOT NULL,
  summary TEXT,
  error TEXT,
  abort TEXT,
  owner_pid INTEGER,
  owner_host TEXT,
  owner_boot_id TEXT,
  owner_start TEXT
) STRICT;
CREATE INDEX runs_outcome ON runs(outcome);

CREATE TABLE instruments (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  role TEXT NOT NULL,
  resource TEXT NOT NULL,
  driver TEXT NOT NULL,
  manufacturer TEXT,
  model TEXT,
  serial TEXT,
  firmware TEXT,
  raw_identity TEXT,
  PRIMARY KEY (run_id, idx)
) STRICT;

CREATE TABLE steps (
  pk INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  idx INTEGER NOT NULL,
  step_id TEXT NOT NULL,
  name TEXT NOT NULL,
  type TEXT NOT NULL,
  started_at TEXT NOT NULL,
  finished_at TEXT,
  verdict TEXT,
  error TEXT,
  attempts INTEGER
) STRICT;
CREATE INDEX steps_run ON steps(run_id, idx);

CREATE TABLE measurements (
  pk INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step_pk INTEGER NOT NULL REFERENCES steps(pk) ON DELETE CASCADE,
  kind TEXT NOT NULL,
  name TEXT NOT NULL,
  unit TEXT NOT NULL,
  description TEXT,
  limits TEXT,
  dimensions TEXT NOT NULL,
  at TEXT,
  verdict TEXT NOT NULL,
  value REAL,
  lane_enc INTEGER,
  lane_first INTEGER,
  lane_count INTEGER,
  lanes BLOB,
  vals BLOB,
  verdicts BLOB,
  verdicts_all TEXT
) STRICT;
CREATE INDEX measurements_run ON measurements(run_id, pk);

CREATE TABLE lane_maps (
  run_id TEXT PRIMARY KEY REFERENCES runs(id) ON DELETE CASCADE,
  data TEXT NOT NULL
) STRICT;

CREATE TABLE holds (
  pk INTEGER PRIMARY KEY,
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  step TEXT NOT NULL,
  watched TEXT NOT NULL,
  started_at TEXT NOT NULL,
  ended_at TEXT,
  value REAL NOT NULL,
  band_low REAL NOT NULL,
  band_high REAL NOT NULL
) STRICT;
CREATE INDEX holds_run ON holds(run_id, pk);

CREATE TABLE prompts (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  prompt_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  step TEXT NOT NULL,
  kind TEXT NOT NULL,
  message TEXT NOT NULL,
  asked_at TEXT NOT NULL,
  answered_at TEXT,
  answer TEXT,
  answered_by TEXT,
  PRIMARY KEY (run_id, prompt_id)
) STRICT;
`,
  },
  {
    version: 2,
    description: 'bounded SCPI transcript per run; indexes for run history queries',
    sql: `
CREATE TABLE transcript (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  seq INTEGER NOT NULL,
  t REAL NOT NULL,
  instrument TEXT NOT NULL,
  dir TEXT NOT NULL,
  text TEXT NOT NULL,
  ms REAL,
  PRIMARY KEY (run_id, seq)
) STRICT, WITHOUT ROWID;
CREATE INDEX runs_dut ON runs(dut, started_ms);
CREATE INDEX runs_sequence ON runs(sequence_name, started_ms);
CREATE INDEX runs_started ON runs(started_ms);
`,
  },
  {
    version: 3,
    description: 'the bench safe state read back at the start and at the end of each run',
    sql: `
ALTER TABLE runs ADD COLUMN start_state TEXT;
ALTER TABLE runs ADD COLUMN safe_state TEXT;
`,
  },
  {
    version: 4,
    description: 'the sweep coordinates of each run of a nested step (steps.at, JSON)',
    sql: `
ALTER TABLE steps ADD COLUMN at TEXT;
`,
  },
  {
    version: 5,
    description: 'resumable runs: the station fingerprint, how the bench was opened, when the run was resumed',
    sql: `
ALTER TABLE runs ADD COLUMN station_fingerprint TEXT;
ALTER TABLE runs ADD COLUMN launch TEXT;
ALTER TABLE runs ADD COLUMN resumes TEXT;
`,
  },
  {
    version: 6,
    description: "the DUT's lot, wafer and die position on the wafer",
    sql: `
ALTER TABLE runs ADD COLUMN lot TEXT;
ALTER TABLE runs ADD COLUMN wafer TEXT;
ALTER TABLE runs ADD COLUMN die_x INTEGER;
ALTER TABLE runs ADD COLUMN die_y INTEGER;
`,
  },
];

export const LATEST_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** 0 for an empty database (no schema_version table). Reads only. */
export function readSchemaVersion(db: Database.Database): number {
  const t = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'").get();
  if (!t) return 0;
  const row = db.prepare('SELECT MAX(version) AS v FROM schema_version').get() as { v: number | null };
  return row.v ?? 0;
}

/** Refuses a newer file with a message that says what to do. Reads only. */
export function assertNotNewer(version: number, path: string): void {
  if (version > LATEST_SCHEMA_VERSION) {
    throw new StoreError(
      'SCHEMA_NEWER',
      `database schema version ${version} is newer than this cpobench (knows up to ${LATEST_SCHEMA_VERSION}); upgrade cpobench (database: ${path})`,
    );
  }
}

/** Applies the migrations above `current` up to `target` (default: latest). Returns the new version. */
export function migrate(db: Database.Database, target = LATEST_SCHEMA_VERSION): number {
  db.exec(
    'CREATE TABLE IF NOT EXISTS schema_version (version INTEGER PRIMARY KEY, description TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT',
  );
  let current = readSchemaVersion(db);
  for (const m of MIGRATIONS) {
    if (m.version <= current || m.version > target) continue;
    db.transaction(() => {
      // Re-read under the write lock: another process opening the same file may have migrated meanwhile.
      if (readSchemaVersion(db) >= m.version) return;
      db.exec(m.sql);
      db.prepare('INSERT INTO schema_version (version, description, applied_at) VALUES (?, ?, ?)').run(
        m.version,
        m.description,
        new Date().toISOString(),
      );
    }).immediate();
    current = m.version;
  }
  return current;
}
