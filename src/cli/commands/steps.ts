/**
 * `cpobench steps [--json]`: every step type a sequence can use: what it does, the capabilities it needs of the
 * station, its parameters with their defaults, and the measurements it declares (unit, default limits, per lane or
 * not) for its default parameters.
 */
import type { Command } from 'commander';
import type { z } from 'zod';
import { createGeometry } from '../../orchestrator/lanes.ts';
import type { StepDefinition } from '../../orchestrator/step.ts';
import { createStepRegistry } from '../../steps/registry.ts';
import { EXIT } from '../exit-codes.ts';

export interface StepView {
  type: string;
  description: string;
  requires: string[];
  repairsLanes: boolean;
  /** Continued by `cpobench resume` after the controller stopped. */
  resumable: boolean;
  params: { name: string; type: string; default?: unknown; required: boolean }[];
  measurements: { name: string; unit: string; perLane: boolean; limits?: unknown; summary?: string }[];
}

/** The zod type of a field, in words: "number", "enum PRBS7|…", "array", "number | list". */
function typeName(t: z.ZodType): string {
  const def = (t as unknown as { _zod: { def: Record<string, unknown> } })._zod.def;
  const kind = def.type as string;
  if (kind === 'default' || kind === 'optional' || kind === 'nullable') return typeName(def.innerType as z.ZodType);
  if (kind === 'enum') return `enum ${Object.keys(def.entries as object).join('|')}`;
  if (kind === 'literal') return `literal ${(def.values as unknown[]).map(String).join('|')}`;
  if (kind === 'union') return (def.options as z.ZodType[]).map(typeName).join(' | ');
  if (kind === 'array') return `array of ${typeName(def.element as z.ZodType)}`;
  if (kind === 'pipe') return typeName(def.in as z.ZodType);
  return kind;
}

export function stepViews(registry: ReadonlyMap<string, StepDefinition> = createStepRegistry()): StepView[] {
  const geometry = createGeometry({ rows: 20, cols: 20 });
  return [...registry.values()]
    .map((d): StepView => {
      const shape = ((d.params as unknown as { shape?: Record<string, z.ZodType> }).shape ?? {}) as Record<
        string,
        z.ZodType
      >;
      const defaults = d.params.safeParse({});
      const values = (defaults.success ? defaults.data : {}) as Record<string, unknown>;
      const params = Object.entries(shape).map(([name, t]) => {
        const required = !t.safeParse(undefined).success;
        return { name, type: typeName(t), required, ...(name in values ? { default: values[name] } : {}) };
      });
      const measurements = defaults.success
        ? d.measurements(defaults.data as never, geometry).map((m) => ({
            name: m.name,
            unit: m.unit,
            perLane: m.dimensions.includes('lane'),
            ...(m.limits ? { limits: m.limits } : {}),
            ...(m.summary ? { summary: m.summary } : {}),
          }))
        : [];
      return {
        type: d.type,
        description: d.description,
        requires: [...d.requires],
        repairsLanes: d.repairsLanes === true,
        resumable: d.resumable === true,
        params,
        measurements,
      };
    })
    .sort((a, b) => a.type.localeCompare(b.type));
}

function limitsText(l: unknown): string {
  if (!l || typeof l !== 'object') return '';
  const { low, high, marginal } = l as { low?: number; high?: number; marginal?: number };
  const parts = [
    low !== undefined ? `≥ ${low}` : '',
    high !== undefined ? `≤ ${high}` : '',
    marginal ? `marginal ${marginal}` : '',
  ];
  return parts.filter(Boolean).join(', ');
}

export function formatSteps(views: readonly StepView[]): string[] {
  const out: string[] = [];
  for (const v of views) {
    out.push(`${v.type}: ${v.description}`);
    out.push(
      `  needs: ${v.requires.length ? v.requires.join(', ') : 'nothing of the station'}${v.repairsLanes ? ' (repairs lanes)' : ''}${v.resumable ? ' (resumable: cpobench resume)' : ''}`,
    );
    for (const p of v.params) {
      const dflt = 'default' in p ? ` = ${JSON.stringify(p.default)}` : p.required ? ' (required)' : ' (optional)';
      out.push(`  param ${p.name}: ${p.type}${dflt}`);
    }
    for (const m of v.measurements) {
      const lim = limitsText(m.limits);
      out.push(
        `  measures ${m.name} [${m.unit || '-'}]${m.perLane ? ' per lane' : ''}${lim ? `, limits ${lim}` : ''}${m.summary ? `, summary: ${m.summary}` : ''}`,
      );
    }
    out.push('');
  }
  return out;
}

export function registerSteps(program: Command, setExit: (code: number) => void): void {
  program
    .command('steps')
    .description('list the step types: what each does, what it needs, its parameters and declared measurements')
    .option('--json', 'print the list as JSON')
    .action((opts: { json?: boolean }) => {
      const views = stepViews();
      if (opts.json) process.stdout.write(`${JSON.stringify(views, null, 2)}\n`);
      else for (const line of formatSteps(views)) process.stdout.write(`${line}\n`);
      setExit(EXIT.OK);
    });
}
