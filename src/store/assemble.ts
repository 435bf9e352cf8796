/**
 * A run record from its table rows. The rows have the column names of the SQLite schema (migrations.ts); the
 * lab's PostgreSQL store (src/hub) keeps the same columns, so both stores build records with this one function.
 */
import {
  type DutOrigin,
  type HoldRecord,
  type InstrumentRecord,
  type Measurement,
  type PromptRecord,
  RECORD_SCHEMA_VERSION,
  type RunRecord,
  type RunStatus,
  type StepRecord,
  type Verdict,
} from '../core/record.ts';
import { unpackLanes, unpackValues, unpackVerdicts } from './codec.ts';

export interface RunRow {
  id: string;
  record_schema: number;
  sequence_name: string;
  sequence_version: string | null;
  sequence_hash: string;
  sequence_file: string | null;
  station_name: string;
  station_snapshot: string;
  dut: string;
  /** The DUT's origin (SQLite migration 6; the lab database has the same columns). */
  lot: string | null;
  wafer: string | null;
  die_x: number | null;
  die_y: number | null;
  operator: string;
  software_version: string;
  software_revision: string | null;
  started_at: string;
  finished_at: string | null;
  outcome: string;
  summary: string | null;
  error: string | null;
  abort: string | null;
  start_state: string | null;
  safe_state: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  owner_boot_id: string | null;
  owner_start: string | null;
}

export interface InstrumentRow {
  run_id: string;
  idx: number;
  role: string;
  resource: string;
  driver: string;
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  firmware: string | null;
  raw_identity: string | null;
}

export interface StepRow {
  pk: number;
  idx: number;
  step_id: string;
  name: string;
  type: string;
  started_at: string;
  finished_at: string | null;
  verdict: string | null;
  error: string | null;
  attempts: number | null;
  /** The sweep coordinates of a nested step's run (JSON), or null. */
  at: string | null;
}

export interface MeasurementRow {
  pk?: number;
  step_pk: number;
  kind: string;
  name: string;
  unit: string;
  description: string | null;
  limits: string | null;
  dimensions: string;
  at: string | null;
  verdict: string;
  value: number | null;
  lane_enc: number | null;
  lane_first: number | null;
  lane_count: number | null;
  lanes: Uint8Array | null;
  vals: Uint8Array | null;
  verdicts: Uint8Array | null;
  verdicts_all: string | null;
}

export interface HoldRow {
  pk: number;
  step: string;
  watched: string;
  started_at: string;
  ended_at: string | null;
  value: number;
  band_low: number;
  band_high: number;
}

export interface PromptRow {
  prompt_id: string;
  seq: number;
  step: string;
  kind: string;
  message: string;
  asked_at: string;
  answered_at: string | null;
  answer: string | null;
  answered_by: string | null;
}

export interface RunRows {
  run: RunRow;
  instruments: InstrumentRow[];
  /** In record order (idx, pk). */
  steps: StepRow[];
  /** In insertion order (pk). */
  measurements: Iterable<MeasurementRow>;
  holds: HoldRow[];
  prompts: PromptRow[];
  /** lane_maps.data (JSON), if any. */
  laneMap: string | undefined;
}

