/**
 * Applies a bench's batch to PostgreSQL in one transaction with the bench's cursor (see src/fleet/wire.ts):
 * a batch already applied changes nothing, a batch after a gap is refused with the cursor to resend from.
 */
import type pg from 'pg';
import type { ForwardAck, ForwardBatch, ForwardItem } from '../fleet/wire.ts';
import { eachPackedLane, VERDICT_CODE } from '../store/codec.ts';
import { attachJobs } from './jobs.ts';
import { inTransaction, upsertRows } from './sql.ts';

export class BatchGapError extends Error {
  constructor(
    readonly bench: string,
    readonly cursor: number,
    after: number,
  ) {
    super(
      `bench ${bench}: batch starts after line ${after} but the hub holds lines up to ${cursor}; resend from ${cursor}`,
    );
    this.name = 'BatchGapError';
  }
}

/** A batch from another results file than the one the bench registered last (two benches, one name?). */
export class OriginError extends Error {
  constructor(readonly bench: string) {
    super(
      `bench ${bench}: this batch comes from another results file than the one registered under that name; register again (a bench restarted on a new file does) or give each bench its own name`,
    );
    this.name = 'OriginError';
  }
}

const RUN_COLS = [
  'id',
  'bench',
  'record_schema',
  'sequence_name',
  'sequence_version',
  'sequence_hash',
  'sequence_file',
  'station_name',
  'station_snapshot',
  'dut',
  'operator',
  'software_version',
  'software_revision',
  'started_at',
  'started_ms',
  'finished_at',
  'outcome',
  'summary',
  'error',
  'abort',
  'start_state',
  'safe_state',
  'lot',
  'wafer',
  'die_x',
  'die_y',
  'energy_pj',
  'worst_ber',
] as const;
const INSTRUMENT_COLS = [
  'run_id',
  'idx',
  'role',
  'resource',
  'driver',
  'manufacturer',
  'model',
  'serial',
  'firmware',
  'raw_identity',
] as const;
const STEP_COLS = [
  'run_id',
  'pk',
  'idx',
  'step_id',
  'name',
  'type',
  'started_at',
  'finished_at',
  'verdict',
  'error',
  'attempts',
  'at',
] as const;
const MEAS_COLS = [
  'run_id',
  'pk',
  'step_pk',
  'kind',
  'name',
  'unit',
  'description',
  'limits',
  'dimensions',
  'at',
  'verdict',
  'value',
  'lane_enc',
  'lane_first',
  'lane_count',
  'lanes',
  'vals',
  'verdicts',
  'verdicts_all',
] as const;
const HOLD_COLS = [
  'run_id',
  'pk',
  'step',
  'watched',
  'started_at',
  'ended_at',
  'value',
  'band_low',
  'band_high',
] as const;
const PROMPT_COLS = [
  'run_id',
  'prompt_id',
  'seq',
  'step',
  'kind',
  'message',
  'asked_at',
  'answered_at',
  'answer',
  'answered_by',
] as const;

/** Lane codes: bit 1 tested, bit 2 failed (FAIL or ERROR) in some lane measurement of the run. */
export const LANE_TESTED = 1;
export const LANE_FAILED = 2;

function pick<T extends object>(row: T, cols: readonly string[], first: Record<string, unknown> = {}): unknown[] {
  return cols.map((c) => (c in first ? first[c] : ((row as Record<string, unknown>)[c] ?? null)));
}

export async function applyBatch(pool: pg.Pool, batch: ForwardBatch): Promise<ForwardAck> {
  return inTransaction(pool, async (c) => {
    const r = await c.query('SELECT cursor, origin FROM benches WHERE name = $1 FOR UPDATE', [batch.bench]);
    if (r.rowCount === 0) throw new Error(`bench ${batch.bench} is not known to the hub`);
    const cursor = Number(r.rows[0].cursor);
    const origin = r.rows[0].origin as string | null;
    if (batch.origin !== undefined && origin !== null && batch.origin !== origin) throw new OriginError(batch.bench);
    if (batch.upTo <= cursor) return { cursor, duplicate: true };
    if (batch.after > cursor) throw new BatchGapError(batch.bench, cursor, batch.after);
    await writeItems(c, batch.bench, batch.items);
    await c.query('UPDATE benches SET cursor = $2 WHERE name = $1', [batch.bench, batch.upTo]);
    return { cursor: batch.upTo, duplicate: false };
  });
}

