/**
 * The seam between the server and the bench. The server (routes, WebSocket hub) only talks to this
 * interface; the real implementation wraps the orchestrator, the store and the station.
 */
import type { BenchEvent, DutOrigin, RunRecord } from '../core/record.ts';
import type { ExportFormat } from '../report/index.ts';
import type { BenchSnapshot, InstrumentView, LanesFrame, RunView, StepRunView, StepState } from '../shared/snapshot.ts';

export type { BenchSnapshot, InstrumentView, LanesFrame, RunView, StepRunView, StepState };

export interface StartRunRequest extends DutOrigin {
  sequence: string;
  dut: string;
  operator: string;
  /** Per-run step params overrides, `{ "<stepId>": { <param>: value } }`; validated by the controller. */
  params?: Record<string, unknown>;
}

export interface SequenceView {
  name: string;
  file: string;
  description?: string;
  steps: number;
  /** False when the sequence runs without a DUT serial. */
  dutRequired?: boolean;
}

export interface RunFilter {
  dut?: string;
  sequence?: string;
  outcome?: string;
  limit?: number;
}

export { EXPORT_FORMATS, type ExportFormat } from '../report/index.ts';

export interface ExportedRun {
  contentType: string;
  filename: string;
  body: string | Buffer;
}

export interface BenchController {
  health(): { ok: boolean; station: string; version: string; running: string | null };
  instruments(): InstrumentView[];
  sequences(): SequenceView[];
  /** Throws UnknownSequenceError (404), BenchBusyError (409), ValidationError (400 naming the field). */
  startRun(req: StartRunRequest): Promise<{ id: string }>;
  /** Throws UnknownRunError (404); BenchBusyError (409) if the run already finished. */
  abortRun(id: string, by: string): Promise<void>;
  /** Throws UnknownRunError / UnknownPromptError (404), ValidationError (400). */
  answerPrompt(runId: string, promptId: string, answer: unknown, by: string): Promise<void>;
  listRuns(filter: RunFilter): unknown[];
  getRun(id: string): RunRecord | undefined;
  /** undefined for an unknown run. `pdf` may take seconds; `signal` ends it. Throws ReportUnavailableError (503). */
  exportRun(id: string, format: ExportFormat, opts?: { signal?: AbortSignal }): Promise<ExportedRun | undefined>;
  /** Current run state, instruments, last lane frame per metric. Should be a BenchSnapshot. */
  snapshot(): BenchSnapshot | unknown;
  /** Subscribe to bus events; returns unsubscribe. Events must be delivered synchronously, in order. */
  onEvent(listener: (e: BenchEvent) => void): () => void;
}
