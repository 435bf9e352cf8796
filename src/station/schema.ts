/**
 * Station files (fixtures/stations/*.yaml): the bench's instruments, each naming its `driver` (a registered model,
 * `cpobench drivers` lists them) with where it is, how to talk to it, the identity it must answer with, and that
 * driver's own settings; and the lane geometry. The schema is assembled from the registered drivers' descriptors:
 * an unknown driver, a setting the driver does not take, or a missing one is refused with file:line:column, the
 * key, and what was expected (for an unknown driver, the list of known ones).
 */

import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { loadYamlFile, parseYamlText } from '../config/load-yaml.ts';
import { CAPABILITIES, type Capability } from '../instruments/capabilities.ts';
import type { DriverDescriptor } from '../instruments/descriptor.ts';
import { createDriverRegistry, type DriverRegistry } from '../instruments/registry.ts';
import { checkSwitching, switchingSchema } from './switching.ts';

const regex = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { message: 'expected a valid regular expression' },
);

export const serialSchema = z.strictObject({
  baudRate: z.number().int().gt(0).default(9600),
  parity: z.enum(['none', 'even', 'odd', 'mark', 'space']).default('none'),
  dataBits: z.union([z.literal(5), z.literal(6), z.literal(7), z.literal(8)]).default(8),
  stopBits: z.union([z.literal(1), z.literal(1.5), z.literal(2)]).default(1),
  rtscts: z.boolean().default(false),
  /** Appended to every command; replies end in LF (a trailing CR is dropped). */
  terminator: z.enum(['\n', '\r\n', '\r']).default('\n'),
});
export type SerialConfig = z.output<typeof serialSchema>;

/** Keys every instrument entry has, whatever its driver. */
const common = {
  /** The registered model: `cpobench drivers` lists them. */
  driver: z.string(),
  /** VISA resource: `TCPIP0::host::5025::SOCKET` or `ASRL/dev/ttyUSB0::INSTR`. */
  resource: z.string().min(1),
  /** Default timeout per transaction, ms. */
  timeoutMs: timerMs().int().gt(0).default(2000),
  /** Connect timeout, ms (default: timeoutMs). */
  connectTimeoutMs: timerMs().int().gt(0).optional(),
  /** A regular expression the `*IDN?` reply must match; a mismatch is refused. Default: the driver's own. */
  identity: regex.optional(),
  serial: serialSchema.optional(),
  /** Read SYST:ERR? after every setting command so a refusal becomes an error (default true). */
  checkErrors: z.boolean().default(true),
  /** The capabilities this instrument offers the steps: a subset of its driver's (default: all of them). */
  provides: z.array(z.enum(CAPABILITIES as [Capability, ...Capability[]])).optional(),
};
const COMMON_KEYS = new Set(Object.keys(common));

/** One instrument of a station, as loaded: the common keys, and the driver's own settings apart. */
export interface InstrumentConfig {
  driver: string;
  resource: string;
  timeoutMs: number;
  connectTimeoutMs?: number;
  /** The `*IDN?` pattern (the station's, else the driver's). */
  identity: string;
  serial?: SerialConfig;
  checkErrors: boolean;
  /** What it offers the steps: its driver's capabilities, or the subset the station names. */
  provides: Capability[];
  /** The driver's own settings, validated by its descriptor (defaults applied). */
  settings: Record<string, unknown>;
}

/** Instrument names as the old station files (one fixed driver per role) used them, and the model each was. */
const OLD_ROLES: Record<string, string> = {
  'led-driver': 'cpobench-led-board',
  'pd-receiver': 'cpobench-pd-kit',
  'cmos-receiver': 'cpobench-cmos-kit',
  'power-analyzer': 'keysight-n6705c',
  'optical-meter': 'thorlabs-pm100d',
  tec: 'thorlabs-ted4015',
};

/** The schema of one driver's entry: the common keys and its settings, strict. */
function entrySchema(d: DriverDescriptor) {
  return z.strictObject({ ...common, driver: z.literal(d.model), ...d.settings });
}

