/**
 * Class target files (fixtures/classes/NAME.yaml): the published figures of a device class, validated with zod;
 * a bad file is refused naming file:line:column and the key.
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { CLASS_METRICS, type ClassMetric, type ClassTargets } from '../core/class-check.ts';
import { loadYamlFile } from './load-yaml.ts';

export const CLASS_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/classes');

const metricNames = Object.keys(CLASS_METRICS) as [ClassMetric, ...ClassMetric[]];

export const classTargetsSchema = z.strictObject({
  name: z.string().min(1),
  title: z.string().min(1),
  copperReference: z.strictObject({ pjPerBit: z.number().gt(0), note: z.string().min(1) }).optional(),
  targets: z
    .array(
      z
        .strictObject({
          metric: z.enum(metricNames),
          min: z.number().optional(),
          max: z.number().optional(),
          source: z.string().min(1),
        })
        .refine((t) => t.min !== undefined || t.max !== undefined, { message: 'expected min, max or both' }),
    )
    .min(1),
}) satisfies z.ZodType<ClassTargets>;

export function builtinClassNames(dir = CLASS_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/** A class by built-in name (`mosaic-800g`) or file path. */
export function loadClassTargets(nameOrPath: string, dir = CLASS_DIR): ClassTargets {
  if (nameOrPath.includes('/') || /\.ya?ml$/i.test(nameOrPath)) return loadYamlFile(nameOrPath, classTargetsSchema);
  const names = builtinClassNames(dir);
  if (!names.includes(nameOrPath))
    throw new Error(`unknown device class "${nameOrPath}"; available: ${names.join(', ') || '(none)'}`);
  return loadYamlFile(path.join(dir, `${nameOrPath}.yaml`), classTargetsSchema);
}
