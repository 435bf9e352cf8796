/** Runs in the lab database: search over every bench, and each run's full record (the bench's own format). */
import type pg from 'pg';
import type { RunRecord } from '../core/record.ts';
import {
  assembleRecord,
  type HoldRow,
  type InstrumentRow,
  type MeasurementRow,
  type PromptRow,
  type RunRow,
  type StepRow,
} from '../store/assemble.ts';

export interface HubRunFilter {
  id?: string;
  bench?: string;
  dut?: string;
  lot?: string;
  wafer?: string;
  sequence?: string;
  outcome?: string;
  /** ISO 8601: started at or after / before. */
  since?: string;
  until?: string;
  limit?: number;
}

export interface HubRunItem {
  id: string;
  bench: string;
  sequence: string;
  dut: string;
  lot: string | null;
  wafer: string | null;
  die: { x: number; y: number } | null;
  operator: string;
  startedAt: string;
  finishedAt: string | null;
  outcome: string;
  energyPerBitPj: number | null;
  worstBerUpperBound: number | null;
  jobId: number | null;
  note: string | null;
}

/** WHERE clause over `runs r` for a filter; throws naming the field for a bad date. */
export function runWhere(f: HubRunFilter, args: unknown[]): string {
  const where: string[] = [];
  const eq = (col: string, v: string | undefined) => {
    if (v === undefined || v === '') return;
    args.push(v);
    where.push(`${col} = $${args.length}`);
  };
  eq('r.id', f.id);
  eq('r.bench', f.bench);
  eq('r.dut', f.dut);
  eq('r.lot', f.lot);
  eq('r.wafer', f.wafer);
  eq('r.sequence_name', f.sequence);
  eq('r.outcome', f.outcome);
  for (const [k, op] of [
    ['since', '>='],
    ['until', '<'],
  ] as const) {
    const v = f[k];
    if (v === undefined || v === '') continue;
    const ms = Date.parse(v);
    if (Number.isNaN(ms)) throw new RangeError(`${k}: expected an ISO 8601 date, got "${v}"`);
    args.push(ms);
    where.push(`r.started_ms ${op} $${args.length}`);
  }
  return where.length ? `WHERE ${where.join(' AND ')}` : '';
}

export async function searchRuns(pool: pg.Pool, f: HubRunFilter): Promise<HubRunItem[]> {
  const args: unknown[] = [];
  const where = runWhere(f, args);
  args.push(Math.min(10_000, Math.max(1, Math.floor(f.limit ?? 100))));
  const r = await pool.query(
    `SELECT id, bench, sequence_name, dut, lot, wafer, die_x, die_y, operator, started_at, finished_at, outcome,
     energy_pj, worst_ber, job_id, hub_note FROM runs r ${where} ORDER BY started_ms DESC, id DESC LIMIT $${args.length}`,
    args,
  );
  return r.rows.map((x) => ({
    id: x.id,
    bench: x.bench,
    sequence: x.sequence_name,
    dut: x.dut,
    lot: x.lot,
    wafer: x.wafer,
    die: x.die_x === null ? null : { x: x.die_x, y: x.die_y },
    operator: x.operator,
    startedAt: x.started_at,
    finishedAt: x.finished_at,
    outcome: x.outcome,
    energyPerBitPj: x.energy_pj,
    worstBerUpperBound: x.worst_ber,
    jobId: x.job_id === null ? null : Number(x.job_id),
    note: x.hub_note,
  }));
}

/** The run's record as its bench stored it, plus where it ran (bench, lot, wafer, die, job). */
export async function getHubRun(
  pool: pg.Pool,
  id: string,
): Promise<(RunRecord & { lab: Omit<HubRunItem, 'id'> }) | undefined> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY');
    const run = await c.query('SELECT * FROM runs WHERE id = $1', [id]);
    if (run.rowCount === 0) return undefined;
    const q = (sql: string) => c.query(sql, [id]).then((r) => r.rows);
    // one query at a time: a client runs its queries in turn anyway
    const instruments = await q('SELECT * FROM instruments WHERE run_id = $1 ORDER BY idx');
    const steps = await q('SELECT * FROM steps WHERE run_id = $1 ORDER BY idx, pk');
    const measurements = await q('SELECT * FROM measurements WHERE run_id = $1 ORDER BY pk');
    const holds = await q('SELECT * FROM holds WHERE run_id = $1 ORDER BY pk');
    const prompts = await q('SELECT * FROM prompts WHERE run_id = $1 ORDER BY seq');
    const laneMap = await q('SELECT data FROM lane_maps WHERE run_id = $1');
    await c.query('COMMIT');
    const row = run.rows[0] as RunRow & Record<string, unknown>;
    const rec = assembleRecord({
      run: row,
      instruments: instruments as InstrumentRow[],
      steps: steps as StepRow[],
      measurements: measurements as MeasurementRow[],
      holds: holds as HoldRow[],
      prompts: prompts as PromptRow[],
      laneMap: (laneMap[0] as { data: string } | undefined)?.data,
    });
    const [item] = await searchRuns(pool, { id });
    const { id: _id, ...lab } = item!;
    return { ...rec, lab };
  } finally {
    await c.query('ROLLBACK').catch(() => undefined);
    c.release();
  }
}
