/**
 * A minimal StepContext for step tests: records measure() and lanesFrame() calls and computes verdicts from the
 * declared limits (overridden by the sequence's limits). Sleep is instant and counted. runSteps runs nested
 * steps from a registry in a child context that shares the lane state and ctx.shared.
 */

import type { Limits, MeasurementSpec, Verdict } from '../../src/core/record.ts';
import type {
  LaneGeometry,
  LaneState,
  LaneValues,
  LimitOverrides,
  SequenceStep,
  StepContext,
  StepDefinition,
} from '../../src/orchestrator/step.ts';
import { createStepRegistry } from '../../src/steps/registry.ts';
import type { FakeBench } from './fake-bench.ts';

export interface Recorded {
  step: string;
  name: string;
  spec: MeasurementSpec;
  value: number | null | LaneValues;
  at: Record<string, number>;
  verdict: Verdict;
  verdicts?: Verdict[];
}

export function makeGeometry(rows: number, cols: number, spares: number[] = [], required?: number): LaneGeometry {
  const all = Array.from({ length: rows * cols }, (_, i) => i + 1);
  return {
    rows,
    cols,
    all,
    required: required ?? all.length - spares.length,
    spares,
    position: (lane) => [Math.floor((lane - 1) / cols), (lane - 1) % cols],
    laneAt: (r, c) => (r >= 0 && c >= 0 && r < rows && c < cols ? r * cols + c + 1 : undefined),
  };
}

export function makeLaneState(g: LaneGeometry): LaneState {
  const state: LaneState = {
    logicalToPhysical: g.all.filter((l) => !g.spares.includes(l)).slice(0, g.required),
    dead: new Set(),
    failed: new Map(),
    swapped: [],
    remapped: [],
    sparesLeft: [...g.spares],
    active: () => [...state.logicalToPhysical],
  };
  return state;
}

export function verdictOf(v: number | null, limits: Limits | undefined): Verdict {
  if (!limits || (limits.low === undefined && limits.high === undefined)) return 'PASS';
  if (v === null || Number.isNaN(v)) return 'FAIL';
  const m = limits.marginal ?? 0;
  if (limits.low !== undefined && v < limits.low) return 'FAIL';
  if (limits.high !== undefined && v > limits.high) return 'FAIL';
  if (limits.low !== undefined && v < limits.low + m) return 'MARGINAL';
  if (limits.high !== undefined && v > limits.high - m) return 'MARGINAL';
  return 'PASS';
}

export interface TestContext extends StepContext {
  readonly measurements: Recorded[];
  readonly frames: { metric: string; unit: string; data: LaneValues }[];
  readonly logs: { level: string; msg: string }[];
  readonly progressCalls: [number, number][];
  readonly nested: { at: Record<string, number>; steps: readonly SequenceStep[]; temperature: number }[];
  sleptMs: number;
  /** The measurement of that name (last one unless `at` filters). */
  get(name: string, at?: Record<string, number>): Recorded;
  all(name: string): Recorded[];
  /** Per-lane values as a map lane -> value. */
  lanesOf(name: string): Map<number, number | null>;
}

export interface ContextOptions {
  geometry?: LaneGeometry;
  lanes?: LaneState;
  shared?: Map<string, unknown>;
  at?: Record<string, number>;
  limits?: LimitOverrides;
  answers?: (string | number | boolean)[];
  stepId?: string;
  registry?: Map<string, StepDefinition>;
}

