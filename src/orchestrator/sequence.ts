import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { z } from 'zod';
import { timerSeconds } from '../config/durations.ts';
import { ConfigError, fileLabel, parseYamlText, readConfigText, validateData } from '../config/load-yaml.ts';
import type { Limits } from '../core/record.ts';
import type { Capability } from '../instruments/capabilities.ts';
import { createGeometry } from './lanes.ts';
import type { SequenceStep, StepDefinition } from './step.ts';

const limitsSchema = z
  .object({
    low: z.number().optional(),
    high: z.number().optional(),
    marginal: z.number().nonnegative().optional(),
  })
  .strict();

interface RawStep {
  id: string;
  name?: string;
  type: string;
  params?: Record<string, unknown>;
  limits?: Record<string, Limits>;
  retries?: number;
  timeoutS?: number;
  steps?: RawStep[];
}

const stepSchema: z.ZodType<RawStep> = z.lazy(() =>
  z
    .object({
      id: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'an id of letters, digits, "_", "-" or "."'),
      name: z.string().optional(),
      type: z.string(),
      params: z.record(z.string(), z.unknown()).optional(),
      limits: z.record(z.string(), limitsSchema).optional(),
      retries: z.number().int().min(0).max(10).optional(),
      timeoutS: timerSeconds().positive().optional(),
      steps: z.array(stepSchema).optional(),
    })
    .strict(),
);

const watchSchema = z
  .object({
    source: z.enum(['temperature', 'received-power']),
    band: z.tuple([z.number(), z.number()]),
    settleS: timerSeconds().nonnegative().default(1),
    pollS: timerSeconds().positive().default(0.5),
  })
  .strict()
  .superRefine((w, issues) => {
    // low > high is a band no value is ever inside: the run would hold forever
    if (w.band[0] > w.band[1]) {
      issues.addIssue({
        code: 'custom',
        path: ['band'],
        message: `expected a band [low, high] with low ≤ high (${w.band[0]} > ${w.band[1]})`,
      });
    }
  });

export type Watch = z.infer<typeof watchSchema>;

export interface LoadedSequence {
  name: string;
  version: string;
  description: string;
  file: string;
  hash: string;
  steps: SequenceStep[];
  watch: Watch[];
  /** The physical lane count of the arrays the sequence is written for, when it says; else any station. */
  lanes?: number;
  /** False when the sequence may run without a DUT serial (a bench check); true by default. */
  dutRequired: boolean;
}

/** What the station allows, for the checks a sequence file alone cannot make. */
export interface LoadContext {
  /** The LED driver's lane-rate range in bit/s; a step rate outside it is refused at load. */
  rateRange?: [number, number];
  /** Physical lanes of the station (rows·cols); a lane list naming one outside 1..laneCount is refused. */
  laneCount?: number;
  /** The TEC's setpoint limits [minC, maxC]; a temperature param outside them is refused. */
  temperatureRange?: [number, number];
  /**
   * Which instruments provide each capability: a step needing one that none provides, or that several provide
   * (a step needs exactly one), is refused, naming the step, the capability and the instruments.
   */
  capabilities?: ReadonlyMap<Capability, readonly string[]>;
}

