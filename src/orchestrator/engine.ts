import { performance } from 'node:perf_hooks';
import pino, { type Logger } from 'pino';
import { AbortedError, errorMessage, isAbortError } from '../core/errors.ts';
import {
  type InstrumentRecord,
  type Measurement,
  type MeasurementSpec,
  type Outcome,
  RECORD_SCHEMA_VERSION,
  type RunRecord,
  type RunSummary,
  type StepPlan,
  type TranscriptEntry,
  type Verdict,
} from '../core/record.ts';
import type { RunStore } from '../store/types.ts';
import type { EventBus } from './bus.ts';
import { createLaneState, laneMapRecord } from './lanes.ts';
import { judge, worst } from './limits.ts';
import type { PromptBroker } from './prompts.ts';
import type { LoadedSequence, Watch } from './sequence.ts';
import type {
  BenchInstruments,
  LaneGeometry,
  LaneState,
  LaneValues,
  SequenceStep,
  StepContext,
  StepDefinition,
} from './step.ts';
import { benchClock } from './step.ts';

export interface SafeStateResult {
  role: string;
  ok: boolean;
  ms: number;
  error?: string;
}

export interface EngineDeps {
  instruments: BenchInstruments;
  /** Brings every instrument to its safe state, in parallel, within `timeoutMs`; never throws. */
  safeState(timeoutMs: number): Promise<SafeStateResult[]>;
  instrumentRecords(): InstrumentRecord[];
  geometry: LaneGeometry;
  store: RunStore;
  bus: EventBus;
  registry: ReadonlyMap<string, StepDefinition>;
  prompts: PromptBroker;
  /** SCPI transcript entries of every instrument, persisted with the run (bounded by the store). */
  transcripts?: { subscribe(listener: (e: TranscriptEntry) => void): () => void };
  logger?: Logger;
  /** Bound on bringing the bench to its safe state after abort, error or completion. Default 800 ms. */
  safeStateTimeoutMs?: number;
}

export interface RunRequest {
  sequence: LoadedSequence;
  dut: string;
  operator: string;
  station: { name: string; snapshot: unknown };
  software: { version: string; revision?: string };
}

export interface RunHandle {
  readonly id: string;
  /** Resolves with the finished record; never rejects. */
  readonly done: Promise<RunRecord>;
  /** Requests an abort; resolves once the bench is safe and the record is finished. Safe to call twice. */
  abort(by: string): Promise<void>;
  readonly aborting: boolean;
}

class StepError extends Error {}

/** Starts a run of a loaded sequence; returns at once with the run id. */
export function startRun(deps: EngineDeps, req: RunRequest): RunHandle {
  const runner = new Runner(deps, req);
  return runner.handle;
}

interface StepTally {
  failingLanes: Set<number>;
  scalarFail: boolean;
  verdicts: Verdict[];
}

class Runner {
  readonly handle: RunHandle;
  private readonly deps: EngineDeps;
  private readonly req: RunRequest;
  private readonly log: Logger;
  private readonly controller = new AbortController();
  private readonly lanes: LaneState;
  private readonly shared = new Map<string, unknown>();
  private readonly id: string;
  private readonly startedAtMs = Date.now();
  /** Set once the record is being finished: a late abort request changes nothing. */
  private finished = false;
  private stepIndex = 0;
  private abortedBy: string | undefined;
  private abortRequestedAt = 0;
  private safeStatePromise: Promise<SafeStateResult[]> | null = null;
  private readonly failedSteps: { id: string; tally: StepTally }[] = [];
  private remapPassed = false;
  private readonly repairedSteps: { step: string; lanes: number[] }[] = [];
  private energyPerBit: number | undefined;
  /** Per lane: its tightest BER upper bound, preferring nominal conditions. */
  private readonly berBound = new Map<number, { value: number; nominal: boolean }>();
  private transcriptBuffer: TranscriptEntry[] = [];
  private readonly steps: SequenceStep[];