async function writeItems(c: pg.PoolClient, bench: string, items: ForwardItem[]): Promise<void> {
  const runs: unknown[][] = [];
  const instrRuns: string[] = [];
  const instruments: unknown[][] = [];
  const steps: unknown[][] = [];
  const meas: unknown[][] = [];
  const laneMaps: unknown[][] = [];
  const holds: unknown[][] = [];
  const prompts: unknown[][] = [];
  const laneCodes: LaneFold = new Map();
  for (const it of items) {
    switch (it.t) {
      case 'run': {
        const s = it.row.summary ? (JSON.parse(it.row.summary) as Record<string, unknown>) : {};
        const num = (v: unknown) => (typeof v === 'number' && Number.isFinite(v) ? v : null);
        runs.push(
          pick(it.row, RUN_COLS, { bench, energy_pj: num(s.energyPerBitPj), worst_ber: num(s.worstBerUpperBound) }),
        );
        break;
      }
      case 'instruments':
        instrRuns.push(it.runId);
        for (const row of it.rows) instruments.push(pick(row, INSTRUMENT_COLS, { run_id: it.runId }));
        break;
      case 'step':
        steps.push(pick(it.row, STEP_COLS, { run_id: it.runId }));
        break;
      case 'measurement': {
        const m = it.row;
        meas.push(pick(m, MEAS_COLS, { run_id: it.runId }));
        if (m.kind === 'lanes')
          foldLanes(laneCodes, it.runId, m.lane_enc, m.lane_first, m.lane_count, m.lanes, m.verdicts, m.verdicts_all);
        break;
      }
      case 'lane_map':
        laneMaps.push([it.runId, it.data]);
        break;
      case 'hold':
        holds.push(pick(it.row, HOLD_COLS, { run_id: it.runId }));
        break;
      case 'prompt':
        prompts.push(pick(it.row, PROMPT_COLS, { run_id: it.runId }));
        break;
    }
  }
  // a run id belongs to the bench that made it: another bench's row with the same id is never overwritten
  await upsertRows(c, 'runs', RUN_COLS, ['id'], runs, { where: 'runs.bench = EXCLUDED.bench' });
  await attachJobs(
    c,
    runs.map((r) => r[0] as string),
  );
  if (instrRuns.length) await c.query('DELETE FROM instruments WHERE run_id = ANY($1)', [instrRuns]);
  await upsertRows(c, 'instruments', INSTRUMENT_COLS, ['run_id', 'idx'], instruments);
  await upsertRows(c, 'steps', STEP_COLS, ['run_id', 'pk'], steps);
  // a measurement row is never changed on the bench: one sent again is left as it is
  // BLOBs go as Buffers: pg sends them as binary parameters (no hex or base64 on the way)
  await upsertRows(c, 'measurements', MEAS_COLS, ['run_id', 'pk'], meas, { update: [] });
  await upsertRows(c, 'lane_maps', ['run_id', 'data'], ['run_id'], laneMaps);
  await upsertRows(c, 'holds', HOLD_COLS, ['run_id', 'pk'], holds);
  await upsertRows(c, 'prompts', PROMPT_COLS, ['run_id', 'prompt_id'], prompts);
  if (laneCodes.size)
    await mergeLaneCodes(c, new Map([...laneCodes].map(([id, f]) => [id, f.codes.subarray(0, f.end)])));
}

/** Per run of a batch: lane codes (grown by doubling) and how many of them are in use (highest lane + 1). */
type LaneFold = Map<string, { codes: Uint8Array; end: number }>;

function foldLanes(
  acc: LaneFold,
  runId: string,
  enc: number | null,
  first: number | null,
  count: number | null,
  lanesBlob: Buffer | null,
  verdictsBlob: Buffer | null,
  uniform: string | null,
): void {
  const f = acc.get(runId) ?? { codes: new Uint8Array(512), end: 0 };
  eachPackedLane(enc ?? 0, first ?? 0, count ?? 0, lanesBlob, verdictsBlob, uniform, (lane, v) => {
    if (lane >= f.codes.length) {
      const grown = new Uint8Array(Math.max(lane + 1, f.codes.length * 2));
      grown.set(f.codes);
      f.codes = grown;
    }
    if (lane >= f.end) f.end = lane + 1;
    if (v === VERDICT_CODE.SKIPPED) return;
    f.codes[lane]! |= LANE_TESTED | (v === VERDICT_CODE.FAIL || v === VERDICT_CODE.ERROR ? LANE_FAILED : 0);
  });
  acc.set(runId, f);
}

/** OR-merges the batch's lane codes into run_lanes (idempotent: a measurement sent twice changes nothing). */
async function mergeLaneCodes(c: pg.PoolClient, acc: Map<string, Uint8Array>): Promise<void> {
  const ids = [...acc.keys()];
  const have = await c.query('SELECT run_id, codes FROM run_lanes WHERE run_id = ANY($1) FOR UPDATE', [ids]);
  for (const row of have.rows as { run_id: string; codes: Buffer }[]) {
    const add = acc.get(row.run_id)!;
    const merged = new Uint8Array(Math.max(add.length, row.codes.length));
    merged.set(row.codes);
    for (let i = 0; i < add.length; i++) merged[i]! |= add[i]!;
    acc.set(row.run_id, merged);
  }
  await upsertRows(
    c,
    'run_lanes',
    ['run_id', 'codes'],
    ['run_id'],
    [...acc].map(([id, codes]) => [id, Buffer.from(codes)]),
  );
}