/** One problem with a step, its path relative to the step (`['params', 'lanes', 3]`, `['limits', 'x', 'low']`). */
export interface StepIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Every check of one step that the sequence loader makes, in one place: params through the step type's zod
 * schema, then against the station (rate range, lane numbers, TEC limits), then the limits the sequence sets
 * (declared measurement, low ≤ high, also merged over the step's own limits). The loader and the API's
 * per-run params overrides both call it. Returns the validated params when there are no issues.
 */
export function checkStep(
  step: { id?: string; type: string; params?: Record<string, unknown>; limits?: Record<string, Limits> },
  def: StepDefinition,
  ctx: LoadContext,
): { params?: Record<string, unknown>; issues: StepIssue[] } {
  const issues: StepIssue[] = [];
  const providers = ctx.capabilities;
  if (providers) {
    const name = `step ${step.id ? `${step.id} ` : ''}(${step.type})`;
    const missing = def.requires.filter((c) => (providers.get(c) ?? []).length === 0);
    if (missing.length > 0) {
      const have = [...providers.keys()].sort().join(', ') || 'none';
      issues.push({
        path: ['type'],
        message: `a step this station can run: ${name} needs ${missing.map((c) => `a ${c}`).join(' and ')}, which no instrument of the station provides (it provides: ${have})`,
      });
    }
    for (const c of def.requires) {
      const who = providers.get(c) ?? [];
      if (who.length > 1) {
        issues.push({
          path: ['type'],
          message: `one ${c} for ${name}, but the station has ${who.length}: ${who.join(', ')} (narrow the others with provides:)`,
        });
      }
    }
  }
  const parsed = def.params.safeParse(step.params ?? {});
  if (!parsed.success) {
    for (const iss of parsed.error.issues) {
      const at = ['params', ...(iss.path as (string | number)[])];
      if (iss.code === 'unrecognized_keys') {
        const known = Object.keys((def.params as unknown as { shape?: object }).shape ?? {});
        for (const key of iss.keys) {
          issues.push({
            path: [...at, key],
            message: `unknown key (params of step type ${step.type}: ${known.join(', ')})`,
          });
        }
      } else issues.push({ path: at, message: iss.message });
    }
    return { issues };
  }
  const p = parsed.data as Record<string, unknown>;
  if (providers && def.requiresFor) {
    for (const need of def.requiresFor(p as never)) {
      if ((providers.get(need.capability) ?? []).length > 0) continue;
      const have = [...providers.keys()].sort().join(', ') || 'none';
      issues.push({
        path: ['params', need.param],
        message: `a station with a ${need.capability}: step ${step.id ? `${step.id} ` : ''}(${step.type}) needs one for ${need.param}: ${JSON.stringify(p[need.param])}, and no instrument of the station provides it (it provides: ${have})`,
      });
    }
  }
  if (ctx.rateRange) {
    for (const key of ['rate', 'maxRate']) {
      const r = p[key];
      if (typeof r === 'number' && (r < ctx.rateRange[0] || r > ctx.rateRange[1])) {
        issues.push({
          path: ['params', key],
          message: `a rate within the LED driver's range ${ctx.rateRange[0]}..${ctx.rateRange[1]} bit/s`,
        });
      }
    }
  }
  if (ctx.laneCount !== undefined) {
    for (const key of def.laneParams ?? []) {
      const v = p[key];
      if (!Array.isArray(v)) continue;
      v.forEach((lane, i) => {
        if (typeof lane === 'number' && (lane < 1 || lane > ctx.laneCount!)) {
          issues.push({
            path: ['params', key, i],
            message: `expected a lane of the station, 1..${ctx.laneCount}`,
          });
        }
      });
    }
  }
  if (ctx.temperatureRange) {
    const [lo, hi] = ctx.temperatureRange;
    for (const key of def.temperatureParams ?? []) {
      const v = p[key];
      const list = Array.isArray(v) ? v : [v];
      list.forEach((t, i) => {
        if (typeof t === 'number' && (t < lo || t > hi)) {
          issues.push({
            path: Array.isArray(v) ? ['params', key, i] : ['params', key],
            message: `expected a temperature within the TEC limits ${lo}..${hi} °C`,
          });
        }
      });
    }
  }
  const probeGeometry = createGeometry({ rows: 2, cols: 2 });
  const declared = new Map(def.measurements(p as never, probeGeometry).map((m) => [m.name, m.limits]));
  for (const [name, lim] of Object.entries(step.limits ?? {})) {
    if (!declared.has(name)) {
      issues.push({
        path: ['limits', name],
        message: `a measurement of step type ${step.type}: ${[...declared.keys()].join(', ')}`,
      });
      continue;
    }
    const merged = { ...declared.get(name), ...lim };
    if (merged.low !== undefined && merged.high !== undefined && merged.low > merged.high) {
      const own = lim.low !== undefined && lim.high !== undefined;
      issues.push({
        path: ['limits', name, lim.low !== undefined ? 'low' : 'high'],
        message: own
          ? `low ≤ high (low ${merged.low} > high ${merged.high})`
          : `low ≤ high once merged over the step's own limits (low ${merged.low} > high ${merged.high})`,
      });
    }
  }
  return issues.length > 0 ? { issues } : { params: p, issues };
}

/** The sequences shipped with cpobench, by name. */
export function builtinSequenceDir(): string {
  return resolve(import.meta.dirname, '../../fixtures/sequences');
}

/** Resolves a sequence argument: a path, or the name of a shipped sequence. */
export function resolveSequencePath(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const builtin = join(
    builtinSequenceDir(),
    nameOrPath.endsWith('.yaml') ? basename(nameOrPath) : `${nameOrPath}.yaml`,
  );
  if (existsSync(builtin)) return builtin;
  throw new ConfigError([
    {
      file: nameOrPath,
      line: 0,
      column: 0,
      path: '',
      expected: 'a sequence file or the name of a shipped sequence',
      got: 'no such file',
    },
  ]);
}

/**
 * Loads and validates a sequence file against the step registry: unknown step types, bad or missing
 * parameters, limits with low > high, limits on measurements the step does not declare, and rates beyond the
 * driver's range are all refused with file:line:column and the key.
 */
export function loadSequence(
  file: string,
  registry: ReadonlyMap<string, StepDefinition>,
  ctx: LoadContext = {},
): LoadedSequence {
  return parseSequence(readConfigText(file), fileLabel(file), registry, ctx);
}

export function parseSequence(
  text: string,
  label: string,
  registry: ReadonlyMap<string, StepDefinition>,
  ctx: LoadContext = {},
): LoadedSequence {
  const types = [...registry.keys()].sort();
  const schema = z
    .object({
      name: z.string().min(1),
      version: z.union([z.string(), z.number()]).transform(String).default('1'),
      description: z.string().default(''),
      steps: z.array(stepSchema).min(1),
      watch: z.array(watchSchema).default([]),
      lanes: z.number().int().positive().optional(),
      dutRequired: z.boolean().default(true),
    })
    .strict()
    .superRefine((seq, issues) => {
      // a sequence written for another array is not offered on this station (and refused if named)
      if (seq.lanes !== undefined && ctx.laneCount !== undefined && seq.lanes !== ctx.laneCount) {
        issues.addIssue({
          code: 'custom',
          path: ['lanes'],
          message: `a sequence for this station's ${ctx.laneCount} lanes (it is written for ${seq.lanes})`,
        });
      }
      const ids = new Set<string>();
      const check = (steps: RawStep[], base: (string | number)[]) => {
        steps.forEach((step, i) => {
          const at = [...base, i];
          if (ids.has(step.id))
            issues.addIssue({
              code: 'custom',
              path: [...at, 'id'],
              message: `a unique step id ("${step.id}" is used twice)`,
            });
          ids.add(step.id);
          const def = registry.get(step.type);
          if (!def) {
            issues.addIssue({
              code: 'custom',
              path: [...at, 'type'],
              message: `one of the step types: ${types.join(', ')}`,
            });
            return;
          }
          for (const iss of checkStep(step, def, ctx).issues) {
            issues.addIssue({ code: 'custom', path: [...at, ...iss.path], message: iss.message });
          }
          if (step.steps && !def.nested) {
            issues.addIssue({
              code: 'custom',
              path: [...at, 'steps'],
              message: `no nested steps (step type ${step.type} does not run any)`,
            });
          }
          if (step.steps) check(step.steps, [...at, 'steps']);
        });
      };
      check(seq.steps, ['steps']);
    });
  const raw = parseYamlText(text, label, schema);
  const build = (s: RawStep): SequenceStep => {
    const def = registry.get(s.type)!;
    return {
      id: s.id,
      name: s.name ?? s.id,
      type: s.type,
      params: def.params.parse(s.params ?? {}) as Record<string, unknown>,
      limits: s.limits ?? {},
      retries: s.retries ?? 0,
      timeoutS: s.timeoutS ?? 600,
      steps: (s.steps ?? []).map(build),
    };
  };
  return {
    name: raw.name,
    version: raw.version,
    description: raw.description,
    file: label,
    hash: createHash('sha256').update(text).digest('hex').slice(0, 16),
    steps: raw.steps.map(build),
    watch: raw.watch,
    ...(raw.lanes !== undefined ? { lanes: raw.lanes } : {}),
    dutRequired: raw.dutRequired,
  };
}

/** Counts steps including nested ones, for progress displays. */
export function countSteps(steps: readonly SequenceStep[]): number {
  return steps.reduce((n, s) => n + 1 + countSteps(s.steps), 0);
}

/** Per-run params overrides by step id: `{ "ber-screen": { "targetBer": 1e-6 } }`. */
export type ParamsOverrides = Record<string, Record<string, unknown>>;

function findStep(steps: readonly SequenceStep[], id: string): SequenceStep | undefined {
  for (const s of steps) {
    if (s.id === id) return s;
    const inner = findStep(s.steps, id);
    if (inner) return inner;
  }
  return undefined;
}

function stableJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(stableJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${stableJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v);
}

/**
 * Applies per-run params overrides (the API's `params`) to a loaded sequence: each step's params are the
 * sequence's, with the override's keys merged over them, checked by checkStep exactly as the loader checks a
 * file. Problems throw ConfigError whose issue paths start with `params.` (`params.ber-screen.targetBer`,
 * `params.no-such-step`). The result's hash covers the overrides, so the record does not claim the file's
 * unmodified hash for a run with different params.
 */
export function applyParams(
  seq: LoadedSequence,
  overrides: unknown,
  registry: ReadonlyMap<string, StepDefinition>,
  ctx: LoadContext = {},
): LoadedSequence {
  const merged = new Map<string, Record<string, unknown>>();
  const ids: string[] = [];
  const collect = (steps: readonly SequenceStep[]) => {
    for (const st of steps) {
      ids.push(st.id);
      collect(st.steps);
    }
  };
  collect(seq.steps);
  const schema = z.object({
    params: z.record(z.string(), z.record(z.string(), z.unknown())).superRefine((o, issues) => {
      for (const [id, p] of Object.entries(o)) {
        const step = findStep(seq.steps, id);
        if (!step) {
          issues.addIssue({
            code: 'custom',
            path: [id],
            message: `expected a step id of sequence ${seq.name}: ${ids.join(', ')}`,
          });
          continue;
        }
        const def = registry.get(step.type)!;
        const checked = checkStep({ type: step.type, params: { ...step.params, ...p }, limits: step.limits }, def, ctx);
        for (const iss of checked.issues) {
          const rel = iss.path[0] === 'params' ? iss.path.slice(1) : iss.path;
          issues.addIssue({ code: 'custom', path: [id, ...rel], message: iss.message });
        }
        if (checked.params) merged.set(id, checked.params);
      }
    }),
  });
  const { params } = validateData({ params: overrides }, 'params', schema);
  if (Object.keys(params).length === 0) return seq;
  const rebuild = (steps: readonly SequenceStep[]): SequenceStep[] =>
    steps.map((st) => ({ ...st, params: merged.get(st.id) ?? st.params, steps: rebuild(st.steps) }));
  return {
    ...seq,
    steps: rebuild(seq.steps),
    hash: createHash('sha256')
      .update(`${seq.hash}\n${stableJson(params)}`)
      .digest('hex')
      .slice(0, 16),
  };
}
