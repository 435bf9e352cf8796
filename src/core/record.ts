/**
 * The run record and the event stream: the shapes the orchestrator produces, the store keeps, the reports
 * export and the dashboard shows. Keep them stable: the JSON report schema (RECORD_SCHEMA_VERSION) is public.
 */

import type { ClassCheck, DeviceSummary } from './class-check.ts';
export const RECORD_SCHEMA_VERSION = 1;

export type Outcome = 'PASS' | 'FAIL' | 'ERROR' | 'ABORTED' | 'INTERRUPTED';
/** A run in progress has outcome RUNNING in the store and the API. */
export type RunStatus = Outcome | 'RUNNING';
export type Verdict = 'PASS' | 'FAIL' | 'MARGINAL' | 'ERROR' | 'SKIPPED';

export interface Limits {
  low?: number;
  high?: number;
  /** Width of the marginal band inside each limit, in the measurement's unit. */
  marginal?: number;
}

export type Dimension = 'lane' | 'temperature' | 'rate' | 'point';

/** Declared before the step runs, so the record and the UI know the spec in advance. */
export interface MeasurementSpec {
  name: string;
  unit: string;
  description?: string;
  limits?: Limits;
  /** Empty for a scalar; ['lane'] for a per-lane array. */
  dimensions: Dimension[];
  /**
   * What this measurement tells the run summary, declared by the step (the engine knows no step or measurement
   * names): `ber-bound`, a per-lane BER upper bound (each lane's tightest, nominal conditions first, gives the
   * worst BER bound); `energy-per-bit`, the run's energy per bit in pJ/bit (the last one taken).
   */
  summary?: 'ber-bound' | 'energy-per-bit';
}

export interface ScalarMeasurement {
  kind: 'scalar';
  spec: MeasurementSpec;
  value: number | null;
  verdict: Verdict;
  /** Extra coordinates (e.g. temperature for a nested step). */
  at?: Record<string, number>;
}

export interface LaneMeasurement {
  kind: 'lanes';
  spec: MeasurementSpec;
  /** Physical lane numbers, 1-based, same length as values. */
  lanes: number[];
  values: (number | null)[];
  /** Per-lane verdicts, same length as values. */
  verdicts: Verdict[];
  verdict: Verdict;
  at?: Record<string, number>;
}

export type Measurement = ScalarMeasurement | LaneMeasurement;

export interface StepRecord {
  index: number;
  id: string;
  name: string;
  type: string;
  startedAt: string;
  finishedAt?: string;
  verdict?: Verdict;
  error?: string;
  attempts?: number;
  /** Sweep coordinates of a step nested in a sweep (e.g. {temperature: 45}); its measurements carry them too. */
  at?: Record<string, number>;
  measurements: Measurement[];
}

export interface InstrumentRecord {
  role: string;
  resource: string;
  identity?: { manufacturer: string; model: string; serial: string; firmware: string; raw: string };
  driver: string;
}

export interface LaneMapRecord {
  /** logical lane index (0-based position) -> physical lane number */
  logicalToPhysical: number[];
  dead: number[];
  swapped: [number, number][];
  remapped: { logical: number; from: number; to: number }[];
  sparesLeft: number[];
}

export interface HoldRecord {
  step: string;
  watched: string;
  startedAt: string;
  endedAt?: string;
  value: number;
  band: [number, number];
}

export interface PromptRecord {
  id: string;
  step: string;
  kind: 'confirm' | 'value' | 'passfail';
  message: string;
  askedAt: string;
  answeredAt?: string;
  answer?: string | number | boolean;
  answeredBy?: string;
}

export interface TranscriptEntry {
  t: number;
  instrument: string;
  dir: 'tx' | 'rx' | 'err';
  text: string;
  ms?: number;
}

/**
 * One instrument's safe state as read back: `safe` only when the instrument confirmed it (outputs read back off,
 * currents read back 0, gate read back stopped...). `observed` says what was read; `error` why it is not safe.
 */
export interface SafeStateReport {
  role: string;
  resource?: string;
  safe: boolean;
  ms: number;
  observed?: string;
  error?: string;
}

/** The bench's safe state at one moment: safe only when every instrument confirmed its own. */
export interface BenchSafety {
  at: string;
  safe: boolean;
  instruments: SafeStateReport[];
}

/** The roles of a bench safety check that did not confirm, for messages: "led-driver (TCPIP0::...): reason". */
export function notSafeText(check: BenchSafety): string {
  return check.instruments
    .filter((i) => !i.safe)
    .map((i) => `${i.role}${i.resource ? ` (${i.resource})` : ''}: ${i.error ?? 'not confirmed'}`)
    .join('; ');
}