  constructor(deps: EngineDeps, req: RunRequest) {
    this.deps = deps;
    this.req = req;
    this.steps = req.sequence.steps;
    this.log = (deps.logger ?? pino({ level: 'silent' })).child({ sequence: req.sequence.name });
    this.lanes = createLaneState(deps.geometry);
    this.id = deps.store.createRun({
      sequence: {
        name: req.sequence.name,
        version: req.sequence.version,
        hash: req.sequence.hash,
        file: req.sequence.file,
      },
      station: req.station,
      dut: req.dut,
      operator: req.operator,
      software: req.software,
      instruments: deps.instrumentRecords(),
    });
    const done = this.run();
    const self = this;
    this.handle = {
      id: this.id,
      done,
      get aborting() {
        return self.abortedBy !== undefined;
      },
      abort: async (by: string) => {
        self.requestAbort(by);
        await done;
      },
    };
  }

  private requestAbort(by: string): void {
    if (this.abortedBy !== undefined || this.finished) return;
    this.abortedBy = by;
    this.abortRequestedAt = performance.now();
    this.deps.store.recordAbort(this.id, { requestedAt: new Date().toISOString(), by });
    this.emitLog('warn', `abort requested by ${by}: bringing instruments to their safe state`);
    this.controller.abort(new AbortedError(`run aborted by ${by}`));
    // Do not wait for the step to unwind: make the bench safe now, in parallel.
    this.safeStatePromise = this.deps.safeState(this.deps.safeStateTimeoutMs ?? 800);
  }

  private async run(): Promise<RunRecord> {
    const { bus, store } = this.deps;
    const unsubscribe = this.deps.transcripts?.subscribe((e) => this.transcriptBuffer.push(e));
    bus.emit({
      type: 'run.started',
      run: {
        id: this.id,
        sequence: { name: this.req.sequence.name, version: this.req.sequence.version, hash: this.req.sequence.hash },
        dut: this.req.dut,
        operator: this.req.operator,
        startedAt: new Date().toISOString(),
      },
      steps: this.plan(this.steps),
    });
    let outcome: Outcome = 'PASS';
    let error: string | undefined;
    try {
      await this.runSteps(this.steps, {});
      outcome = this.outcomeFromVerdicts();
    } catch (err) {
      if (this.abortedBy !== undefined || isAbortError(err)) {
        outcome = 'ABORTED';
        error = this.abortedBy ? `aborted by ${this.abortedBy}` : errorMessage(err);
      } else {
        outcome = 'ERROR';
        error = errorMessage(err);
        this.emitLog('error', error);
      }
    } finally {
      unsubscribe?.();
    }
    this.finished = true;
    // Whatever happened, the bench ends safe, within a bounded time.
    const safe = await (this.safeStatePromise ?? this.deps.safeState(this.deps.safeStateTimeoutMs ?? 800));
    const safeMs = this.abortedBy !== undefined ? Math.round(performance.now() - this.abortRequestedAt) : undefined;
    for (const s of safe) {
      bus.emit({
        type: 'instrument',
        role: s.role,
        state: s.ok ? 'safe' : `safe state failed: ${s.error ?? 'unknown'}`,
      });
    }
    if (this.abortedBy !== undefined) {
      store.recordAbort(this.id, {
        requestedAt: new Date(Date.now() - (safeMs ?? 0)).toISOString(),
        by: this.abortedBy,
        safeStateMs: safeMs,
      });
      this.emitLog('warn', `instruments safe ${safeMs} ms after the abort request`);
    }
    this.flushTranscript();
    const summary = this.summary();
    try {
      store.setLaneMap(this.id, laneMapRecord(this.lanes));
      store.finishRun(this.id, { outcome, summary, error });
    } catch (err) {
      // Disk full, read-only: say so loudly. What was written before stays; the run is not reported as passed.
      outcome = 'ERROR';
      error = `the results store failed while finishing the run (${errorMessage(err)}); ${error ?? 'everything measured before that is kept'}`;
      this.emitLog('error', error);
      try {
        store.finishRun(this.id, { outcome, summary, error });
      } catch {
        /* the store is unusable; the record below says what happened */
      }
    }
    bus.emit({ type: 'run.finished', runId: this.id, outcome, summary, error });
    try {
      return store.getRun(this.id);
    } catch {
      return this.fallbackRecord(outcome, summary, error);
    }
  }