export function makeContext<P>(
  bench: FakeBench,
  def: StepDefinition<P>,
  params: P,
  o: ContextOptions = {},
  sink?: { measurements: Recorded[]; frames: TestContext['frames']; logs: TestContext['logs'] },
): TestContext {
  const geometry = o.geometry ?? makeGeometry(bench.model.rows, bench.model.cols);
  const lanes = o.lanes ?? makeLaneState(geometry);
  const shared = o.shared ?? new Map<string, unknown>();
  const specs = new Map<string, MeasurementSpec>();
  for (const s of def.measurements(params, geometry)) {
    const override = o.limits?.[s.name];
    specs.set(s.name, override ? { ...s, limits: { ...s.limits, ...override } } : s);
  }
  const measurements = sink?.measurements ?? [];
  const frames = sink?.frames ?? [];
  const logs = sink?.logs ?? [];
  const answers = [...(o.answers ?? [])];
  const controller = new AbortController();
  const registry = o.registry ?? createStepRegistry();
  const stepId = o.stepId ?? def.type;
  const ctx: TestContext = {
    runId: 'test-run',
    stepId,
    instruments: bench.instruments,
    geometry,
    lanes,
    signal: controller.signal,
    at: o.at ?? {},
    shared,
    measurements,
    frames,
    logs,
    progressCalls: [],
    nested: [],
    sleptMs: 0,
    measure(name, value, at) {
      const spec = specs.get(name);
      if (!spec) throw new Error(`measurement ${name} was not declared by ${def.type}`);
      let verdict: Verdict;
      let verdicts: Verdict[] | undefined;
      if (value !== null && typeof value === 'object') {
        if (value.lanes.length !== value.values.length) throw new Error(`${name}: lanes and values differ in length`);
        if (!spec.dimensions.includes('lane')) throw new Error(`${name}: per-lane value for a non-lane measurement`);
        verdicts = value.values.map((v) => verdictOf(v, spec.limits));
        verdict = verdicts.includes('FAIL') ? 'FAIL' : verdicts.includes('MARGINAL') ? 'MARGINAL' : 'PASS';
      } else {
        if (spec.dimensions.includes('lane')) throw new Error(`${name}: scalar value for a per-lane measurement`);
        verdict = verdictOf(value, spec.limits);
      }
      measurements.push({ step: stepId, name, spec, value, at: { ...ctx.at, ...at }, verdict, verdicts });
      return verdict;
    },
    lanesFrame(metric, unit, data) {
      frames.push({ metric, unit, data });
    },
    progress(done, total) {
      ctx.progressCalls.push([done, total]);
    },
    log(level, msg) {
      logs.push({ level, msg });
    },
    async prompt() {
      if (answers.length === 0) throw new Error('no scripted answer left');
      return answers.shift()!;
    },
    async sleep(ms) {
      ctx.sleptMs += ms;
      await Promise.resolve();
    },
    async runSteps(steps, at) {
      ctx.nested.push({ at, steps, temperature: bench.tec.t });
      for (const s of steps) {
        const child = registry.get(s.type);
        if (!child) throw new Error(`unknown step type ${s.type}`);
        const p = child.params.parse(s.params);
        const cctx = makeContext(
          bench,
          child,
          p,
          { geometry, lanes, shared, at, limits: s.limits, stepId: s.id, registry },
          { measurements, frames, logs },
        );
        await child.run(cctx, p, s.steps);
      }
    },
    get(name, at) {
      const list = measurements.filter(
        (m) => m.name === name && (!at || Object.entries(at).every(([k, v]) => m.at[k] === v)),
      );
      const m = list[list.length - 1];
      if (!m) throw new Error(`no measurement ${name}`);
      return m;
    },
    all(name) {
      return measurements.filter((m) => m.name === name);
    },
    lanesOf(name) {
      const m = ctx.get(name);
      const v = m.value as LaneValues;
      return new Map(v.lanes.map((l, i) => [l, v.values[i]]));
    },
  };
  return ctx;
}

/** Parses raw params with the step's schema, builds a context and runs the step. */
export async function runStep<P>(
  bench: FakeBench,
  def: StepDefinition<P>,
  raw: Record<string, unknown> = {},
  o: ContextOptions = {},
  children: SequenceStep[] = [],
): Promise<TestContext> {
  const params = def.params.parse(raw);
  const ctx = makeContext(bench, def, params, o);
  await def.run(ctx, params, children);
  return ctx;
}

export function seqStep(type: string, params: Record<string, unknown> = {}, id = type): SequenceStep {
  return { id, name: id, type, params, limits: {}, retries: 0, timeoutS: 600, steps: [] };
}
