/**
 * The lab's PostgreSQL schema. Run tables mirror the bench's SQLite columns (src/store/migrations.ts) with the
 * bench's own row numbers (`pk`) kept, so a row sent twice lands on itself; `benches.cursor` is the last outbox
 * line applied per bench, moved in the same transaction as the rows. Applied on hub start; each version once
 * (`fleet_schema`), under an advisory lock so two hubs starting together do not race.
 */
import type pg from 'pg';

const MIGRATIONS: { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
CREATE TABLE benches (
  name TEXT PRIMARY KEY,
  token_hash TEXT NOT NULL,
  revoked_at TIMESTAMPTZ,
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  url TEXT,
  station TEXT,
  sequences JSONB NOT NULL DEFAULT '[]',
  capabilities JSONB NOT NULL DEFAULT '[]',
  registered_at TIMESTAMPTZ,
  last_heartbeat TIMESTAMPTZ,
  status JSONB,
  cursor BIGINT NOT NULL DEFAULT 0,
  origin TEXT
);
CREATE TABLE runs (
  id TEXT PRIMARY KEY,
  bench TEXT NOT NULL,
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
  started_ms BIGINT NOT NULL,
  finished_at TEXT,
  outcome TEXT NOT NULL,
  summary TEXT,
  error TEXT,
  abort TEXT,
  start_state TEXT,
  safe_state TEXT,
  lot TEXT,
  wafer TEXT,
  die_x INTEGER,
  die_y INTEGER,
  job_id BIGINT,
  energy_pj DOUBLE PRECISION,
  worst_ber DOUBLE PRECISION,
  hub_note TEXT
);
CREATE INDEX runs_bench ON runs(bench, started_ms);
CREATE INDEX runs_dut ON runs(dut, started_ms);
CREATE INDEX runs_lot ON runs(lot, wafer);
CREATE INDEX runs_started ON runs(started_ms);
CREATE TABLE instruments (
  run_id TEXT NOT NULL, idx INTEGER NOT NULL, role TEXT NOT NULL, resource TEXT NOT NULL, driver TEXT NOT NULL,
  manufacturer TEXT, model TEXT, serial TEXT, firmware TEXT, raw_identity TEXT,
  PRIMARY KEY (run_id, idx)
);
CREATE TABLE steps (
  run_id TEXT NOT NULL, pk BIGINT NOT NULL, idx INTEGER NOT NULL, step_id TEXT NOT NULL, name TEXT NOT NULL,
  type TEXT NOT NULL, started_at TEXT NOT NULL, finished_at TEXT, verdict TEXT, error TEXT, attempts INTEGER,
  PRIMARY KEY (run_id, pk)
);
CREATE TABLE measurements (
  run_id TEXT NOT NULL, pk BIGINT NOT NULL, step_pk BIGINT NOT NULL, kind TEXT NOT NULL, name TEXT NOT NULL,
  unit TEXT NOT NULL, description TEXT, limits TEXT, dimensions TEXT NOT NULL, at TEXT, verdict TEXT NOT NULL,
  value DOUBLE PRECISION, lane_enc INTEGER, lane_first INTEGER, lane_count INTEGER, lanes BYTEA, vals BYTEA,
  verdicts BYTEA, verdicts_all TEXT,
  PRIMARY KEY (run_id, pk)
);
-- packed float64 lane values barely compress: stored out of line without trying (pglz on them took half of the
-- ingest time: 800,000 values applied in 1.8 s before, 0.95 s after)
ALTER TABLE measurements ALTER COLUMN vals SET STORAGE EXTERNAL;
CREATE TABLE lane_maps (run_id TEXT PRIMARY KEY, data TEXT NOT NULL);
CREATE TABLE holds (
  run_id TEXT NOT NULL, pk BIGINT NOT NULL, step TEXT NOT NULL, watched TEXT NOT NULL, started_at TEXT NOT NULL,
  ended_at TEXT, value DOUBLE PRECISION NOT NULL, band_low DOUBLE PRECISION NOT NULL,
  band_high DOUBLE PRECISION NOT NULL,
  PRIMARY KEY (run_id, pk)
);
CREATE TABLE prompts (
  run_id TEXT NOT NULL, prompt_id TEXT NOT NULL, seq INTEGER NOT NULL, step TEXT NOT NULL, kind TEXT NOT NULL,
  message TEXT NOT NULL, asked_at TEXT NOT NULL, answered_at TEXT, answer TEXT, answered_by TEXT,
  PRIMARY KEY (run_id, prompt_id)
);
-- per run and physical lane: tested (1) / failed (2) bits OR-ed over its lane measurements (the yield maps)
CREATE TABLE run_lanes (run_id TEXT PRIMARY KEY, codes BYTEA NOT NULL);
CREATE TABLE jobs (
  id BIGSERIAL PRIMARY KEY,
  sequence TEXT NOT NULL,
  dut TEXT NOT NULL,
  lot TEXT, wafer TEXT, die_x INTEGER, die_y INTEGER,
  requires JSONB NOT NULL DEFAULT '[]',
  state TEXT NOT NULL DEFAULT 'queued',
  bench TEXT,
  run_id TEXT,
  lease_ms INTEGER NOT NULL,
  lease_until TIMESTAMPTZ,
  attempts INTEGER NOT NULL DEFAULT 0,
  max_attempts INTEGER NOT NULL DEFAULT 3,
  outcome TEXT,
  error TEXT,
  history JSONB NOT NULL DEFAULT '[]',
  created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
  updated_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX jobs_queued ON jobs(id) WHERE state = 'queued';
CREATE INDEX jobs_leased ON jobs(lease_until) WHERE state IN ('leased', 'running');
`,
  },
  {
    // the sweep coordinates of a nested step's run (the bench's steps.at, SQLite migration 4)
    version: 2,
    sql: 'ALTER TABLE steps ADD COLUMN at TEXT;',
  },
];

export const FLEET_SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1]!.version;

export async function migrateFleet(pool: pg.Pool): Promise<number> {
  const c = await pool.connect();
  try {
    await c.query('SELECT pg_advisory_lock(726151)');
    await c.query(
      'CREATE TABLE IF NOT EXISTS fleet_schema (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())',
    );
    const cur = Number((await c.query('SELECT COALESCE(MAX(version), 0) AS v FROM fleet_schema')).rows[0].v);
    if (cur > FLEET_SCHEMA_VERSION) {
      throw new Error(
        `the lab database has fleet schema version ${cur}, newer than this cpobench (${FLEET_SCHEMA_VERSION}): upgrade cpobench`,
      );
    }
    for (const m of MIGRATIONS) {
      if (m.version <= cur) continue;
      await c.query('BEGIN');
      try {
        await c.query(m.sql);
        await c.query('INSERT INTO fleet_schema (version) VALUES ($1)', [m.version]);
        await c.query('COMMIT');
      } catch (err) {
        await c.query('ROLLBACK');
        throw err;
      }
    }
    return FLEET_SCHEMA_VERSION;
  } finally {
    await c.query('SELECT pg_advisory_unlock(726151)').catch(() => undefined);
    c.release();
  }
}