/** The station schema for the drivers of `registry`. */
export function stationSchema(registry: DriverRegistry = createDriverRegistry()) {
  const models = [...registry.keys()].sort();
  const entries = new Map([...registry.values()].map((d) => [d.model, entrySchema(d)]));
  /** Parses one entry with its driver's schema; issues go to `ctx` at `at` (paths inside the entry). */
  const parseEntry = (
    name: string,
    raw: unknown,
    issue: (path: (string | number)[], message: string) => void,
    raise: (iss: z.core.$ZodIssue) => void,
  ): InstrumentConfig | undefined => {
    if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
      issue([], 'an instrument entry: { driver, resource, ... }');
      return undefined;
    }
    const entry = raw as Record<string, unknown>;
    const model = entry.driver;
    const d = typeof model === 'string' ? registry.get(model) : undefined;
    if (!d) {
      if (model === undefined && name in OLD_ROLES) {
        issue(
          [],
          `a "driver" key: station files now name each instrument's model; this one is the old form of ` +
            `"driver: ${OLD_ROLES[name]}" (add that line; the other keys stay; README "Station files")`,
        );
      } else {
        issue(
          ['driver'],
          model === undefined
            ? `a "driver" key naming the instrument's model, one of: ${models.join(', ')}`
            : `one of the registered drivers: ${models.join(', ')} (cpobench drivers lists them)`,
        );
      }
      return undefined;
    }
    const r = entries.get(d.model)!.safeParse(entry);
    if (!r.success) {
      for (const iss of r.error.issues) raise(iss);
      return undefined;
    }
    const v = r.data as Record<string, unknown>;
    const settings = Object.fromEntries(Object.entries(v).filter(([k]) => !COMMON_KEYS.has(k)));
    let ok = true;
    for (const iss of d.check?.(settings) ?? []) {
      issue(iss.path, iss.message);
      ok = false;
    }
    const provides = (v.provides as Capability[] | undefined) ?? [...d.capabilities];
    provides.forEach((c, i) => {
      if (d.capabilities.includes(c)) return;
      issue(['provides', i], `a capability of ${d.model}: ${d.capabilities.join(', ')}`);
      ok = false;
    });
    if (!ok) return undefined;
    return {
      driver: d.model,
      resource: v.resource as string,
      timeoutMs: v.timeoutMs as number,
      ...(v.connectTimeoutMs !== undefined ? { connectTimeoutMs: v.connectTimeoutMs as number } : {}),
      identity: (v.identity as string | undefined) ?? d.identity,
      ...(v.serial !== undefined ? { serial: v.serial as SerialConfig } : {}),
      checkErrors: v.checkErrors as boolean,
      provides,
      settings,
    };
  };
  const instruments = z
    .record(z.string().regex(/^[A-Za-z][A-Za-z0-9_.-]*$/, 'a name of letters, digits, "_", "-" or "."'), z.unknown())
    .transform((rec, ctx) => {
      const out: Record<string, InstrumentConfig> = {};
      if (Object.keys(rec).length === 0) ctx.addIssue({ code: 'custom', message: 'expected at least one instrument' });
      for (const [name, raw] of Object.entries(rec)) {
        const parsed = parseEntry(
          name,
          raw,
          (path, message) => ctx.addIssue({ code: 'custom', path: [name, ...path], message }),
          // the driver schema's own issues keep their kind (so messages read as everywhere else), under the entry
          (iss) => ctx.addIssue({ ...iss, path: [name, ...(iss.path as (string | number)[])] } as never),
        );
        if (parsed) out[name] = parsed;
      }
      return out;
    });
  return z
    .strictObject({
      name: z.string().min(1),
      description: z.string().optional(),
      /** The simulator profile this station was written for (informational). */
      profile: z.string().optional(),
      /**
       * Instrument seconds per real second: 1 (the default) for real hardware. A simulated bench whose clock runs
       * faster writes its factor here, so physical waits (TEC settle and dwell, ramp delays, rail settling, holds)
       * scale with it; see src/core/instrument-clock.ts.
       */
      timeScale: z.number().gt(0).max(1e9).default(1),
      lanes: z.strictObject({
        rows: z.number().int().min(1).max(256),
        cols: z.number().int().min(1).max(256),
        /** How physical lane numbers run over the array. */
        order: z.enum(['row-major', 'column-major']).default('row-major'),
        /** Lanes the link needs (default: all lanes minus the spares). */
        active: z.number().int().min(1).optional(),
        /** Physical lane numbers reserved as spares. */
        spares: z.array(z.number().int().min(1)).default([]),
      }),
      /**
       * The device under test, for the record: its class (fixtures/classes/NAME.yaml, whose published targets the
       * run is checked against), the fibre between its arrays, the lane pitch of its emitter array.
       */
      device: z
        .strictObject({
          class: z.string().min(1).optional(),
          fibreLengthM: z.number().min(0).optional(),
          lanePitchUm: z.number().gt(0).optional(),
        })
        .optional(),
      instruments,
      /** An error detector or a power meter behind an optical switch (src/station/switching.ts). */
      switching: switchingSchema.optional(),
    })
    .superRefine((s, ctx) => {
      const n = s.lanes.rows * s.lanes.cols;
      if (s.switching) {
        for (const iss of checkSwitching(s.switching, {
          lanes: n,
          tested: testedLanes(n, s.lanes.spares, s.lanes.active),
          provides: (name) => s.instruments[name]?.provides,
        }))
          ctx.addIssue({ code: 'custom', path: ['switching', ...iss.path], message: iss.message });
      }
      s.lanes.spares.forEach((lane, i) => {
        if (lane > n)
          ctx.addIssue({ code: 'custom', path: ['lanes', 'spares', i], message: `expected a lane in 1..${n}` });
      });
      if (new Set(s.lanes.spares).size !== s.lanes.spares.length) {
        ctx.addIssue({ code: 'custom', path: ['lanes', 'spares'], message: 'expected distinct spare lanes' });
      }
      if (s.lanes.active !== undefined && s.lanes.active + s.lanes.spares.length > n) {
        ctx.addIssue({
          code: 'custom',
          path: ['lanes', 'active'],
          message: `expected active + spares <= rows x cols = ${n}`,
        });
      }
    });
}