/** A die's position on its wafer (the wafer map's column and row; integers, may be negative). */
export interface DiePosition {
  x: number;
  y: number;
}

/** Where a DUT comes from: lot, wafer and die position, each optional (a run started with none has none). */
export type DutOrigin = Pick<RunRecord, 'lot' | 'wafer' | 'die'>;

export interface RunRecord {
  schema: number;
  id: string;
  sequence: { name: string; version?: string; hash: string; file?: string };
  station: { name: string; snapshot: unknown };
  dut: string;
  /** The DUT's production lot, wafer and die position on the wafer, when the run was given them. */
  lot?: string;
  wafer?: string;
  die?: DiePosition;
  operator: string;
  software: { version: string; revision?: string };
  startedAt: string;
  finishedAt?: string;
  outcome: RunStatus;
  summary?: RunSummary;
  error?: string;
  instruments: InstrumentRecord[];
  steps: StepRecord[];
  laneMap?: LaneMapRecord;
  holds: HoldRecord[];
  prompts: PromptRecord[];
  abort?: { requestedAt: string; by: string; safeStateMs?: number };
  /** The bench as read back before the first step (the run starts from a known, confirmed state). */
  startState?: BenchSafety;
  /** The bench as read back after the last step, an abort or an error: NOT SAFE instruments are named here. */
  safeState?: BenchSafety;
}

export interface RunSummary {
  /** The device under test as its station describes it: class, fibre length, lane pitch, lanes per mm². */
  device?: DeviceSummary;
  /** The DUT against its class's published targets (fixtures/classes), when the station names a class. */
  classCheck?: ClassCheck;
  energyPerBitPj?: number;
  lanesActive?: number;
  lanesDead?: number;
  lanesRemapped?: number;
  worstBerUpperBound?: number;
  worstLane?: number;
  /** Steps that failed only on lanes a later remap moved to spares (the run can still PASS). */
  repairedSteps?: { step: string; lanes: number[] }[];
  /** False when an instrument did not confirm its safe state at the end of the run (see RunRecord.safeState). */
  benchSafe?: boolean;
  /** Roles that did not confirm their safe state. */
  notSafe?: string[];
}

/** Events on the bus; the WebSocket adds {seq, ts}. */
export type BenchEvent =
  | {
      type: 'run.started';
      run: Pick<RunRecord, 'id' | 'sequence' | 'dut' | 'operator' | 'startedAt'>;
      steps: StepPlan[];
    }
  | { type: 'step.started'; runId: string; step: StepPlan }
  | { type: 'measurement'; runId: string; step: string; measurement: Measurement }
  | {
      type: 'lanes';
      runId: string;
      step: string;
      metric: string;
      unit: string;
      lanes: number[];
      values: (number | null)[];
      /** Sweep coordinates of the frame (a nested step's, a measurement's own), when it has any. */
      at?: Record<string, number>;
    }
  | { type: 'lanemap'; runId: string; laneMap: LaneMapRecord }
  | { type: 'step.finished'; runId: string; step: string; verdict: Verdict; error?: string }
  | {
      type: 'run.finished';
      runId: string;
      outcome: Outcome;
      summary?: RunSummary;
      error?: string;
      safeState?: BenchSafety;
    }
  | { type: 'safe-state'; runId: string; phase: 'start' | 'end'; check: BenchSafety }
  | { type: 'instrument'; role: string; state: string; identity?: string; resource?: string }
  | { type: 'log'; level: 'debug' | 'info' | 'warn' | 'error'; msg: string; runId?: string }
  | { type: 'prompt'; runId: string; prompt: PromptRecord }
  | {
      type: 'progress';
      runId: string;
      step: string;
      done: number;
      total: number;
      etaS?: number;
      /** What done and total count ("bits", "points", "setpoints", "instruments"...); absent: the step did not say. */
      unit?: string;
      /** More about where the work is ("errors so far 0, 3.0e12 bits per lane to go"). */
      detail?: string;
      /** Errors counted so far (a BER gate: summed over its lanes with sync; the finished gates' included). */
      errors?: number;
    }
  | { type: 'hold'; runId: string; hold: HoldRecord };

export interface StepPlan {
  index: number;
  id: string;
  name: string;
  type: string;
  measurements: MeasurementSpec[];
  /** Id of the step it is nested in (a sweep), when it is. */
  parent?: string;
  /** On `step.started`: the sweep coordinates this run of a nested step is at. */
  at?: Record<string, number>;
}
