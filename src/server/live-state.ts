/**
 * Folds the event stream into a BenchSnapshot. A controller can feed every event it emits through
 * `apply()` and return `snapshot()`; the dashboard does the same fold in the browser.
 */
import type { BenchEvent } from '../core/record.ts';
import type { BenchSnapshot, InstrumentView, LanesFrame, RunView } from './controller.ts';

export interface LiveStateOptions {
  station: string;
  geometry?: BenchSnapshot['geometry'];
  instruments?: InstrumentView[];
  maxMeasurements?: number;
  maxLog?: number;
}

export class LiveState {
  private run: RunView | null = null;
  private lanes = new Map<string, { frame: LanesFrame; byLane: Map<number, number | null> }>();
  private readonly instruments = new Map<string, InstrumentView>();
  private log: BenchSnapshot['log'] = [];
  private readonly maxMeasurements: number;
  private readonly maxLog: number;

  constructor(private readonly opts: LiveStateOptions) {
    for (const i of opts.instruments ?? []) this.instruments.set(i.role, { ...i });
    this.maxMeasurements = opts.maxMeasurements ?? 2000;
    this.maxLog = opts.maxLog ?? 200;
  }

  get runningId(): string | null {
    return this.run && this.run.outcome === 'RUNNING' ? this.run.id : null;
  }

  apply(e: BenchEvent, ts = Date.now()): void {
    switch (e.type) {
      case 'run.started':
        this.run = {
          id: e.run.id,
          sequence: e.run.sequence.name,
          dut: e.run.dut,
          operator: e.run.operator,
          startedAt: e.run.startedAt,
          outcome: 'RUNNING',
          steps: e.steps,
          stepStates: Object.fromEntries(e.steps.map((s) => [s.id, { state: 'pending' as const }])),
          measurements: [],
          openPrompts: [],
        };
        this.lanes.clear();
        break;
      case 'step.started':
        if (this.run?.id === e.runId) {
          this.run.stepStates[e.step.id] = { state: 'running', startedAt: new Date(ts).toISOString() };
        }
        break;
      case 'progress': {
        const s = this.run?.id === e.runId ? this.run.stepStates[e.step] : undefined;
        if (s) s.progress = { done: e.done, total: e.total, etaS: e.etaS };
        break;
      }
      case 'step.finished': {
        if (this.run?.id !== e.runId) break;
        const prev = this.run.stepStates[e.step];
        this.run.stepStates[e.step] = {
          ...prev,
          state: 'done',
          verdict: e.verdict,
          error: e.error,
          finishedAt: new Date(ts).toISOString(),
        };
        break;
      }
      case 'measurement':
        if (this.run?.id === e.runId) {
          this.run.measurements.push({ step: e.step, ts, measurement: e.measurement });
          if (this.run.measurements.length > this.maxMeasurements) this.run.measurements.shift();
        }
        break;
      case 'lanes': {
        if (this.run && this.run.id !== e.runId) break;
        let entry = this.lanes.get(e.metric);
        if (!entry || entry.frame.step !== e.step) {
          entry = { frame: { ...e, lanes: [], values: [] }, byLane: new Map() };
          this.lanes.set(e.metric, entry);
        }
        for (let i = 0; i < e.lanes.length; i++) entry.byLane.set(e.lanes[i], e.values[i] ?? null);
        entry.frame = { runId: e.runId, step: e.step, metric: e.metric, unit: e.unit, lanes: [], values: [] };
        break;
      }
      case 'safe-state':
        if (this.run?.id === e.runId) this.run.safeState = e.check;
        break;
      case 'run.finished':
        if (this.run?.id === e.runId) {
          this.run.outcome = e.outcome;
          this.run.summary = e.summary;
          this.run.error = e.error;
          if (e.safeState) this.run.safeState = e.safeState;
          this.run.finishedAt = new Date(ts).toISOString();
          this.run.openPrompts = [];
        }
        break;
      case 'instrument': {
        const prev = this.instruments.get(e.role);
        this.instruments.set(e.role, {
          role: e.role,
          resource: e.resource ?? prev?.resource ?? '',
          state: e.state,
          identity: e.identity ?? prev?.identity,
        });
        break;
      }
      case 'prompt':
        if (this.run?.id === e.runId) {
          this.run.openPrompts = this.run.openPrompts.filter((p) => p.id !== e.prompt.id);
          if (e.prompt.answeredAt === undefined) this.run.openPrompts.push(e.prompt);
        }
        break;
      case 'log':
        this.log.push({ ts, level: e.level, msg: e.msg });
        if (this.log.length > this.maxLog) this.log = this.log.slice(-this.maxLog);
        break;
      case 'hold':
        break;
    }
  }

  snapshot(): BenchSnapshot {
    const lanes: Record<string, LanesFrame> = {};
    for (const [metric, { frame, byLane }] of this.lanes) {
      const ids = [...byLane.keys()].sort((a, b) => a - b);
      lanes[metric] = { ...frame, lanes: ids, values: ids.map((l) => byLane.get(l) ?? null) };
    }
    return {
      station: this.opts.station,
      geometry: this.opts.geometry,
      run: this.run ? structuredClone(this.run) : null,
      instruments: [...this.instruments.values()].map((i) => ({ ...i })),
      lanes,
      log: this.log.slice(),
    };
  }
}