export type StationConfig = z.output<ReturnType<typeof stationSchema>>;
/** The station file as written (defaults not applied). */
export type StationFile = z.input<ReturnType<typeof stationSchema>>;

/** Reads and validates a station file. Throws ConfigError naming file:line:column, key and what was expected. */
export function loadStation(file: string, registry?: DriverRegistry): StationConfig {
  return loadYamlFile(file, stationSchema(registry));
}

/** Validates station YAML text; `label` names it in messages. */
export function parseStation(text: string, label = 'station', registry?: DriverRegistry): StationConfig {
  return parseYamlText(text, label, stationSchema(registry));
}

/** Validates an in-memory station description (e.g. the simulated bench's). Throws ConfigError. */
export function stationFromObject(doc: unknown, label = 'station', registry?: DriverRegistry): StationConfig {
  const schema = stationSchema(registry);
  const r = schema.safeParse(doc);
  if (r.success) return r.data;
  // Re-run through the YAML path so the message format is the same everywhere.
  return parseStation(JSON.stringify(doc, null, 1), label, registry);
}

/** A loaded station back in the form of a station file (each driver's settings beside the common keys). */
export function stationDocument(config: StationConfig): Record<string, unknown> {
  const instruments = Object.fromEntries(
    Object.entries(config.instruments).map(([name, { settings, ...rest }]) => [name, { ...rest, ...settings }]),
  );
  return { ...config, instruments };
}

/** The lanes a run tests: the active ones (the first non-spare lanes) and the spares. */
export function testedLanes(total: number, spares: readonly number[], active?: number): number[] {
  const spare = new Set(spares);
  const all = Array.from({ length: total }, (_, i) => i + 1);
  const primary = all.filter((l) => !spare.has(l)).slice(0, active ?? total - spare.size);
  return [...primary, ...spares].sort((a, b) => a - b);
}

/** Total physical lanes of the station's array. */
export function laneTotal(s: StationConfig): number {
  return s.lanes.rows * s.lanes.cols;
}

/** The instrument names of a station, in file order. */
export function stationInstruments(s: StationConfig): string[] {
  return Object.keys(s.instruments);
}