export function assembleRecord(r: RunRows): RunRecord {
  const row = r.run;
  const instruments = r.instruments.map((ir) => {
    const ins: InstrumentRecord = { role: ir.role, resource: ir.resource, driver: ir.driver };
    if (ir.raw_identity !== null || ir.model !== null) {
      ins.identity = {
        manufacturer: ir.manufacturer ?? '',
        model: ir.model ?? '',
        serial: ir.serial ?? '',
        firmware: ir.firmware ?? '',
        raw: ir.raw_identity ?? '',
      };
    }
    return ins;
  });
  const byPk = new Map<number, StepRecord>();
  const steps = r.steps.map((s) => {
    const step: StepRecord = {
      index: s.idx,
      id: s.step_id,
      name: s.name,
      type: s.type,
      startedAt: s.started_at,
      measurements: [],
    };
    if (s.finished_at !== null) step.finishedAt = s.finished_at;
    if (s.verdict !== null) step.verdict = s.verdict as Verdict;
    if (s.error !== null) step.error = s.error;
    if (s.attempts !== null) step.attempts = s.attempts;
    if (s.at !== null) step.at = JSON.parse(s.at) as Record<string, number>;
    byPk.set(s.pk, step);
    return step;
  });
  for (const m of r.measurements) {
    const step = byPk.get(m.step_pk);
    if (step) step.measurements.push(decodeMeasurement(m));
  }
  const holds = r.holds.map((h) => {
    const hold: HoldRecord = {
      step: h.step,
      watched: h.watched,
      startedAt: h.started_at,
      value: h.value,
      band: [h.band_low, h.band_high],
    };
    if (h.ended_at !== null) hold.endedAt = h.ended_at;
    return hold;
  });
  const prompts = r.prompts.map((p) => {
    const pr: PromptRecord = {
      id: p.prompt_id,
      step: p.step,
      kind: p.kind as PromptRecord['kind'],
      message: p.message,
      askedAt: p.asked_at,
    };
    if (p.answered_at !== null) pr.answeredAt = p.answered_at;
    if (p.answer !== null) pr.answer = JSON.parse(p.answer) as PromptRecord['answer'];
    if (p.answered_by !== null) pr.answeredBy = p.answered_by;
    return pr;
  });
  const rec: RunRecord = {
    schema: RECORD_SCHEMA_VERSION,
    id: row.id,
    sequence: { name: row.sequence_name, hash: row.sequence_hash },
    station: { name: row.station_name, snapshot: JSON.parse(row.station_snapshot) },
    dut: row.dut,
    ...dutOrigin(row),
    operator: row.operator,
    software: { version: row.software_version },
    startedAt: row.started_at,
    outcome: row.outcome as RunStatus,
    instruments,
    steps,
    holds,
    prompts,
  };
  if (row.sequence_version !== null) rec.sequence.version = row.sequence_version;
  if (row.sequence_file !== null) rec.sequence.file = row.sequence_file;
  if (row.software_revision !== null) rec.software.revision = row.software_revision;
  if (row.finished_at !== null) rec.finishedAt = row.finished_at;
  if (row.summary !== null) rec.summary = JSON.parse(row.summary);
  if (row.error !== null) rec.error = row.error;
  if (r.laneMap !== undefined) rec.laneMap = JSON.parse(r.laneMap);
  if (row.abort !== null) rec.abort = JSON.parse(row.abort);
  if (row.start_state !== null) rec.startState = JSON.parse(row.start_state);
  if (row.safe_state !== null) rec.safeState = JSON.parse(row.safe_state);
  return rec;
}

/** Lot, wafer and die of a run row (absent when null: a run started without them, or a file from before them). */
export function dutOrigin(row: Pick<RunRow, 'lot' | 'wafer' | 'die_x' | 'die_y'>): DutOrigin {
  const o: DutOrigin = {};
  if (row.lot != null) o.lot = row.lot;
  if (row.wafer != null) o.wafer = row.wafer;
  if (row.die_x != null && row.die_y != null) o.die = { x: row.die_x, y: row.die_y };
  return o;
}

export function decodeMeasurement(m: MeasurementRow): Measurement {
  const spec: Measurement['spec'] = { name: m.name, unit: m.unit, dimensions: JSON.parse(m.dimensions) };
  if (m.description !== null) spec.description = m.description;
  if (m.limits !== null) spec.limits = JSON.parse(m.limits);
  const verdict = m.verdict as Verdict;
  let out: Measurement;
  if (m.kind === 'lanes') {
    const count = m.lane_count ?? 0;
    out = {
      kind: 'lanes',
      spec,
      lanes: unpackLanes(m.lane_enc ?? 0, m.lane_first ?? 0, count, m.lanes),
      values: m.vals ? unpackValues(m.vals) : [],
      verdicts: unpackVerdicts(m.verdicts, m.verdicts_all, count),
      verdict,
    };
  } else {
    out = { kind: 'scalar', spec, value: m.value, verdict };
  }
  if (m.at !== null) out.at = JSON.parse(m.at);
  return out;
}
