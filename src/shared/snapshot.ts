/**
 * What the dashboard is shown of a bench: the snapshot the server's live state folds events into and sends first
 * to every WebSocket client, and its parts. Types only; shared by the server (src/server) and the event fold
 * (fold.js, which the browser imports as-is).
 */
import type {
  BenchEvent,
  BenchSafety,
  LaneMapRecord,
  Measurement,
  PromptRecord,
  RunStatus,
  RunSummary,
  StepPlan,
  Verdict,
} from '../core/record.ts';

export interface InstrumentView {
  role: string;
  resource: string;
  state: string;
  identity?: string;
}

/** The payload of a `lanes` event, as kept in a snapshot (last frame per metric, merged over lanes). */
export type LanesFrame = Omit<Extract<BenchEvent, { type: 'lanes' }>, 'type'>;

export interface StepState {
  state: 'pending' | 'running' | 'done';
  verdict?: Verdict;
  error?: string;
  startedAt?: string;
  finishedAt?: string;
  progress?: { done: number; total: number; etaS?: number; unit?: string; detail?: string; errors?: number };
  /** Coordinates of the run of a nested step now going or last done. */
  at?: Record<string, number>;
}

/** One run of a step (a step nested in a sweep runs once per setpoint), in order. */
export interface StepRunView {
  id: string;
  name: string;
  at?: Record<string, number>;
  state: 'running' | 'done';
  verdict?: Verdict;
  error?: string;
}

export interface RunView {
  id: string;
  sequence: string;
  dut: string;
  operator: string;
  startedAt: string;
  finishedAt?: string;
  outcome: RunStatus;
  summary?: RunSummary;
  error?: string;
  steps: StepPlan[];
  stepStates: Record<string, StepState>;
  /** Every run of every step so far, with coordinates. */
  stepRuns?: StepRunView[];
  /** The lane map as it stands (dead, remapped, spares left), after each step. */
  laneMap?: LaneMapRecord;
  /** Measurements of this run so far, in arrival order (bounded by the producer). */
  measurements: Array<{ step: string; ts: number; measurement: Measurement }>;
  /** Prompts still waiting for an answer. */
  openPrompts: PromptRecord[];
  /** The bench's safe state as last read back (before the first step, then at the end): NOT SAFE names roles. */
  safeState?: BenchSafety;
}

/**
 * What `snapshot()` returns and what a WebSocket client gets first (`{seq, ts, type:'snapshot', ...this}`).
 * `LiveState` (live-state.ts) folds BenchEvents into exactly this shape; a controller may use it.
 */
export interface BenchSnapshot {
  station: string;
  /** Lane array geometry for the lane map, when known. */
  geometry?: { rows: number; cols: number; lanes: number; order?: 'row-major' | 'column-major'; spares?: number[] };
  /** The active run, or the last one since the server started; null before the first run. */
  run: RunView | null;
  instruments: InstrumentView[];
  /** Last `lanes` frame per metric for `run`, merged across partial frames (lanes ascending). */
  lanes: Record<string, LanesFrame>;
  /** Every lane frame of `run` by step, metric and coordinates (`step|metric|temperature=85`), merged likewise. */
  frames?: Record<string, LanesFrame>;
  /** Most recent log lines (bounded). */
  log: Array<{ ts: number; level: string; msg: string }>;
}