  /** The record as far as this process knows it, when the store cannot give it back. */
  private fallbackRecord(outcome: Outcome, summary: RunSummary, error: string | undefined): RunRecord {
    return {
      schema: RECORD_SCHEMA_VERSION,
      id: this.id,
      sequence: { name: this.req.sequence.name, version: this.req.sequence.version, hash: this.req.sequence.hash },
      station: this.req.station,
      dut: this.req.dut,
      operator: this.req.operator,
      software: this.req.software,
      startedAt: new Date(this.startedAtMs).toISOString(),
      finishedAt: new Date().toISOString(),
      outcome,
      summary,
      error,
      instruments: this.deps.instrumentRecords(),
      steps: [],
      laneMap: laneMapRecord(this.lanes),
      holds: [],
      prompts: [],
    };
  }

  private plan(steps: readonly SequenceStep[]): StepPlan[] {
    const out: StepPlan[] = [];
    let i = 0;
    const walk = (list: readonly SequenceStep[]) => {
      for (const s of list) {
        out.push({ index: i++, id: s.id, name: s.name, type: s.type, measurements: this.specs(s) });
        walk(s.steps);
      }
    };
    walk(steps);
    return out;
  }

  private specs(step: SequenceStep): MeasurementSpec[] {
    const def = this.deps.registry.get(step.type)!;
    return def.measurements(step.params as never, this.deps.geometry).map((m) => ({
      ...m,
      limits: step.limits[m.name] ? { ...m.limits, ...step.limits[m.name] } : m.limits,
    }));
  }

  private async runSteps(steps: readonly SequenceStep[], at: Record<string, number>): Promise<void> {
    for (const step of steps) {
      if (this.controller.signal.aborted) throw this.controller.signal.reason;
      await this.holdWhileOutOfBand(step);
      await this.runStep(step, at);
    }
  }

