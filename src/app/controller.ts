import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigError, describeIssue } from '../config/load-yaml.ts';
import type { BenchEvent, RunRecord } from '../core/record.ts';
import type { RunHandle } from '../orchestrator/engine.ts';
import { applyParams, builtinSequenceDir, countSteps, type LoadedSequence } from '../orchestrator/sequence.ts';
import { exportReport, isExportFormat } from '../report/index.ts';
import { PdfError } from '../report/pdf.ts';
import type {
  BenchController,
  BenchSnapshot,
  ExportedRun,
  ExportFormat,
  InstrumentView,
  RunFilter,
  SequenceView,
  StartRunRequest,
} from '../server/controller.ts';
import {
  BenchBusyError,
  ReportUnavailableError,
  UnknownPromptError,
  UnknownRunError,
  UnknownSequenceError,
  ValidationError,
} from '../server/errors.ts';
import { LiveState } from '../server/live-state.ts';
import { isUnknownRun } from '../store/index.ts';
import { type AppContext, loadSequenceFor, startSequenceRun } from './context.ts';
import { softwareInfo } from './software.ts';

/**
 * The real BenchController behind the server: one station, one run at a time, the store for history, the
 * event bus folded into a live snapshot for new WebSocket clients.
 */
export class AppController implements BenchController {
  private readonly ctx: AppContext;
  private readonly live: LiveState;
  private current: RunHandle | null = null;
  private readonly listeners = new Set<(e: BenchEvent) => void>();
  private readonly sequenceDir: string;

  constructor(ctx: AppContext, opts: { sequenceDir?: string } = {}) {
    this.ctx = ctx;
    this.sequenceDir = opts.sequenceDir ?? builtinSequenceDir();
    const g = ctx.geometry;
    this.live = new LiveState({
      station: ctx.stationConfig.name,
      geometry: {
        rows: g.rows,
        cols: g.cols,
        lanes: g.all.length,
        order: ctx.stationConfig.lanes?.order ?? 'row-major',
        spares: [...g.spares],
      },
      instruments: this.instruments(),
    });
    // Fold first, then fan out: a snapshot taken inside a listener already holds the event.
    ctx.bus.on((e) => {
      this.live.apply(e);
      for (const l of this.listeners) l(e);
    });
  }

  health() {
    return { ok: true, station: this.ctx.stationConfig.name, version: softwareInfo().version, running: this.running() };
  }

  instruments(): InstrumentView[] {
    return this.ctx.station
      .instruments()
      .map((i) => ({ role: i.role, resource: i.resource, state: i.state, identity: i.identity }));
  }

  sequences(): SequenceView[] {
    const out: SequenceView[] = [];
    for (const f of readdirSync(this.sequenceDir)
      .filter((n) => n.endsWith('.yaml'))
      .sort()) {
      try {
        const s = loadSequenceFor(this.ctx, join(this.sequenceDir, f));
        out.push({
          name: s.name,
          file: f,
          description: s.description,
          steps: countSteps(s.steps),
          dutRequired: s.dutRequired,
        });
      } catch {
        // a sequence that does not load is not offered
      }
    }
    return out;
  }

  /** `dut`, `operator`, lot, wafer and die come checked and trimmed (checkRunLabel, checkDutOrigin). */
  async startRun(req: StartRunRequest): Promise<{ id: string }> {
    const running = this.running();
    if (running) throw new BenchBusyError(running);
    let seq: LoadedSequence;
    const file = this.sequences().find(
      (s) => s.name === req.sequence || s.file === req.sequence || s.file === `${req.sequence}.yaml`,
    );
    if (!file) throw new UnknownSequenceError(req.sequence);
    try {
      seq = loadSequenceFor(this.ctx, join(this.sequenceDir, file.file));
    } catch (err) {
      if (err instanceof ConfigError) throw new ValidationError('sequence', err.message);
      throw err;
    }
    if (req.params !== undefined) {
      // { "<stepId>": { <param>: value } } merged over the sequence's params, checked as the loader checks a file
      try {
        seq = applyParams(seq, req.params, this.ctx.registry, this.ctx.loadContext);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        const first = err.issues[0]!;
        throw new ValidationError(first.path || 'params', err.issues.map(describeIssue).join('; '));
      }
    }
    const { dut, operator, lot, wafer, die } = req;
    const handle = startSequenceRun(this.ctx, seq, { dut, operator, lot, wafer, die });
    this.current = handle;
    void handle.done.finally(() => {
      if (this.current === handle) this.current = null;
    });
    return { id: handle.id };
  }

  async abortRun(id: string, by: string): Promise<void> {
    if (this.current?.id === id) {
      await this.current.abort(by);
      return;
    }
    if (!this.getRun(id)) throw new UnknownRunError(id);
    throw new BenchBusyError(this.running(), `run ${id} is not running`);
  }

  async answerPrompt(runId: string, promptId: string, answer: unknown, by: string): Promise<void> {
    if (this.current?.id !== runId) {
      if (!this.getRun(runId)) throw new UnknownRunError(runId);
      throw new UnknownPromptError(promptId);
    }
    let ok: boolean;
    try {
      ok = this.ctx.prompts.answer(promptId, answer, by);
    } catch (err) {
      throw new ValidationError('answer', (err as Error).message);
    }
    if (!ok) throw new UnknownPromptError(promptId);
  }

  listRuns(filter: RunFilter): unknown[] {
    return this.ctx.store.listRuns({
      dut: filter.dut,
      sequence: filter.sequence,
      outcome: filter.outcome as never,
      limit: filter.limit ?? 100,
    });
  }

  getRun(id: string): RunRecord | undefined {
    try {
      return this.ctx.store.getRun(id);
    } catch (err) {
      if (isUnknownRun(err)) return undefined;
      throw err;
    }
  }

  async exportRun(
    id: string,
    format: ExportFormat,
    opts: { signal?: AbortSignal } = {},
  ): Promise<ExportedRun | undefined> {
    const rec = this.getRun(id);
    if (!rec || !isExportFormat(format)) return undefined;
    try {
      const r = await exportReport(rec, format, { signal: opts.signal });
      return { contentType: r.contentType, filename: `${id}.${r.extension}`, body: r.body };
    } catch (err) {
      if (err instanceof PdfError) throw new ReportUnavailableError(`no PDF of run ${id}: ${err.message}`);
      throw err;
    }
  }

  snapshot(): BenchSnapshot {
    return this.live.snapshot();
  }

  onEvent(listener: (e: BenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** The run in progress, if any, so a shutdown can abort it. */
  get active(): RunHandle | null {
    return this.current;
  }

  private running(): string | null {
    return this.current && !this.current.aborting ? this.current.id : (this.current?.id ?? null);
  }
}
