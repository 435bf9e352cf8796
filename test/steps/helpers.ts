/**
 * The StepContext for step tests: the engine's own (src/orchestrator/step-context.ts), so measurements are judged,
 * failing lanes noted and verdicts counted exactly as in a run; this harness only records what the step reported.
 * Sleep is instant and counted. runSteps runs nested steps from a registry in a child context that shares the lane
 * state and ctx.shared.
 */

import type { MeasurementSpec, Verdict } from '../../src/core/record.ts';
import { createGeometry, createLaneState } from '../../src/orchestrator/lanes.ts';
import type {
  LaneGeometry,
  LaneState,
  LaneValues,
  LimitOverrides,
  SequenceStep,
  StepContext,
  StepDefinition,
} from '../../src/orchestrator/step.ts';
import { createStepContext, declaredSpecs, newTally } from '../../src/orchestrator/step-context.ts';
import { createStepRegistry } from '../../src/steps/registry.ts';
import type { FakeBench } from './fake-bench.ts';

/** What the harness needs of a bench: its instruments, its array size and (for nested steps) its TEC reading. */
export type HarnessBench = Pick<FakeBench, 'instruments'> & {
  model: { rows: number; cols: number };
  tec: { t: number };
};

export interface Recorded {
  step: string;
  name: string;
  spec: MeasurementSpec;
  value: number | null | LaneValues;
  at: Record<string, number>;
  verdict: Verdict;
  verdicts?: Verdict[];
}

/** The production geometry (row-major), as a station of rows x cols with these spares would give. */
export function makeGeometry(rows: number, cols: number, spares: number[] = [], required?: number): LaneGeometry {
  return createGeometry({ rows, cols, spares, ...(required !== undefined ? { active: required } : {}) });
}

/** The production lane state a run starts with. */
export function makeLaneState(g: LaneGeometry): LaneState {
  return createLaneState(g);
}

export interface TestContext extends StepContext {
  readonly measurements: Recorded[];
  readonly frames: { metric: string; unit: string; data: LaneValues }[];
  readonly logs: { level: string; msg: string }[];
  readonly progressCalls: [number, number][];
  /** Every progress call as the engine gets it: unit, errors so far, time left. */
  readonly progressEvents: { done: number; total: number; etaS?: number; unit?: string; errors?: number }[];
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
  bench: HarnessBench,
  def: StepDefinition<P>,
  params: P,
  o: ContextOptions = {},
  sink?: { measurements: Recorded[]; frames: TestContext['frames']; logs: TestContext['logs'] },
): TestContext {
  const geometry = o.geometry ?? makeGeometry(bench.model.rows, bench.model.cols);
  const lanes = o.lanes ?? makeLaneState(geometry);
  const shared = o.shared ?? new Map<string, unknown>();
  const specs = declaredSpecs(def, params, o.limits ?? {}, geometry);
  const measurements = sink?.measurements ?? [];
  const frames = sink?.frames ?? [];
  const logs = sink?.logs ?? [];
  const answers = [...(o.answers ?? [])];
  const controller = new AbortController();
  const registry = o.registry ?? createStepRegistry();
  const stepId = o.stepId ?? def.type;
  const at = o.at ?? {};
  const extras = {
    measurements,
    frames,
    logs,
    progressCalls: [] as [number, number][],
    progressEvents: [] as TestContext['progressEvents'],
    nested: [] as TestContext['nested'],
    sleptMs: 0,
  };
  // The engine's own step context: measurements are judged, lanes failed and verdicts counted exactly as in a run.
  const base = createStepContext({
    runId: 'test-run',
    step: { id: stepId },
    specs,
    instruments: bench.instruments,
    geometry,
    lanes,
    shared,
    at,
    signal: controller.signal,
    tally: newTally(),
    record(m) {
      const value: Recorded['value'] = m.kind === 'scalar' ? m.value : { lanes: m.lanes, values: m.values };
      measurements.push({
        step: stepId,
        name: m.spec.name,
        spec: m.spec,
        value,
        at: { ...m.at },
        verdict: m.verdict,
        ...(m.kind === 'lanes' ? { verdicts: m.verdicts } : {}),
      });
    },
    lanesFrame(metric, unit, data) {
      frames.push({ metric, unit, data });
    },
    progress(done, total, etaS, unit, errors) {
      extras.progressCalls.push([done, total]);
      extras.progressEvents.push({
        done,
        total,
        ...(etaS !== undefined ? { etaS } : {}),
        ...(unit !== undefined ? { unit } : {}),
        ...(errors !== undefined ? { errors } : {}),
      });
    },
    log(level, msg) {
      logs.push({ level, msg });
    },
    async prompt() {
      if (answers.length === 0) throw new Error('no scripted answer left');
      return answers.shift()!;
    },
    async sleep(ms) {
      extras.sleptMs += ms;
      await Promise.resolve();
    },
    async runSteps(steps, nestedAt) {
      extras.nested.push({ at: nestedAt, steps, temperature: bench.tec.t });
      for (const s of steps) {
        const child = registry.get(s.type);
        if (!child) throw new Error(`unknown step type ${s.type}`);
        const p = child.params.parse(s.params);
        const cctx = makeContext(
          bench,
          child,
          p,
          { geometry, lanes, shared, at: nestedAt, limits: s.limits, stepId: s.id, registry },
          { measurements, frames, logs },
        );
        await child.run(cctx, p, s.steps);
      }
    },
  });
  const { sleptMs: _counted, ...lists } = extras;
  const ctx: TestContext = Object.assign(base, lists, {
    sleptMs: 0,
    get(name: string, filter?: Record<string, number>) {
      const list = measurements.filter(
        (m) => m.name === name && (!filter || Object.entries(filter).every(([k, v]) => m.at[k] === v)),
      );
      const m = list[list.length - 1];
      if (!m) throw new Error(`no measurement ${name}`);
      return m;
    },
    all(name: string) {
      return measurements.filter((m) => m.name === name);
    },
    lanesOf(name: string) {
      const v = ctx.get(name).value as LaneValues;
      return new Map(v.lanes.map((l, i) => [l, v.values[i]]));
    },
  });
  Object.defineProperty(ctx, 'sleptMs', { get: () => extras.sleptMs, enumerable: true });
  return ctx;
}

/** Parses raw params with the step's schema, builds a context and runs the step. */
export async function runStep<P>(
  bench: HarnessBench,
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