  private async runStep(step: SequenceStep, at: Record<string, number>): Promise<void> {
    const { store, bus, registry } = this.deps;
    const def = registry.get(step.type)!;
    const specs = this.specs(step);
    const index = this.stepIndex++;
    const startedAt = new Date().toISOString();
    store.appendStep(this.id, { index, id: step.id, name: step.name, type: step.type, startedAt });
    bus.emit({
      type: 'step.started',
      runId: this.id,
      step: { index, id: step.id, name: step.name, type: step.type, measurements: specs },
    });
    let tally: StepTally = { failingLanes: new Set(), scalarFail: false, verdicts: [] };
    let stepError: string | undefined;
    let attempts = 0;
    for (;;) {
      attempts++;
      tally = { failingLanes: new Set(), scalarFail: false, verdicts: [] };
      const stepSignal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(step.timeoutS * 1000)]);
      const ctx = this.context(step, specs, stepSignal, at, tally);
      try {
        await def.run(ctx, step.params as never, step.steps);
        stepError = undefined;
        break;
      } catch (err) {
        if (this.controller.signal.aborted) {
          this.finishStep(step, index, 'SKIPPED', attempts, 'aborted');
          throw this.controller.signal.reason;
        }
        const timedOut = stepSignal.aborted;
        stepError = timedOut ? `step ${step.id} exceeded its time limit of ${step.timeoutS} s` : errorMessage(err);
        if (err instanceof StepError || attempts > step.retries) break;
        this.emitLog('warn', `step ${step.id} attempt ${attempts} failed: ${stepError}; retrying`);
      }
    }
    this.flushTranscript();
    store.setLaneMap(this.id, laneMapRecord(this.lanes));
    if (stepError !== undefined) {
      this.finishStep(step, index, 'ERROR', attempts, stepError);
      throw new StepError(`step ${step.id} (${step.type}): ${stepError}`);
    }
    const verdict = worst(tally.verdicts);
    if (verdict === 'FAIL') this.failedSteps.push({ id: step.id, tally });
    if (step.type === 'remap' && verdict !== 'FAIL') this.remapPassed = true;
    this.finishStep(step, index, verdict, attempts);
  }

  private finishStep(step: SequenceStep, index: number, verdict: Verdict, attempts: number, error?: string): void {
    this.deps.store.finishStep(this.id, step.id, { verdict, attempts, error, finishedAt: new Date().toISOString() });
    this.deps.bus.emit({ type: 'step.finished', runId: this.id, step: step.id, verdict, error });
    this.log.info({ step: step.id, index, verdict, attempts }, error ?? 'step finished');
  }

  /** FAIL when a step failed, unless every lane it failed on was remapped to a spare by a remap step that passed. */
  private outcomeFromVerdicts(): Outcome {
    const active = new Set(this.lanes.active());
    for (const f of this.failedSteps) {
      const repaired =
        this.remapPassed &&
        !f.tally.scalarFail &&
        f.tally.failingLanes.size > 0 &&
        [...f.tally.failingLanes].every((l) => !active.has(l));
      if (!repaired) return 'FAIL';
      const lanes = [...f.tally.failingLanes].sort((a, b) => a - b);
      this.repairedSteps.push({ step: f.id, lanes });
      this.emitLog('info', `step ${f.id} failed on lanes ${lanes.join(', ')}; all remapped to spares and re-tested`);
    }
    return 'PASS';
  }

  private context(
    step: SequenceStep,
    specs: MeasurementSpec[],
    signal: AbortSignal,
    at: Record<string, number>,
    tally: StepTally,
  ): StepContext {
    const { store, bus } = this.deps;
    const byName = new Map(specs.map((s) => [s.name, s]));
    const t0 = performance.now();
    const runId = this.id;
    return {
      runId,
      stepId: step.id,
      instruments: this.deps.instruments,
      geometry: this.deps.geometry,
      lanes: this.lanes,
      signal,
      at,
      shared: this.shared,
      measure: (name, value, extra) => {
        const spec = byName.get(name);
        if (!spec)
          throw new StepError(
            `step ${step.id} recorded "${name}", which it did not declare (declared: ${[...byName.keys()].join(', ')})`,
          );
        const m = this.buildMeasurement(spec, value, extra ? { ...at, ...extra } : at, tally);
        store.addMeasurement(runId, step.id, m); // persisted before it is streamed
        bus.emit({ type: 'measurement', runId, step: step.id, measurement: m });
        if (m.kind === 'lanes') {
          bus.emit({
            type: 'lanes',
            runId,
            step: step.id,
            metric: spec.name,
            unit: spec.unit,
            lanes: m.lanes,
            values: m.values,
          });
          if (spec.name === 'ber_upper_bound') {
            // A lane's evidence is its tightest bound; nominal conditions (no sweep coordinates) come first.
            const nominal = m.at === undefined;
            m.lanes.forEach((l, i) => {
              const v = m.values[i] ?? 1;
              const prev = this.berBound.get(l);
              if (!prev || (nominal && !prev.nominal) || (nominal === prev.nominal && v < prev.value)) {
                this.berBound.set(l, { value: v, nominal });
              }
            });
          }
        } else if (spec.name === 'energy_per_bit' && m.value !== null) this.energyPerBit = m.value;
        return m.verdict;
      },
      lanesFrame: (metric, unit, data) => {
        bus.emit({
          type: 'lanes',
          runId,
          step: step.id,
          metric,
          unit,
          lanes: [...data.lanes],
          values: [...data.values],
        });
      },
      progress: (done, total) => {
        const elapsed = (performance.now() - t0) / 1000;
        const etaS = done > 0 && total > done ? (elapsed / done) * (total - done) : undefined;
        bus.emit({ type: 'progress', runId, step: step.id, done, total, etaS });
      },
      log: (level, msg) => this.emitLog(level, `${step.id}: ${msg}`),
      prompt: async (kind, message) => {
        const { prompt, answer } = this.deps.prompts.ask({ step: step.id, kind, message }, signal);
        store.addPrompt(runId, prompt);
        bus.emit({ type: 'prompt', runId, prompt });
        const a = await answer;
        store.answerPrompt(runId, prompt.id, {
          answer: a.answer,
          answeredBy: a.by,
          answeredAt: new Date().toISOString(),
        });
        this.emitLog('info', `prompt "${message}" answered ${String(a.answer)} by ${a.by}`);
        return a.answer;
      },
      sleep: (ms) => abortableSleep(ms, signal),
      runSteps: (steps, extra) => this.runSteps(steps, { ...at, ...extra }),
    };
  }

  private buildMeasurement(
    spec: MeasurementSpec,
    value: number | null | LaneValues,
    at: Record<string, number>,
    tally: StepTally,
  ): Measurement {
    const atField = Object.keys(at).length > 0 ? { ...at } : undefined;
    if (value === null || typeof value === 'number') {
      const verdict = judge(value, spec.limits);
      tally.verdicts.push(verdict);
      if (verdict === 'FAIL') tally.scalarFail = true;
      return { kind: 'scalar', spec, value, verdict, at: atField };
    }
    const active = new Set(this.lanes.active());
    const lanes = [...value.lanes];
    const values = value.values.map((v) => (v === null || Number.isNaN(v) ? null : v));
    const verdicts = values.map((v) => judge(v, spec.limits));
    const counted: Verdict[] = [];
    lanes.forEach((lane, i) => {
      if (!active.has(lane)) return; // spares not in use do not decide the verdict
      counted.push(verdicts[i]!);
      if (verdicts[i] === 'FAIL') {
        tally.failingLanes.add(lane);
        if (!this.lanes.failed.has(lane)) this.lanes.failed.set(lane, spec.name);
      }
    });
    const verdict = worst(counted);
    tally.verdicts.push(verdict);
    return { kind: 'lanes', spec, lanes, values, verdicts, verdict, at: atField };
  }

  private async holdWhileOutOfBand(step: SequenceStep): Promise<void> {
    for (const w of this.req.sequence.watch) {
      let value = await this.readWatch(w);
      if (value >= w.band[0] && value <= w.band[1]) continue;
      const startedAt = new Date().toISOString();
      const hold = { step: step.id, watched: w.source, startedAt, value, band: w.band as [number, number] };
      const holdId = this.deps.store.addHold(this.id, hold);
      this.deps.bus.emit({ type: 'hold', runId: this.id, hold });
      this.emitLog(
        'warn',
        `hold before ${step.id}: ${w.source} ${value.toFixed(3)} outside [${w.band[0]}, ${w.band[1]}]`,
      );
      // pollS and settleS are instrument time: a watched temperature or power moves on the instruments' clock
      const clock = benchClock(this.deps.instruments);
      let inBandSince: number | null = null;
      for (;;) {
        await clock.sleep(w.pollS, this.controller.signal);
        value = await this.readWatch(w);
        const inside = value >= w.band[0] && value <= w.band[1];
        if (!inside) inBandSince = null;
        else if (inBandSince === null) inBandSince = clock.now();
        if (inBandSince !== null && clock.now() - inBandSince >= w.settleS) break;
      }
      const endedAt = new Date().toISOString();
      this.deps.store.updateHold(this.id, holdId, { endedAt, value });
      this.deps.bus.emit({ type: 'hold', runId: this.id, hold: { ...hold, endedAt, value } });
      this.emitLog('info', `hold ended: ${w.source} back in band and settled for ${w.settleS} s`);
    }
  }

  private async readWatch(w: Watch): Promise<number> {
    const signal = this.controller.signal;
    if (w.source === 'temperature') return this.deps.instruments.thermal().temperature({ signal });
    const p = await this.deps.instruments.receiver().receivedPower(this.lanes.active(), { signal });
    const dbm = p.map((x) => 10 * Math.log10(Math.max(x, 1e-15) / 1e-3)).sort((a, b) => a - b);
    return dbm[Math.floor(dbm.length / 2)] ?? Number.NEGATIVE_INFINITY;
  }

  private summary(): RunSummary {
    const active = this.lanes.active();
    let worstBer: number | undefined;
    let worstLane: number | undefined;
    for (const lane of active) {
      const b = this.berBound.get(lane)?.value;
      if (b !== undefined && (worstBer === undefined || b > worstBer)) {
        worstBer = b;
        worstLane = lane;
      }
    }
    return {
      energyPerBitPj: this.energyPerBit,
      lanesActive: active.filter((l) => !this.lanes.dead.has(l)).length,
      lanesDead: this.lanes.dead.size,
      lanesRemapped: this.lanes.remapped.length,
      worstBerUpperBound: worstBer,
      worstLane,
      ...(this.repairedSteps.length > 0 ? { repairedSteps: this.repairedSteps } : {}),
    };
  }

  private flushTranscript(): void {
    if (this.transcriptBuffer.length === 0) return;
    const entries = this.transcriptBuffer;
    this.transcriptBuffer = [];
    this.deps.store.appendTranscript(this.id, entries);
  }

  private emitLog(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void {
    this.log[level](msg);
    this.deps.bus.emit({ type: 'log', level, msg, runId: this.id });
  }
}

export function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(t);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
