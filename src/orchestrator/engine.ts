import pino, { type Logger } from 'pino';
import { type ClassTargets, checkClass, type DeviceSummary } from '../core/class-check.ts';
import { AbortedError, errorMessage, isAbortError, isProgramError } from '../core/errors.ts';
import {
  type BenchSafety,
  type DutOrigin,
  type InstrumentRecord,
  type Measurement,
  type MeasurementSpec,
  notSafeText,
  type Outcome,
  RECORD_SCHEMA_VERSION,
  type RunRecord,
  type RunSummary,
  type SafeStateReport,
  type StepPlan,
  type StepRecord,
  type TranscriptEntry,
  type Verdict,
} from '../core/record.ts';
import type { RunHeader, RunStore } from '../store/types.ts';
import type { EventBus } from './bus.ts';
import { createLaneState, laneMapRecord, restoreLaneState } from './lanes.ts';
import { worst } from './limits.ts';
import type { PromptBroker } from './prompts.ts';
import type { LoadedSequence, Watch } from './sequence.ts';
import type { BenchInstruments, LaneGeometry, LaneState, SequenceStep, StepContext, StepDefinition } from './step.ts';
import { benchClock } from './step.ts';
import { createStepContext, declaredSpecs, MeasurementError, newTally, type StepTally } from './step-context.ts';

export interface EngineDeps {
  instruments: BenchInstruments;
  /**
   * Brings every instrument to its safe state, in parallel, within `timeoutMs`, and reads it back: an instrument
   * is `safe` only when it confirmed. Should never throw; if it does, the bench counts as NOT SAFE.
   */
  safeState(timeoutMs: number): Promise<SafeStateReport[]>;
  /** Puts the bench where a run starts from once its safe state is confirmed (e.g. DUT rails on). */
  prepare?(signal: AbortSignal): Promise<void>;
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
  /** The device under test (from the station) and its class's targets: the record's "DUT against its class". */
  device?: { summary: DeviceSummary; targets?: ClassTargets };
}

export interface RunRequest {
  sequence: LoadedSequence;
  dut: string;
  operator: string;
  /** The DUT's lot, wafer and die position, when the run was given them (kept in the record). */
  origin?: DutOrigin;
  station: { name: string; snapshot: unknown };
  software: { version: string; revision?: string };
  /** Kept with a new run so `cpobench resume` can continue it on the same station (RunHeader.resume). */
  resume?: RunHeader['resume'];
}

export interface RunHandle {
  readonly id: string;
  /** Resolves with the finished record; never rejects. */
  readonly done: Promise<RunRecord>;
  /** Requests an abort; resolves once the bench is safe and the record is finished. Safe to call twice. */
  abort(by: string): Promise<void>;
  /**
   * Ends the run as ERROR because of a fault outside the run's own flow (an exception thrown by the program
   * itself, e.g. in a callback): the bench goes to its safe state, the record is finished. Resolves like abort.
   */
  fail(err: unknown): Promise<void>;
  readonly aborting: boolean;
}

class StepError extends Error {}

/** After an abort or a fault, steps get this long to unwind before the record is finished without them. */
const UNWIND_MS = 2000;

/**
 * Starts a run of a loaded sequence; returns at once with the run id. With `resume` (an INTERRUPTED run as
 * stored, of the same sequence), continues that run instead (`cpobench resume`): the store takes it over
 * (RUNNING again, everything recorded kept), the lane state is the stored lane map, top-level steps that finished
 * keep their verdicts and measurements and are not run again, the step that was interrupted is continued from
 * what it recorded when its type is resumable (else it runs again from its start, its partial row marked ERROR),
 * and the steps after it run as usual. The run ends with the usual outcome from all of it.
 */
export function startRun(deps: EngineDeps, req: RunRequest, resume?: RunRecord): RunHandle {
  const runner = new Runner(deps, req, resume);
  return runner.handle;
}

