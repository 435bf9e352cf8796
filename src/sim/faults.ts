/**
 * Fault plans as data (fixtures/faults/*.yaml): link faults the shared model shows to every instrument (dead
 * lanes, weak lanes, a misaligned bundle, thermal drift) and instrument faults per role, which the SCPI server
 * applies to that role's connections (stop answering, drop, garbage, reboot, queued error, reply delay).
 *
 * ```yaml
 * name: receiver-hangs
 * description: the PD receiver stops answering mid-run
 * link:
 *   - { kind: dead-lanes, lanes: [17, 233] }
 *   - { kind: open-lanes, lanes: [5] }                   # an open emitter: V_f reads the LED rail
 *   - { kind: short-lanes, lanes: [6] }                  # a shorted one: V_f reads millivolts
 *   - { kind: weak-lanes, lanes: [40], factor: 0.3 }
 *   - { kind: misaligned-bundle, dx: 0.35, dy: 0.1 }     # core pitches
 *   - { kind: thermal-drift, celsiusPerHour: 600 }       # instrument hours
 * instruments:
 *   pd-receiver: { stopAfterCommands: 40 }
 * ```
 *
 * Errors name file:line:column and the key (src/config/load-yaml.ts).
 */
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { z } from 'zod';
import { loadYamlFile, parseYamlText } from '../config/load-yaml.ts';
import type { LinkFault } from './model/link-model.ts';
import { INSTRUMENT_ROLES, type InstrumentRole } from './model/profile.ts';
import type { InstrumentFaults } from './server/connection.ts';

const count = () => z.number().int().min(1);

export const instrumentFaultsSchema = z.strictObject({
  stopAfterCommands: count().optional(),
  stopAtTime: z.number().min(0).optional(),
  replyDelayMs: z.number().min(0).max(60_000).optional(),
  dropAfterCommands: count().optional(),
  garbageAtCommand: count().optional(),
  ignoreSettingsFromCommand: count().optional(),
  rebootAtCommand: count().optional(),
  errorAtCommand: z
    .strictObject({
      at: count(),
      code: z
        .number()
        .int()
        .refine((c) => c !== 0, 'expected a non-zero SCPI error code'),
      detail: z.string().optional(),
    })
    .optional(),
}) satisfies z.ZodType<InstrumentFaults>;

const lanes = (max: number) => z.array(z.number().int().min(1).max(max)).min(1);

/** The fault-plan schema; lane numbers are checked against `maxLane` when given (the profile's lane count). */
export function faultPlanSchema(maxLane = 65_536) {
  const link = z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('dead-lanes'), lanes: lanes(maxLane) }),
    z.strictObject({ kind: z.literal('open-lanes'), lanes: lanes(maxLane) }),
    z.strictObject({ kind: z.literal('short-lanes'), lanes: lanes(maxLane) }),
    z.strictObject({ kind: z.literal('weak-lanes'), lanes: lanes(maxLane), factor: z.number().min(0).max(1) }),
    z.strictObject({
      kind: z.literal('misaligned-bundle'),
      dx: z.number().min(-5).max(5),
      dy: z.number().min(-5).max(5),
    }),
    z.strictObject({ kind: z.literal('thermal-drift'), celsiusPerHour: z.number().min(-1e6).max(1e6) }),
  ]);
  const roles = Object.fromEntries(INSTRUMENT_ROLES.map((r) => [r, instrumentFaultsSchema.optional()])) as Record<
    InstrumentRole,
    z.ZodOptional<typeof instrumentFaultsSchema>
  >;
  return z.strictObject({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    link: z.array(link).default([]),
    instruments: z.strictObject(roles).default({}),
  });
}

export interface FaultPlan {
  name?: string;
  description?: string;
  link: LinkFault[];
  instruments: Partial<Record<InstrumentRole, InstrumentFaults>>;
}

/** fixtures/faults relative to this file (src/sim/faults.ts). */
export const FAULT_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../fixtures/faults');

/** A fault file path, or the name of a built-in plan in fixtures/faults (`receiver-hangs`). */
export function resolveFaultFile(nameOrPath: string): string {
  if (existsSync(nameOrPath)) return nameOrPath;
  const builtin = path.join(FAULT_DIR, `${nameOrPath}.yaml`);
  if (!nameOrPath.includes('/') && existsSync(builtin)) return builtin;
  throw new Error(
    `unknown fault file "${nameOrPath}": no such file; built-in plans: ${builtinFaultNames().join(', ')}`,
  );
}

/** Names of the built-in fault plans (fixtures/faults/*.yaml), sorted. */
export function builtinFaultNames(dir = FAULT_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/**
 * Loads and validates a fault plan from a file (path or built-in name) or an object. Throws ConfigError
 * naming file:line:column and the key.
 */
export function loadFaults(source: string | object, options: { maxLane?: number } = {}): FaultPlan {
  const schema = faultPlanSchema(options.maxLane);
  const plan =
    typeof source === 'string'
      ? loadYamlFile(resolveFaultFile(source), schema)
      : parseYamlText(stringify(source), '<fault plan>', schema);
  return plan as FaultPlan;
}
