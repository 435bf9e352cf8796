/**
 * Station files (fixtures/stations/*.yaml): which instrument plays each role, where it is, how to talk to it,
 * its limits and ramps, rails, lane geometry and the identity each role must answer with. Validated with zod
 * (strict: unknown keys are errors); loadStation() reports problems as `file:line:column key.path: expected ...`.
 */

import { z } from 'zod';
import { timerMs, timerSeconds } from '../config/durations.ts';
import { loadYamlFile, parseYamlText } from '../config/load-yaml.ts';

export const ROLES = ['led-driver', 'pd-receiver', 'cmos-receiver', 'power-analyzer', 'optical-meter', 'tec'] as const;
export type Role = (typeof ROLES)[number];

const pos = () => z.number().gt(0);

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

/** Keys every instrument entry has. */
const common = {
  /** VISA resource: `TCPIP0::host::5025::SOCKET` or `ASRL/dev/ttyUSB0::INSTR`. */
  resource: z.string().min(1),
  /** Default timeout per transaction, ms. */
  timeoutMs: timerMs().int().gt(0).default(2000),
  /** Connect timeout, ms (default: timeoutMs). */
  connectTimeoutMs: timerMs().int().gt(0).optional(),
  /** A regular expression the `*IDN?` reply must match; a mismatch is refused. */
  identity: regex.default(''),
  serial: serialSchema.optional(),
  /** Read SYST:ERR? after every setting command so a refusal becomes an error (default true). */
  checkErrors: z.boolean().default(true),
};

const ledSchema = z
  .strictObject({
    ...common,
    limits: z.strictObject({
      /** Maximum bias + modulation per lane, A. */
      maxCurrentA: pos(),
      /** Lane-rate range [min, max] in bit/s; sequences asking for a rate outside it are refused at load. */
      rateBps: z.tuple([pos(), pos()]).optional(),
    }),
    ramp: z.strictObject({ stepA: pos(), delayMs: timerMs().min(0).default(0) }).optional(),
    /** The DUT's operating point per lane: where steps drive the lanes. */
    operating: z.strictObject({ biasA: z.number().min(0), modA: z.number().min(0) }).optional(),
  })
  .superRefine((c, ctx) => {
    if (c.limits.rateBps && c.limits.rateBps[0] > c.limits.rateBps[1]) {
      ctx.addIssue({ code: 'custom', path: ['limits', 'rateBps'], message: 'a range [min, max] with min ≤ max' });
    }
    if (c.operating && c.operating.biasA + c.operating.modA > c.limits.maxCurrentA) {
      ctx.addIssue({
        code: 'custom',
        path: ['operating'],
        message: `an operating point within limits.maxCurrentA ${c.limits.maxCurrentA} A (bias + mod is ${c.operating.biasA + c.operating.modA} A)`,
      });
    }
  });

const receiverSchema = z.strictObject({ ...common });

const railSchema = z.strictObject({
  channel: z.number().int().min(1).max(4),
  name: z.string().min(1),
  /** Counts toward energy per bit. */
  counted: z.boolean().default(true),
  /** Highest voltage setpoint allowed, V. */
  maxV: pos().optional(),
});

const powerSchema = z.strictObject({
  ...common,
  rails: z
    .array(railSchema)
    .default([])
    .refine((r) => new Set(r.map((x) => x.channel)).size === r.length, { message: 'expected distinct rail channels' }),
  safe: z.strictObject({ outputs: z.enum(['keep', 'off']).default('keep') }).default({ outputs: 'keep' }),
});

const opticalSchema = z.strictObject({
  ...common,
  wavelengthNm: pos().optional(),
});

const tecSchema = z
  .strictObject({
    ...common,
    limits: z.strictObject({ minC: z.number(), maxC: z.number() }),
    /** Setpoint of the safe state; without it, the safe state switches the TEC output off. */
    idleC: z.number().optional(),
    ramp: z.strictObject({ stepC: pos(), delayMs: timerMs().min(0).default(0) }).optional(),
    settle: z.strictObject({ toleranceC: pos(), dwellS: timerSeconds().min(0) }).optional(),
  })
  .superRefine((t, ctx) => {
    if (t.limits.minC >= t.limits.maxC) {
      ctx.addIssue({
        code: 'custom',
        path: ['limits', 'maxC'],
        message: `expected a number > limits.minC (${t.limits.minC})`,
      });
    }
    if (t.idleC !== undefined && (t.idleC < t.limits.minC || t.idleC > t.limits.maxC)) {
      ctx.addIssue({
        code: 'custom',
        path: ['idleC'],
        message: `expected a temperature within limits ${t.limits.minC}..${t.limits.maxC}`,
      });
    }
  });

export const stationSchema = z
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
    instruments: z.strictObject({
      'led-driver': ledSchema.optional(),
      'pd-receiver': receiverSchema.optional(),
      'cmos-receiver': receiverSchema.optional(),
      'power-analyzer': powerSchema.optional(),
      'optical-meter': opticalSchema.optional(),
      tec: tecSchema.optional(),
    }),
  })
  .superRefine((s, ctx) => {
    const n = s.lanes.rows * s.lanes.cols;
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
    const i = s.instruments;
    if (!i['led-driver']) {
      ctx.addIssue({ code: 'custom', path: ['instruments'], message: 'expected a led-driver entry (required)' });
    }
    const receivers = (['pd-receiver', 'cmos-receiver'] as const).filter((r) => i[r]);
    if (receivers.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        path: receivers.length === 0 ? ['instruments'] : ['instruments', 'cmos-receiver'],
        message:
          receivers.length === 0
            ? 'expected one receiver: a pd-receiver or a cmos-receiver entry'
            : 'expected one receiver, not both pd-receiver and cmos-receiver',
      });
    }
  });

export type StationConfig = z.output<typeof stationSchema>;
/** The station file as written (defaults not applied). */
export type StationFile = z.input<typeof stationSchema>;
export type LedConfig = z.output<typeof ledSchema>;
export type PowerConfig = z.output<typeof powerSchema>;
export type TecConfig = z.output<typeof tecSchema>;
export type OpticalConfig = z.output<typeof opticalSchema>;
/** The keys every instrument entry has. */
export type InstrumentConfig = z.output<typeof receiverSchema>;

/** Reads and validates a station file. Throws ConfigError naming file:line:column, key and what was expected. */
export function loadStation(file: string): StationConfig {
  return loadYamlFile(file, stationSchema);
}

/** Validates station YAML text; `label` names it in messages. */
export function parseStation(text: string, label = 'station'): StationConfig {
  return parseYamlText(text, label, stationSchema);
}

/** Validates an in-memory station description (e.g. the simulated bench's). Throws ConfigError. */
export function stationFromObject(doc: unknown, label = 'station'): StationConfig {
  const r = stationSchema.safeParse(doc);
  if (r.success) return r.data;
  // Re-run through the YAML path so the message format is the same everywhere.
  return parseYamlText(JSON.stringify(doc, null, 1), label, stationSchema);
}

/** Total physical lanes of the station's array. */
export function laneTotal(s: StationConfig): number {
  return s.lanes.rows * s.lanes.cols;
}

/** The roles the station configures, in canonical order. */
export function stationRoles(s: StationConfig): Role[] {
  return ROLES.filter((r) => s.instruments[r] !== undefined);
}