/** The top-level steps of a stored run, by step id (the last row of each id). */
function storedTopLevel(rec: RunRecord, steps: readonly SequenceStep[]): Map<string, StepRecord> {
  const ids = new Set(steps.map((s) => s.id));
  const out = new Map<string, StepRecord>();
  for (const s of rec.steps) if (ids.has(s.id)) out.set(s.id, s);
  return out;
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
  /** Set by fail(): the run ends ERROR with this message. */
  private internalError: string | undefined;
  private abortSafeState: Promise<BenchSafety> | null = null;
  private readonly failedSteps: { id: string; tally: StepTally }[] = [];
  /** A lane-repairing step (StepDefinition.repairsLanes) passed. */
  private repairPassed = false;
  private readonly repairedSteps: { step: string; lanes: number[] }[] = [];
  private energyPerBit: number | undefined;
  /** The largest drop of the median lane's p_op against the first L-I of the run (a temperature sweep), dB. */
  private worstDriftDb: number | undefined;
  /** Per lane: its tightest BER upper bound, preferring nominal conditions. */
  private readonly berBound = new Map<number, { value: number; nominal: boolean }>();
  private transcriptBuffer: TranscriptEntry[] = [];
  private readonly steps: SequenceStep[];
  /** A resumed run: its top-level steps as stored, by id. */
  private readonly stored: Map<string, StepRecord> | undefined;

  constructor(deps: EngineDeps, req: RunRequest, resume?: RunRecord) {
    this.deps = deps;
    this.req = req;
    this.steps = req.sequence.steps;
    this.log = (deps.logger ?? pino({ level: 'silent' })).child({ sequence: req.sequence.name });
    if (resume) {
      this.lanes = restoreLaneState(deps.geometry, resume.laneMap);
      this.stored = storedTopLevel(resume, this.steps);
      this.stepIndex = Math.max(-1, ...resume.steps.map((s) => s.index)) + 1;
      // what finished steps told the summary still counts
      for (const st of resume.steps) for (const m of st.measurements) this.noteForSummary(m);
      deps.store.reopenRun(resume.id, deps.instrumentRecords());
      this.id = resume.id;
    } else {
      this.lanes = createLaneState(deps.geometry);
      this.stored = undefined;
      this.id = deps.store.createRun({
        sequence: {
          name: req.sequence.name,
          version: req.sequence.version,
          hash: req.sequence.hash,
          file: req.sequence.file,
        },
        station: req.station,
        dut: req.dut,
        ...req.origin,
        operator: req.operator,
        software: req.software,
        instruments: deps.instrumentRecords(),
        ...(req.resume ? { resume: req.resume } : {}),
      });
    }
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
      fail: async (err: unknown) => {
        if (!self.finished && self.internalError === undefined && self.abortedBy === undefined) {
          self.internalError = `cpobench internal error: ${errorMessage(err)}`;
          self.emitLog('error', `${self.internalError}; bringing instruments to their safe state`);
          self.controller.abort(new AbortedError(self.internalError));
          self.abortSafeState = self.checkSafeState();
        }
        await done;
      },
    };
  }

  private requestAbort(by: string): void {
    if (this.abortedBy !== undefined || this.internalError !== undefined || this.finished) return;
    this.abortedBy = by;
    this.tryStore('recordAbort', () =>
      this.deps.store.recordAbort(this.id, { requestedAt: new Date().toISOString(), by }),
    );
    this.emitLog('warn', `abort requested by ${by}: bringing instruments to their safe state`);
    this.controller.abort(new AbortedError(`run aborted by ${by}`));
    // Do not wait for the step to unwind: make the bench safe now, in parallel.
    this.abortSafeState = this.checkSafeState();
  }

  /**
   * Rejects UNWIND_MS after the run's signal fires: a step that ignores its abort signal (a bug) cannot keep the
   * record from being finished. The bench does not wait for it: the safe state started when the signal fired.
   */
  private unwindDeadline(): Promise<never> {
    const signal = this.controller.signal;
    const p = new Promise<never>((_, reject) => {
      const arm = () => {
        const t = setTimeout(
          () =>
            reject(
              new StepError(`a step did not stop within ${UNWIND_MS} ms of the abort; the run was finished without it`),
            ),
          UNWIND_MS,
        );
        t.unref();
      };
      if (signal.aborted) arm();
      else signal.addEventListener('abort', arm, { once: true });
    });
    p.catch(() => undefined); // unused when the steps finish first
    return p;
  }

  /**
   * Every instrument to its safe state, read back, bounded. Never throws: a fault in our own safe-state code
   * counts as NOT SAFE for every instrument, with the reason.
   */
  private async checkSafeState(): Promise<BenchSafety> {
    const at = new Date().toISOString();
    let instruments: SafeStateReport[];
    try {
      instruments = await this.deps.safeState(this.deps.safeStateTimeoutMs ?? 800);
    } catch (err) {
      instruments = [{ role: 'bench', safe: false, ms: 0, error: `safe state could not run: ${errorMessage(err)}` }];
    }
    return { at, safe: instruments.length > 0 && instruments.every((i) => i.safe), instruments };
  }

  /** Stores, streams and logs one safe-state check; false when the store could not keep it. */
  private reportSafeState(phase: 'start' | 'end', check: BenchSafety, store = true): boolean {
    const stored =
      !store || this.tryStore('recordSafeState', () => this.deps.store.recordSafeState(this.id, phase, check));
    this.deps.bus.emit({ type: 'safe-state', runId: this.id, phase, check });
    for (const s of check.instruments) {
      this.deps.bus.emit({
        type: 'instrument',
        role: s.role,
        state: s.safe ? 'safe' : `NOT SAFE: ${s.error ?? 'not confirmed'}`,
        ...(s.resource ? { resource: s.resource } : {}),
      });
    }
    const when = phase === 'start' ? 'before the first step' : 'at the end of the run';
    if (check.safe)
      this.emitLog(
        'info',
        `bench safe ${when}, read back: ${check.instruments.map((i) => `${i.role}: ${i.observed}`).join('; ')}`,
      );
    else this.emitLog('error', `BENCH NOT SAFE ${when}: ${notSafeText(check)}`);
    return stored;
  }

  /** A store write that must not stop the run from reaching its safe state; a failure is logged. */
  private tryStore(what: string, fn: () => void): boolean {
    try {
      fn();
      return true;
    } catch (err) {
      this.emitLog('error', `the results store failed (${what}): ${errorMessage(err)}`);
      return false;
    }
  }

  private async run(): Promise<RunRecord> {
    const { bus, store } = this.deps;
    // The transcript covers the whole run, including both safe-state checks.
    let unsubscribe: (() => void) | undefined;
    let outcome: Outcome = 'PASS';
    let error: string | undefined;
    try {
      unsubscribe = this.deps.transcripts?.subscribe((e) => this.transcriptBuffer.push(e));
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
      // A run starts from a known state whatever the previous run (or anyone) left: safe, and read back.
      const start = await this.checkSafeState();
      // a resumed run keeps the safe state read back before its first step; this one is streamed and logged
      if (this.stored) this.emitLog('info', 'resuming: the bench is brought to its safe state first, read back');
      if (!this.reportSafeState('start', start, this.stored === undefined))
        throw new StepError('the results store could not keep the safe state read back before the first step');
      if (!start.safe)
        throw new StepError(`the bench did not confirm its safe state before the first step: ${notSafeText(start)}`);
      if (this.controller.signal.aborted) throw this.controller.signal.reason;
      await this.deps.prepare?.(this.controller.signal);
      await Promise.race([this.runSteps(this.steps, {}), this.unwindDeadline()]);
      outcome = this.outcomeFromVerdicts();
    } catch (err) {
      if (this.internalError !== undefined) {
        outcome = 'ERROR';
        error = this.internalError;
      } else if (this.abortedBy !== undefined || isAbortError(err)) {
        outcome = 'ABORTED';
        error = this.abortedBy ? `aborted by ${this.abortedBy}` : errorMessage(err);
      } else {
        outcome = 'ERROR';
        error = isProgramError(err) ? `cpobench internal error: ${errorMessage(err)}` : errorMessage(err);
        this.emitLog('error', error);
      }
    }
    this.finished = true;
    // Whatever happened, the bench ends safe and read back, within one bound: an abort (or a fault) started the safe
    // state at once, in parallel with the unwinding steps; otherwise it runs now.
    const end = await (this.abortSafeState ?? this.checkSafeState());
    // the instruments' own times, counted from the abort request: the slowest one is when the bench was safe
    const safeMs = this.abortSafeState ? Math.round(Math.max(0, ...end.instruments.map((i) => i.ms))) : undefined;
    unsubscribe?.();
    if (!this.reportSafeState('end', end)) {
      // The bench is safe, but the record cannot show it: a report without that evidence must not pass.
      if (outcome === 'PASS' || outcome === 'FAIL') outcome = 'ERROR';
      error = `the results store could not keep the safe state read back at the end of the run${error ? `; ${error}` : ''}`;
    }
    if (this.abortedBy !== undefined) {
      this.tryStore('recordAbort', () =>
        store.recordAbort(this.id, {
          requestedAt: new Date(Date.now() - (safeMs ?? 0)).toISOString(),
          by: this.abortedBy!,
          safeStateMs: safeMs,
        }),
      );
      if (end.safe) this.emitLog('warn', `instruments safe ${safeMs} ms after the abort request`);
    }
    if (!end.safe) {
      // Impossible to miss: the outcome is ERROR (an abort stays ABORTED) and the error starts with it.
      if (outcome !== 'ABORTED') outcome = 'ERROR';
      error = `BENCH NOT SAFE: ${notSafeText(end)}${error ? `; ${error}` : ''}`;
    }
    this.flushTranscript();
    const summary = this.safeSummary(end);
    let stored = false;
    try {
      store.setLaneMap(this.id, laneMapRecord(this.lanes));
      store.finishRun(this.id, { outcome, summary, error });
      stored = true;
    } catch (err) {
      // Disk full, read-only: say so loudly. What was written before stays; the run is not reported as passed.
      if (outcome !== 'ABORTED') outcome = 'ERROR';
      error = `the results store failed while finishing the run (${errorMessage(err)}); ${error ?? 'everything measured before that is kept'}`;
      this.emitLog('error', error);
      try {
        store.finishRun(this.id, { outcome, summary, error });
        stored = true;
      } catch {
        /* the store is unusable; the record below says what happened */
      }
    }
    bus.emit({ type: 'run.finished', runId: this.id, outcome, summary, error, safeState: end });
    const known = { outcome, summary, error, safeState: end };
    try {
      const rec = store.getRun(this.id);
      return stored ? { ...rec, safeState: end } : { ...rec, ...known, finishedAt: new Date().toISOString() };
    } catch {
      return { ...this.fallbackRecord(outcome, summary, error), ...known };
    }
  }

  /** The summary, never throwing: a fault in it must not keep the record from being finished. */
  private safeSummary(end: BenchSafety): RunSummary {
    const safety = {
      benchSafe: end.safe,
      ...(end.safe ? {} : { notSafe: end.instruments.filter((i) => !i.safe).map((i) => i.role) }),
    };
    try {
      return { ...this.summary(), ...safety };
    } catch (err) {
      this.emitLog('error', `cpobench internal error while summarising the run: ${errorMessage(err)}`);
      return safety;
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
      ...this.req.origin,
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
    const walk = (list: readonly SequenceStep[], parent: string | undefined) => {
      for (const s of list) {
        const plan: StepPlan = { index: i++, id: s.id, name: s.name, type: s.type, measurements: this.specs(s) };
        if (parent !== undefined) plan.parent = parent;
        out.push(plan);
        walk(s.steps, s.id);
      }
    };
    walk(steps, undefined);
    return out;
  }

  private specs(step: SequenceStep): MeasurementSpec[] {
    return declaredSpecs(this.deps.registry.get(step.type)!, step.params as never, step.limits, this.deps.geometry);
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
    const stored = this.steps.includes(step) ? this.stored?.get(step.id) : undefined;
    if (stored?.verdict !== undefined) {
      this.keepFinishedStep(step, def, stored);
      return;
    }
    const continued = stored !== undefined && def.resumable === true;
    // a step nested in a sweep runs once per setpoint: each run is its own record, with its coordinates
    const stepAt = Object.keys(at).length > 0 ? { ...at } : undefined;
    let index: number;
    if (continued) {
      index = stored.index;
      this.emitLog(
        'info',
        `continuing step ${step.id} from the ${stored.measurements.length} measurements it recorded`,
      );
    } else {
      if (stored) {
        store.finishStep(this.id, step.id, {
          verdict: 'ERROR',
          error: 'interrupted: the controller stopped; the step was run again from its start on resume',
        });
      }
      index = this.stepIndex++;
      const startedAt = new Date().toISOString();
      store.appendStep(this.id, { index, id: step.id, name: step.name, type: step.type, startedAt, at: stepAt });
    }
    const resumed = continued ? stored.measurements : undefined;
    bus.emit({
      type: 'step.started',
      runId: this.id,
      step: {
        index,
        id: step.id,
        name: step.name,
        type: step.type,
        measurements: specs,
        ...(stepAt ? { at: stepAt } : {}),
      },
    });
    let tally = newTally();
    let stepError: string | undefined;
    let attempts = 0;
    for (;;) {
      attempts++;
      tally = resumed ? this.tallyOf(resumed) : newTally();
      const stepSignal = AbortSignal.any([this.controller.signal, AbortSignal.timeout(step.timeoutS * 1000)]);
      const ctx = this.context(step, specs, stepSignal, at, tally, resumed);
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
        if (err instanceof StepError || err instanceof MeasurementError || attempts > step.retries) break;
        this.emitLog('warn', `step ${step.id} attempt ${attempts} failed: ${stepError}; retrying`);
      }
    }
    this.flushTranscript();
    const laneMap = laneMapRecord(this.lanes);
    store.setLaneMap(this.id, laneMap);
    bus.emit({ type: 'lanemap', runId: this.id, laneMap });
    if (stepError !== undefined) {
      // step code names itself ("li-sweep: no lanes"): the step's name below says it already
      if (stepError.startsWith(`${step.type}: `)) stepError = stepError.slice(step.type.length + 2);
      this.finishStep(step, index, 'ERROR', attempts, stepError);
      throw new StepError(`step ${step.id} (${step.type}): ${stepError}`);
    }
    const verdict = worst(tally.verdicts);
    if (verdict === 'FAIL') this.failedSteps.push({ id: step.id, tally });
    if (def.repairsLanes && verdict !== 'FAIL') this.repairPassed = true;
    this.finishStep(step, index, verdict, attempts);
  }

  /**
   * A resumed run's step that finished before the interruption: not run again; its verdict, its failing lanes
   * and what it told the summary count as they did.
   */
  private keepFinishedStep(step: SequenceStep, def: StepDefinition, stored: StepRecord): void {
    const tally = this.tallyOf(stored.measurements);
    const verdict = stored.verdict!;
    if (verdict === 'FAIL') this.failedSteps.push({ id: step.id, tally });
    if (def.repairsLanes && verdict !== 'FAIL') this.repairPassed = true;
    this.emitLog('info', `step ${step.id} finished before the interruption (${verdict}): kept, not run again`);
  }

  /** What stored measurements add up to (the tally a step had), failing active lanes noted in the lane state. */
  private tallyOf(measurements: readonly Measurement[]): StepTally {
    const tally = newTally();
    const active = new Set(this.lanes.active());
    for (const m of measurements) {
      tally.verdicts.push(m.verdict);
      if (m.kind === 'scalar') {
        if (m.verdict === 'FAIL') tally.scalarFail = true;
        continue;
      }
      m.lanes.forEach((lane, i) => {
        if (m.verdicts[i] !== 'FAIL' || !active.has(lane)) return;
        tally.failingLanes.add(lane);
        if (!this.lanes.failed.has(lane)) this.lanes.failed.set(lane, m.spec.name);
      });
    }
    return tally;
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
        this.repairPassed &&
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
    resumed?: readonly Measurement[],
  ): StepContext {
    const { store, bus } = this.deps;
    const runId = this.id;
    return createStepContext({
      ...(resumed ? { resumed } : {}),
      runId,
      step,
      specs,
      instruments: this.deps.instruments,
      geometry: this.deps.geometry,
      lanes: this.lanes,
      shared: this.shared,
      at,
      signal,
      tally,
      record: (m) => {
        store.addMeasurement(runId, step.id, m); // persisted before it is streamed
        bus.emit({ type: 'measurement', runId, step: step.id, measurement: m });
        if (m.kind === 'lanes') {
          const { name: metric, unit } = m.spec;
          bus.emit({
            type: 'lanes',
            runId,
            step: step.id,
            metric,
            unit,
            lanes: m.lanes,
            values: m.values,
            ...(m.at ? { at: m.at } : {}),
          });
        }
        this.noteForSummary(m);
      },
      lanesFrame: (metric, unit, data, frameAt) =>
        bus.emit({
          type: 'lanes',
          runId,
          step: step.id,
          metric,
          unit,
          lanes: [...data.lanes],
          values: [...data.values],
          ...(Object.keys(frameAt).length > 0 ? { at: { ...frameAt } } : {}),
        }),
      progress: (done, total, etaS, unit, errors) =>
        bus.emit({
          type: 'progress',
          runId,
          step: step.id,
          done,
          total,
          etaS,
          ...(unit ? { unit } : {}),
          ...(errors !== undefined ? { errors } : {}),
        }),
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
      runSteps: (steps, nestedAt) => this.runSteps(steps, nestedAt),
    });
  }

  /** Keeps what the run summary reports: each lane's tightest BER bound, the energy per bit. */
  private noteForSummary(m: Measurement): void {
    if (m.kind === 'lanes' && m.spec.summary === 'ber-bound') {
      // A lane's evidence is its tightest bound; nominal conditions (no sweep coordinates) come first.
      const nominal = m.at === undefined;
      m.lanes.forEach((l, i) => {
        const v = m.values[i] ?? 1;
        const prev = this.berBound.get(l);
        if (!prev || (nominal && !prev.nominal) || (nominal === prev.nominal && v < prev.value)) {
          this.berBound.set(l, { value: v, nominal });
        }
      });
    } else if (m.kind === 'scalar' && m.spec.summary === 'energy-per-bit' && m.value !== null) {
      this.energyPerBit = m.value;
    } else if (m.kind === 'lanes' && m.spec.name === 'p_op_drift_db') {
      const v = m.values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
      const med = v[v.length >> 1];
      if (med !== undefined && (this.worstDriftDb === undefined || med < this.worstDriftDb)) this.worstDriftDb = med;
    }
  }

  /** The device and its class check for the summary (nothing without a device description). */
  private classSummary(s: RunSummary): Pick<RunSummary, 'device' | 'classCheck'> {
    const dev = this.deps.device;
    if (!dev) return {};
    if (!dev.targets) return { device: dev.summary };
    const berTarget = dev.targets.targets.find((t) => t.metric === 'ber')?.max;
    const reachMin = dev.targets.targets.find((t) => t.metric === 'reach_m')?.min ?? 0;
    const ber = s.worstBerUpperBound;
    const fibre = dev.summary.fibreLengthM;
    return {
      device: dev.summary,
      classCheck: checkClass(dev.targets, {
        lanes_active: s.lanesActive ?? null,
        energy_pj_per_bit: s.energyPerBitPj ?? null,
        ber: ber ?? null,
        p85_over_p25: this.worstDriftDb === undefined ? null : 10 ** (this.worstDriftDb / 10),
        // a run shows its fibre's length as reach when every lane met the class's BER through it; a fibre
        // shorter than the class's reach measures nothing about it (not measured, rather than missed)
        reach_m:
          fibre !== undefined && fibre >= reachMin && ber !== undefined && berTarget !== undefined && ber <= berTarget
            ? fibre
            : null,
        lanes_per_mm2: dev.summary.lanesPerMm2 ?? null,
      }),
    };
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
    if (w.source === 'temperature') return this.deps.instruments.get('thermal-controller').temperature({ signal });
    const p = await this.deps.instruments.get('lane-power-monitor').receivedPower(this.lanes.active(), { signal });
    const dbm = p.map((x: number) => 10 * Math.log10(Math.max(x, 1e-15) / 1e-3)).sort((a, b) => a - b);
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
    const s: RunSummary = {
      energyPerBitPj: this.energyPerBit,
      lanesActive: active.filter((l) => !this.lanes.dead.has(l)).length,
      lanesDead: this.lanes.dead.size,
      lanesRemapped: this.lanes.remapped.length,
      worstBerUpperBound: worstBer,
      worstLane,
      ...(this.repairedSteps.length > 0 ? { repairedSteps: this.repairedSteps } : {}),
    };
    return { ...s, ...this.classSummary(s) };
  }

  /** Writes the buffered SCPI transcript; a store failure is logged, never thrown (it must not stop safe state). */
  private flushTranscript(): void {
    if (this.transcriptBuffer.length === 0) return;
    const entries = this.transcriptBuffer;
    this.transcriptBuffer = [];
    this.tryStore('appendTranscript', () => this.deps.store.appendTranscript(this.id, entries));
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
