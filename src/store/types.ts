/**
 * The results store contract. SQLite (sqlite-store.ts) is the default implementation; a shared server
 * database for labs with many benches can implement the same interface.
 *
 * Every write method is synchronous and returns only after the write is committed, or, inside `batch()`,
 * queued in a transaction that is committed before `batch()` returns. Callers stream a measurement only
 * after the call (or the enclosing batch) returned: "persisted before streamed".
 */
import type {
  BenchSafety,
  HoldRecord,
  InstrumentRecord,
  LaneMapRecord,
  Measurement,
  Outcome,
  PromptRecord,
  RunRecord,
  RunStatus,
  RunSummary,
  StepRecord,
  TranscriptEntry,
  Verdict,
} from '../core/record.ts';

export type { StoreErrorCode } from './errors.ts';
export { isUnknownRun, StoreError, UnknownRunError } from './errors.ts';

/** What is known when a run starts. */
export interface RunHeader {
  /** Optional: the store generates a sortable id (see newRunId) when absent. */
  id?: string;
  sequence: RunRecord['sequence'];
  station: RunRecord['station'];
  dut: string;
  /** The DUT's lot, wafer and die position, when known (checked by checkDutOrigin). */
  lot?: string;
  wafer?: string;
  die?: RunRecord['die'];
  operator: string;
  software: RunRecord['software'];
  /** ISO 8601; defaults to now. */
  startedAt?: string;
  instruments?: InstrumentRecord[];
  /** What `cpobench resume` needs to continue the run after the controller stopped (see RunResumeInfo). */
  resume?: Pick<RunResumeInfo, 'fingerprint' | 'launch'>;
}

/** Kept with a run so it can be continued on the same station (`cpobench resume`). */
export interface RunResumeInfo {
  /** What identifies the station (instruments by identity and driver, lanes, a simulated bench's profile and seed). */
  fingerprint?: unknown;
  /** How the bench was opened (station file, or simulated profile and its options), to open it again. */
  launch?: unknown;
  /** When the run was resumed, oldest first. */
  resumes: string[];
}

/** A step as it starts: StepRecord without results. */
export type StepStart = Pick<StepRecord, 'index' | 'id' | 'name' | 'type' | 'startedAt' | 'at'>;

export interface StepFinish {
  finishedAt?: string;
  verdict: Verdict;
  error?: string;
  attempts?: number;
}

export interface RunFinish {
  outcome: Outcome;
  finishedAt?: string;
  summary?: RunSummary;
  error?: string;
}

export interface PromptAnswer {
  answer: string | number | boolean;
  answeredAt?: string;
  answeredBy?: string;
}

export interface RunFilter {
  dut?: string;
  /** Sequence name. */
  sequence?: string;
  outcome?: RunStatus;
  /** Runs started at or after (ISO 8601 or Date). */
  since?: string | Date;
  /** Runs started before (ISO 8601 or Date). */
  until?: string | Date;
  /** Default 100. */
  limit?: number;
}

/** One line of run history (listRuns). */
export interface RunListItem {
  id: string;
  sequence: string;
  sequenceVersion?: string;
  sequenceHash: string;
  station: string;
  dut: string;
  operator: string;
  startedAt: string;
  finishedAt?: string;
  outcome: RunStatus;
  error?: string;
  /** Energy per bit, lane counts, worst BER: the run's summary once it finished. */
  summary?: RunRecord['summary'];
}

export interface TranscriptPage {
  /** The kept entries, oldest first (at most the store's transcript limit). */
  entries: TranscriptEntry[];
  /** Entries appended in total; total - entries.length were dropped by the bound. */
  total: number;
  dropped: number;
}

/** Comparison of one measurement (matched by step id, name, coordinates and occurrence) in two runs. */
export interface MeasurementDiff {
  step: string;
  name: string;
  unit: string;
  kind: Measurement['kind'];
  at?: Record<string, number>;
  verdictA?: Verdict;
  verdictB?: Verdict;
  /** Scalars: the values; lane arrays: the mean over lanes with a value. */
  a?: number | null;
  b?: number | null;
  delta?: number | null;
  /** Lane arrays only. */
  lanes?: {
    /** Lanes failing (FAIL) in b but not in a, and the reverse. */
    newFailures: number[];
    fixed: number[];
    /** Largest |b - a| over lanes present in both, and its lane. */
    maxAbsDelta: number | null;
    maxAbsDeltaLane?: number;
  };
  /** Present in only one run. */
  only?: 'a' | 'b';
}

export interface RunComparison {
  a: RunListItem;
  b: RunListItem;
  sameDut: boolean;
  sameSequence: boolean;
  steps: { id: string; name: string; verdictA?: Verdict; verdictB?: Verdict }[];
  measurements: MeasurementDiff[];
  /** Measurements whose verdict differs between the runs. */
  verdictChanges: number;
}

export interface RunStore {
  /** Where the data lives (a file path for SQLite). */
  readonly location: string;

  /** Starts a run (outcome RUNNING, owned by this process). Throws StoreError if it cannot be written. */
  createRun(header: RunHeader): string;
  setInstruments(runId: string, instruments: InstrumentRecord[]): void;
  appendStep(runId: string, step: StepStart): void;
  finishStep(runId: string, stepId: string, finish: StepFinish): void;
  /** Attaches to the latest step with that id. Lane arrays are one row (packed), not one per lane. */
  addMeasurement(runId: string, stepId: string, measurement: Measurement): void;
  setLaneMap(runId: string, laneMap: LaneMapRecord): void;
  /** Returns a handle for updateHold. */
  addHold(runId: string, hold: HoldRecord): number;
  updateHold(runId: string, holdId: number, patch: Partial<Pick<HoldRecord, 'endedAt' | 'value'>>): void;
  addPrompt(runId: string, prompt: PromptRecord): void;
  answerPrompt(runId: string, promptId: string, answer: PromptAnswer): void;
  recordAbort(runId: string, abort: NonNullable<RunRecord['abort']>): void;
  /** The bench's safe state as read back before the first step ('start') or after the run ('end'). */
  recordSafeState(runId: string, phase: 'start' | 'end', check: BenchSafety): void;
  /** Bounded: keeps the last N entries of each run. */
  appendTranscript(runId: string, entries: TranscriptEntry | TranscriptEntry[]): void;
  finishRun(runId: string, finish: RunFinish): void;

  /** Runs fn in one transaction: many lane frames, one commit. Nested calls join the outer transaction. */
  batch<T>(fn: () => T): T;

  /** The full record. Throws UnknownRunError. */
  getRun(runId: string): RunRecord;
  getTranscript(runId: string, opts?: { limit?: number }): TranscriptPage;
  /** Newest first. */
  listRuns(filter?: RunFilter): RunListItem[];
  compareRuns(a: string, b: string): RunComparison;
  /** The run's resume information (fields absent for runs stored before it was kept). Throws UnknownRunError. */
  getResumeInfo(runId: string): RunResumeInfo;
  /**
   * Takes over an INTERRUPTED run to continue it: RUNNING again, owned by this process, finish time, error and
   * summary cleared, the resume time noted, the instruments replaced. Everything recorded stays. Throws
   * StoreError NOT_INTERRUPTED for a run in any other state, atomically (two resumers: one wins).
   */
  reopenRun(runId: string, instruments?: InstrumentRecord[]): void;
  /** Marks RUNNING runs whose owning process is gone as INTERRUPTED; returns their ids. Called on open. */
  markInterrupted(): string[];
  close(): void;
}
