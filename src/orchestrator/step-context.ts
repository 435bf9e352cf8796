/**
 * The context a step runs in: its declared measurements with the sequence's limit overrides, how a value becomes
 * a judged measurement (verdicts against limits, per-lane verdicts counted over the active lanes only, failing
 * lanes noted in the run's lane state), and everything else a step may call. The run engine builds every step's
 * context here, and so do the step tests: a step is judged the same way in both.
 */
import { performance } from 'node:perf_hooks';
import type { Measurement, MeasurementSpec, PromptRecord, Verdict } from '../core/record.ts';
import { judge, worst } from './limits.ts';
import type {
  BenchInstruments,
  LaneGeometry,
  LaneState,
  LaneValues,
  LimitOverrides,
  SequenceStep,
  StepContext,
  StepDefinition,
} from './step.ts';

/** A step's measurement the step got wrong (undeclared, wrong shape): an error of the step, not of the DUT. */
export class MeasurementError extends Error {}

/** What a step's measurements added up to, for the run's verdict. */
export interface StepTally {
  failingLanes: Set<number>;
  scalarFail: boolean;
  verdicts: Verdict[];
}

export function newTally(): StepTally {
  return { failingLanes: new Set(), scalarFail: false, verdicts: [] };
}

/** The measurements a step declares for these params, with the sequence's limits merged over the defaults. */
export function declaredSpecs<P>(
  def: StepDefinition<P>,
  params: P,
  limits: LimitOverrides,
  geometry: LaneGeometry,
): MeasurementSpec[] {
  return def.measurements(params, geometry).map((m) => ({
    ...m,
    limits: limits[m.name] ? { ...m.limits, ...limits[m.name] } : m.limits,
  }));
}

/**
 * Judges one value of a declared measurement. A scalar is judged against its limits. A per-lane array gets one
 * verdict per lane; its overall verdict counts only the lanes in the active lane map (spares not in use do not
 * decide it), and each active lane that fails is noted in `lanes.failed` (first reason kept) and in the tally.
 */
export function buildMeasurement(
  spec: MeasurementSpec,
  value: number | null | LaneValues,
  at: Record<string, number>,
  lanes: LaneState,
  tally: StepTally,
): Measurement {
  const atField = Object.keys(at).length > 0 ? { ...at } : undefined;
  const perLane = spec.dimensions.includes('lane');
  if (value === null || typeof value === 'number') {
    if (perLane) throw new MeasurementError(`"${spec.name}" is per lane; the step recorded a single value`);
    const verdict = judge(value, spec.limits);
    tally.verdicts.push(verdict);
    if (verdict === 'FAIL') tally.scalarFail = true;
    return { kind: 'scalar', spec, value, verdict, at: atField };
  }
  if (!perLane) throw new MeasurementError(`"${spec.name}" is a single value; the step recorded one per lane`);
  if (value.lanes.length !== value.values.length) {
    throw new MeasurementError(
      `"${spec.name}": ${value.lanes.length} lanes but ${value.values.length} values in one measurement`,
    );
  }
  const active = new Set(lanes.active());
  const laneList = [...value.lanes];
  const values = value.values.map((v) => (v === null || Number.isNaN(v) ? null : v));
  const verdicts = values.map((v) => judge(v, spec.limits));
  const counted: Verdict[] = [];
  laneList.forEach((lane, i) => {
    if (!active.has(lane)) return; // spares not in use do not decide the verdict
    counted.push(verdicts[i]!);
    if (verdicts[i] === 'FAIL') {
      tally.failingLanes.add(lane);
      if (!lanes.failed.has(lane)) lanes.failed.set(lane, spec.name);
    }
  });
  const verdict = worst(counted);
  tally.verdicts.push(verdict);
  return { kind: 'lanes', spec, lanes: laneList, values, verdicts, verdict, at: atField };
}

export interface StepContextOptions {
  runId: string;
  step: Pick<SequenceStep, 'id'>;
  specs: MeasurementSpec[];
  instruments: BenchInstruments;
  geometry: LaneGeometry;
  lanes: LaneState;
  shared: Map<string, unknown>;
  at: Record<string, number>;
  signal: AbortSignal;
  tally: StepTally;
  /** Receives every judged measurement, in order: persist it, then stream it. */
  record(m: Measurement): void;
  lanesFrame(metric: string, unit: string, data: LaneValues, at: Record<string, number>): void;
  progress(done: number, total: number, etaS: number | undefined, unit: string | undefined, errors?: number): void;
  log(level: 'debug' | 'info' | 'warn' | 'error', msg: string): void;
  prompt(kind: PromptRecord['kind'], message: string): Promise<string | number | boolean>;
  sleep(ms: number): Promise<void>;
  runSteps(steps: readonly SequenceStep[], at: Record<string, number>): Promise<void>;
  /** What the step recorded before the run was interrupted, when it is continued (StepContext.resumed). */
  resumed?: readonly Measurement[];
}

/** The StepContext of one step (one attempt). */
export function createStepContext(o: StepContextOptions): StepContext {
  const byName = new Map(o.specs.map((s) => [s.name, s]));
  const t0 = performance.now();
  return {
    runId: o.runId,
    stepId: o.step.id,
    instruments: o.instruments,
    geometry: o.geometry,
    lanes: o.lanes,
    signal: o.signal,
    at: o.at,
    shared: o.shared,
    measure: (name, value, extra) => {
      const spec = byName.get(name);
      if (!spec) {
        throw new MeasurementError(
          `step ${o.step.id} recorded "${name}", which it did not declare (declared: ${[...byName.keys()].join(', ')})`,
        );
      }
      const m = buildMeasurement(spec, value, extra ? { ...o.at, ...extra } : o.at, o.lanes, o.tally);
      o.record(m);
      return m.verdict;
    },
    lanesFrame: (metric, unit, data, extra) =>
      o.lanesFrame(
        metric,
        unit,
        { lanes: [...data.lanes], values: [...data.values] },
        extra ? { ...o.at, ...extra } : o.at,
      ),
    progress: (done, total, unit, more) => {
      const elapsed = (performance.now() - t0) / 1000;
      const etaS = more?.etaS ?? (done > 0 && total > done ? (elapsed / done) * (total - done) : undefined);
      o.progress(done, total, etaS, unit, more?.errors);
    },
    log: (level, msg) => o.log(level, msg),
    prompt: (kind, message) => o.prompt(kind, message),
    sleep: (ms) => o.sleep(ms),
    runSteps: (steps, extra) => o.runSteps(steps, { ...o.at, ...extra }),
    ...(o.resumed ? { resumed: o.resumed } : {}),
  };
}
