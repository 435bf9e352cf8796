/**
 * Cross-bench analytics over any selection of runs (the filter of the run search): yield per physical lane
 * position (from run_lanes, folded at ingest), a wafer map of the latest run per die, and trends of energy per
 * bit and the worst BER bound per lot and day.
 */
import type pg from 'pg';
import { createGeometry } from '../orchestrator/lanes.ts';
import { LANE_FAILED, LANE_TESTED } from './ingest.ts';
import { type HubRunFilter, runWhere } from './runs.ts';

export interface LanePosition {
  /** Physical lane number (1-based, as the station numbers them). */
  lane: number;
  /** Its place on the array (station geometry: row-major or column-major), when the geometry is known. */
  row: number | null;
  col: number | null;
  /** Runs that tested the lane, runs where it failed, (tested - failed) / tested (null: untested). */
  tested: number;
  failed: number;
  yield: number | null;
}

export interface LaneYield {
  /** Runs in the selection with lane results. */
  runs: number;
  /** Array geometry from the latest run's station, when known. */
  rows: number | null;
  cols: number | null;
  lanes: LanePosition[];
}

export async function laneYield(pool: pg.Pool, f: HubRunFilter): Promise<LaneYield> {
  const args: unknown[] = [];
  const where = runWhere(f, args);
  const r = await pool.query({
    text: `SELECT l.codes FROM run_lanes l JOIN runs r ON r.id = l.run_id ${where}`,
    values: args,
    rowMode: 'array',
  });
  let tested = new Uint32Array(0);
  let failed = new Uint32Array(0);
  for (const [codes] of r.rows as [Buffer][]) {
    if (codes.length > tested.length) {
      const t = new Uint32Array(codes.length);
      t.set(tested);
      tested = t;
      const x = new Uint32Array(codes.length);
      x.set(failed);
      failed = x;
    }
    for (let i = 0; i < codes.length; i++) {
      const c = codes[i]!;
      if (c & LANE_TESTED) tested[i]!++;
      if (c & LANE_FAILED) failed[i]!++;
    }
  }
  const geo = await pool.query(
    `SELECT r.station_snapshot::jsonb -> 'lanes' AS lanes FROM runs r ${where} ORDER BY r.started_ms DESC LIMIT 1`,
    args,
  );
  const g = (geo.rows[0]?.lanes ?? null) as { rows?: unknown; cols?: unknown; order?: unknown } | null;
  const geometry =
    g && typeof g.rows === 'number' && typeof g.cols === 'number'
      ? createGeometry({ rows: g.rows, cols: g.cols, order: g.order === 'column-major' ? 'column-major' : undefined })
      : undefined;
  const lanes: LanePosition[] = [];
  // with a geometry, its positions (a lane number beyond the array is no position on it); else every lane seen
  const n = geometry ? geometry.all.length + 1 : tested.length;
  for (let lane = 1; lane < n; lane++) {
    const t = tested[lane] ?? 0;
    const fl = failed[lane] ?? 0;
    const [row, col] = geometry ? geometry.position(lane) : [null, null];
    lanes.push({ lane, row, col, tested: t, failed: fl, yield: t === 0 ? null : (t - fl) / t });
  }
  return { runs: r.rowCount ?? 0, rows: geometry?.rows ?? null, cols: geometry?.cols ?? null, lanes };
}

export interface WaferDie {
  x: number;
  y: number;
  dut: string;
  runId: string;
  bench: string;
  outcome: string;
  energyPerBitPj: number | null;
  startedAt: string;
}

/** The latest run of each die of a wafer (runs carry lot/wafer/die from the job that started them). */
export async function waferMap(
  pool: pg.Pool,
  f: HubRunFilter,
): Promise<{ lot?: string; wafer?: string; dies: WaferDie[] }> {
  const args: unknown[] = [];
  let where = runWhere(f, args);
  where = where ? `${where} AND r.die_x IS NOT NULL` : 'WHERE r.die_x IS NOT NULL';
  const r = await pool.query(
    `SELECT DISTINCT ON (r.lot, r.wafer, r.die_x, r.die_y) r.die_x, r.die_y, r.dut, r.id, r.bench, r.outcome,
     r.energy_pj, r.started_at FROM runs r ${where}
     ORDER BY r.lot, r.wafer, r.die_x, r.die_y, r.started_ms DESC`,
    args,
  );
  const out: { lot?: string; wafer?: string; dies: WaferDie[] } = {
    dies: r.rows.map((d) => ({
      x: d.die_x,
      y: d.die_y,
      dut: d.dut,
      runId: d.id,
      bench: d.bench,
      outcome: d.outcome,
      energyPerBitPj: d.energy_pj,
      startedAt: d.started_at,
    })),
  };
  if (f.lot) out.lot = f.lot;
  if (f.wafer) out.wafer = f.wafer;
  return out;
}

export interface TrendPoint {
  lot: string | null;
  day: string;
  runs: number;
  passed: number;
  meanEnergyPerBitPj: number | null;
  worstBerUpperBound: number | null;
}

/** Per lot and UTC day: runs, passes, mean energy per bit and the worst BER upper bound. */
export async function trends(pool: pg.Pool, f: HubRunFilter): Promise<TrendPoint[]> {
  const args: unknown[] = [];
  const where = runWhere(f, args);
  const r = await pool.query(
    `SELECT r.lot, to_char(to_timestamp(r.started_ms / 1000.0) AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day,
     count(*)::int AS runs, count(*) FILTER (WHERE r.outcome = 'PASS')::int AS passed,
     avg(r.energy_pj) AS energy, max(r.worst_ber) AS ber
     FROM runs r ${where} GROUP BY 1, 2 ORDER BY 2, 1`,
    args,
  );
  return r.rows.map((x) => ({
    lot: x.lot,
    day: x.day,
    runs: x.runs,
    passed: x.passed,
    meanEnergyPerBitPj: x.energy === null ? null : Number(x.energy),
    worstBerUpperBound: x.ber === null ? null : Number(x.ber),
  }));
}
