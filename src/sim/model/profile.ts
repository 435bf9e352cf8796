/**
 * Link profiles: the data that describes one simulated device class (geometry, operating point, emitter,
 * channel, receiver, power rails, defects, thermal limits, instrument identities). Profiles are YAML files in
 * fixtures/profiles/NAME.yaml, validated here with zod; loadProfile() resolves built-in names or file paths.
 */

import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { loadYamlFile, parseYamlText } from '../../config/load-yaml.ts';

const pos = () => z.number().gt(0);
const nonneg = () => z.number().min(0);
const fraction = () => z.number().min(0).max(1);

export const instrumentIdentitySchema = z.strictObject({
  manufacturer: z.string().min(1),
  model: z.string().min(1),
  serial: z.string().min(1),
  firmware: z.string().min(1),
});
export type InstrumentIdentity = z.infer<typeof instrumentIdentitySchema>;

export const INSTRUMENT_ROLES = [
  'led-driver',
  'pd-receiver',
  'cmos-receiver',
  'power-analyzer',
  'optical-meter',
  'tec',
  'smu',
  'bert',
  'lane-switch',
  'attenuator',
] as const;
export type InstrumentRole = (typeof INSTRUMENT_ROLES)[number];

/**
 * Which instruments the simulated bench puts on the link. `kit` (the default): the per-lane receiver kit of
 * `receiver.type`. `bert`: no per-lane kit; the fibre bundle's lanes go to an optical switch whose first
 * `edChannels` channels feed an error detector's inputs, each through one channel of a variable optical
 * attenuator, and whose last channel feeds the optical power meter's head; an SMU sits on one lane's pads.
 * `receiver` then describes the error detector's optical front end (O/E converter, clock recovery).
 */
export const benchSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('kit') }),
  z.strictObject({
    kind: z.literal('bert'),
    /** Error-detector inputs, one attenuator channel in front of each. */
    edChannels: z.number().int().min(1).max(4).default(4),
    /** Insertion loss of the switch (every route), dB. */
    switchLossDb: z.number().min(0).max(10).default(0.5),
    /** Highest attenuation of the attenuator, dB. */
    attenuatorMaxDb: z.number().gt(0).max(60).default(40),
    /** The lane whose emitter the SMU's leads are on. */
    smuLane: z.number().int().min(1).default(1),
  }),
]);
export type BenchLayout = z.output<typeof benchSchema>;

const railSchema = z.strictObject({
  name: z.string().min(1),
  /** Nominal supply voltage. */
  volts: pos(),
  /** Static (idle) power drawn at nominal voltage, W. */
  staticW: nonneg().default(0),
});

export const linkProfileSchema = z
  .strictObject({
    name: z.string().min(1),
    description: z.string().default(''),
    /** Default seed for defect draws and noise. */
    seed: z.number().int().min(0).default(1),
    /**
     * Instrument seconds per real second of the in-process bench of `run --sim` / `serve --sim` when --time-scale
     * is not given (default: theirs, 1000). A bench whose BER screens take many gates runs faster.
     */
    runTimeScale: z.number().gt(0).max(1e9).optional(),
    geometry: z.strictObject({
      rows: z.number().int().min(1).max(256),
      cols: z.number().int().min(1).max(256),
      /** 1-based physical lanes reserved as spares (no payload until remapped). */
      spareLanes: z.array(z.number().int().min(1)).default([]),
      /** Centre-to-centre lane pitch of the emitter array, µm (array area = rows·pitch × cols·pitch). */
      pitchUm: pos().optional(),
    }),
    /**
     * The device class whose published targets the device is checked against (fixtures/classes/NAME.yaml).
     */
    class: z.string().min(1).optional(),
    /**
     * The fibre between the arrays. Absent: an ideal fibre (the channel's coupling and crosstalk as given, no
     * modal limit, no delay). `lengthM` is the default; a bench can run at another length (--fibre-length).
     */
    fibre: z
      .strictObject({
        lengthM: nonneg(),
        attenuationDbPerM: nonneg().default(0),
        /** Modal bandwidth-length product, Hz·m. */
        bandwidthLengthHzM: pos().default(1e12),
        /** Length at which channel.nearestDb / diagonalDb hold; crosstalk grows ∝ length from there. */
        refLengthM: pos().default(1),
        groupIndex: pos().default(1.5),
        /** 1σ lane-to-lane delay spread per metre, ps/m. */
        skewPsPerM: nonneg().default(0),
      })
      .optional(),
    link: z.strictObject({
      /** Default lane rate, bit/s. */
      rate: pos(),
      rateMin: pos(),
      rateMax: pos(),
      wavelengthNm: pos().default(450),
      /** Default PRBS pattern of the source and the checker. */
      pattern: z.enum(['PRBS7', 'PRBS9', 'PRBS11', 'PRBS15', 'PRBS20', 'PRBS23', 'PRBS29', 'PRBS31']).default('PRBS31'),
    }),
    operatingPoint: z.strictObject({
      /** DC bias (the '0' level current), A. */
      biasA: nonneg(),
      /** Modulation current added for a '1', A. */
      modA: nonneg(),
      /** Maximum bias + modulation per lane, A. */
      maxA: pos(),
    }),
    emitter: z.strictObject({
      diameterUm: pos(),
      /** Peak external quantum efficiency (0..1). */
      peakEqe: z.number().gt(0).max(1),
      /** Peak internal quantum efficiency; sets the ABC curve shape (B/A ratio). */
      peakIqe: z.number().gt(0).lt(1),
      /** Current density at peak EQE, A/cm². */
      jPeakAcm2: pos(),
      /** Lane-to-lane EQE spread, lognormal sigma. */
      eqeSpread: nonneg().default(0.03),
      /** Diode model V_f = v0 + n·kT/q·ln(1+I/Is) + I·Rs + dVdT·(T-25). */
      v0: nonneg(),
      ideality: pos(),
      saturationCurrentA: pos(),
      seriesOhm: nonneg(),
      vfTempCoeffVPerK: z.number().default(-0.003),
      /** P(T) = P(25 °C)·exp(-(T-25)/t1K). */
      t1K: pos().default(569),
      /** f3dB = fRefHz·sqrt(I_mean/iRefA), capped at fMaxHz (domain.md §5.4: anchored at the operating point). */
      fRefHz: pos(),
      iRefA: pos(),
      fMaxHz: pos(),
      /** Slow carrier/thermal tail: fraction of the step response and its time constant (makes long runs hurt). */
      tailFraction: fraction().default(0.05),
      tailTauS: pos().default(3e-9),
      /** Junction-to-case thermal resistance (self-heating), K/W. */
      rthKPerW: nonneg().default(0),
      /**
       * Thermal rollover: P ∝ 1/(1 + (J/leakageJAcm2)^leakageExponent·exp((T_j-25)/leakageTempK)). Absent: none.
       */
      leakageJAcm2: pos().optional(),
      leakageExponent: z.number().gt(1).default(6),
      leakageTempK: pos().default(9),
      /** Relative change of the modulation bandwidth per kelvin of junction temperature. */
      bandwidthTempCoeffPerK: z.number().default(0),
      /** Emission peak shift per kelvin of junction temperature, nm/K. */
      wavelengthShiftNmPerK: z.number().default(0),
    }),
    channel: z.strictObject({
      /** Fraction of emitted power reaching the own receiver core when aligned (coupling × fibre loss). */
      couplingEfficiency: z.number().gt(0).max(1),
      nearestDb: z.number().max(0).default(-20),
      diagonalDb: z.number().max(0).default(-26),
      /** Spot radius (1σ) and core radius at the fibre face, in core pitches (misalignment model). */
      spotSigmaPitch: pos().default(0.25),
      coreRadiusPitch: pos().default(0.35),
    }),
    receiver: z.strictObject({
      type: z.enum(['pd', 'cmos']),
      responsivityAW: pos(),
      /** TIA input-referred noise density, A/√Hz; noise bandwidth 0.75 × rate. */
      noiseDensityAHz: pos(),
      darkCurrentA: nonneg().default(1e-9),
      bandwidthHz: pos(),
      /** Average received power below this: loss of signal. */
      losThresholdW: pos(),
      /** Dark current doubles every this many kelvin (absent: constant). */
      darkCurrentDoublingK: pos().optional(),
      /** Relative responsivity change per kelvin. */
      responsivityTempCoeffPerK: z.number().default(0),
      /**
       * A CMOS sensor's pixels (type cmos): its data path is derived from them (src/sim/model/cmos-sensor.ts) and
       * replaces responsivityAW, darkCurrentA, bandwidthHz (then the TIA's own) and noiseDensityAHz (then the
       * TIA's at zero input capacitance).
       */
      sensor: z
        .strictObject({
          pixelPitchUm: pos(),
          /** Pixels per lane side, summed into one TIA input. */
          binning: z.number().int().min(1).max(64),
          quantumEfficiency: z.number().gt(0).max(1),
          fillFactor: z.number().gt(0).max(1),
          pixelCapacitanceF: pos(),
          pixelDarkCurrentA: nonneg(),
          tiaInputOhm: pos(),
          tiaVoltageNoiseVHz: nonneg(),
          /** Frame path (lane map): full well, read noise, frames per second. */
          fullWellE: pos().optional(),
          readNoiseE: nonneg().optional(),
          frameRateHz: pos().optional(),
        })
        .optional(),
      frame: z
        .strictObject({
          width: z.number().int().min(8).max(4096),
          height: z.number().int().min(8).max(4096),
          /** Counts per joule of received energy per lane at gain 1 (all of a spot). */
          countsPerJ: pos(),
          exposureS: pos().default(1e-3),
          /** Spot 1σ radius as a fraction of the lane pitch in pixels. */
          spotSigmaFrac: pos().default(0.22),
          blackLevel: nonneg().default(64),
          readNoise: nonneg().default(3),
          /** Sensor crosstalk: the share of a spot a nearest neighbour's pixel cell gets by carrier diffusion, dB. */
          pixelCrosstalkDb: z.number().max(0).optional(),
        })
        .optional(),
    }),
    power: z.strictObject({
      rails: z.tuple([railSchema, railSchema, railSchema, railSchema]),
      /** Rail 2: driver + gearbox energy per bit per active lane, J. */
      driverEnergyPerBitJ: nonneg(),
      /** Rail 3: receiver TIA power per active lane, W. */
      rxPowerPerLaneW: nonneg(),
    }),
    defects: z.strictObject({
      deadLaneProbability: fraction().default(0),
      weakLaneProbability: fraction().default(0),
      weakLaneFactor: fraction().default(0.5),
      /** Median ageing rate at the reference temperature, 1/h (P = P0·exp(-alpha·t)). */
      agingAlphaPerHour: nonneg().default(1.054e-6),
      agingSigma: nonneg().default(0.5),
      agingRefC: z.number().default(55),
      activationEv: nonneg().default(0.65),
      /** Exponent m of the current-density acceleration (J/J_ref)^m (an assumption; see src/sim/model/ageing.ts). */
      currentExponent: nonneg().default(2),
      /** The current alpha is quoted at, A; default the operating point's mean current (bias + modulation/2). */
      agingRefCurrentA: pos().optional(),
      /**
       * The simulated bench ages the DUT by its instrument clock (src/sim/instruments/link.ts). Off for a bench whose
       * clock runs so fast that the controller's own overhead would age the DUT by months in one qualification.
       */
      ageWithClock: z.boolean().default(true),
      /** Sudden-death rate per lane per effective hour. */
      suddenDeathPerHour: nonneg().default(1e-8),
    }),
    thermal: z.strictObject({
      ambientC: z.number().default(25),
      minC: z.number(),
      maxC: z.number(),
      /** Heating / cooling rate of the TEC at full drive, K per instrument second. */
      rampCPerS: pos(),
      /** Time constant of the mount toward ambient, s (a first-order plant). */
      plantTauS: pos().default(600),
      /** The TEC controller's PID gains (drive fraction per K, per K·s, per K/s). */
      pid: z.strictObject({ kp: nonneg(), ki: nonneg(), kd: nonneg() }).default({ kp: 0.3, ki: 0.045, kd: 0 }),
    }),
    bench: benchSchema.default({ kind: 'kit' }),
    instruments: z.strictObject({
      'led-driver': instrumentIdentitySchema,
      'pd-receiver': instrumentIdentitySchema,
      'cmos-receiver': instrumentIdentitySchema,
      'power-analyzer': instrumentIdentitySchema,
      'optical-meter': instrumentIdentitySchema,
      tec: instrumentIdentitySchema,
      /** The instruments of a `bert` bench. */
      smu: instrumentIdentitySchema.optional(),
      bert: instrumentIdentitySchema.optional(),
      'lane-switch': instrumentIdentitySchema.optional(),
      attenuator: instrumentIdentitySchema.optional(),
    }),
  })
  .superRefine((p, ctx) => {
    const lanes = p.geometry.rows * p.geometry.cols;
    const seen = new Set<number>();
    p.geometry.spareLanes.forEach((l, i) => {
      if (l > lanes) {
        ctx.addIssue({
          code: 'custom',
          path: ['geometry', 'spareLanes', i],
          message: `expected a lane number in 1..${lanes}`,
        });
      }
      if (seen.has(l)) {
        ctx.addIssue({ code: 'custom', path: ['geometry', 'spareLanes', i], message: 'expected a lane listed once' });
      }
      seen.add(l);
    });
    if (p.geometry.spareLanes.length >= lanes) {
      ctx.addIssue({ code: 'custom', path: ['geometry', 'spareLanes'], message: 'expected at least one active lane' });
    }
    if (p.link.rateMin > p.link.rateMax) {
      ctx.addIssue({ code: 'custom', path: ['link', 'rateMin'], message: 'expected rateMin <= rateMax' });
    }
    if (p.link.rate < p.link.rateMin || p.link.rate > p.link.rateMax) {
      ctx.addIssue({ code: 'custom', path: ['link', 'rate'], message: 'expected a rate within rateMin..rateMax' });
    }
    if (p.operatingPoint.biasA + p.operatingPoint.modA > p.operatingPoint.maxA) {
      ctx.addIssue({
        code: 'custom',
        path: ['operatingPoint', 'maxA'],
        message: 'expected maxA >= biasA + modA',
      });
    }
    if (p.thermal.minC >= p.thermal.maxC) {
      ctx.addIssue({ code: 'custom', path: ['thermal', 'maxC'], message: 'expected maxC > minC' });
    }
    if (p.bench.kind === 'bert') {
      for (const role of ['smu', 'bert', 'lane-switch', 'attenuator'] as const) {
        if (!p.instruments[role])
          ctx.addIssue({
            code: 'custom',
            path: ['instruments', role],
            message: `expected the identity of the ${role} (bench kind bert)`,
          });
      }
      if (p.bench.smuLane > lanes)
        ctx.addIssue({ code: 'custom', path: ['bench', 'smuLane'], message: `expected a lane number in 1..${lanes}` });
      if (p.receiver.type !== 'pd')
        ctx.addIssue({
          code: 'custom',
          path: ['receiver', 'type'],
          message: "expected pd (the error detector's O/E front end) for bench kind bert",
        });
    }
    if (p.receiver.type === 'cmos' && !p.receiver.frame) {
      ctx.addIssue({ code: 'custom', path: ['receiver', 'frame'], message: 'expected a frame section for cmos' });
    }
  });

export type LinkProfile = z.output<typeof linkProfileSchema>;

/** fixtures/profiles relative to this file (src/sim/model/profile.ts). */
export const PROFILE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../fixtures/profiles');

/** Names of the built-in profiles (fixtures/profiles/*.yaml), sorted. */
export function builtinProfileNames(dir = PROFILE_DIR): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((f) => f.endsWith('.yaml'))
    .map((f) => f.slice(0, -5))
    .sort();
}

/**
 * Loads a profile by built-in name (`mosaic-800g`) or by file path. Throws ConfigError (file:line:column, key
 * path, expectation) on invalid content, and Error listing the available names for an unknown name.
 */
export function loadProfile(nameOrPath: string): LinkProfile {
  const looksLikePath =
    nameOrPath.includes('/') || nameOrPath.includes('\\') || /\.ya?ml$/i.test(nameOrPath) || existsSync(nameOrPath);
  if (looksLikePath) return loadYamlFile(nameOrPath, linkProfileSchema);
  const names = builtinProfileNames();
  if (!names.includes(nameOrPath)) {
    throw new Error(`unknown profile "${nameOrPath}"; available: ${names.join(', ') || '(none)'}`);
  }
  return loadYamlFile(path.join(PROFILE_DIR, `${nameOrPath}.yaml`), linkProfileSchema);
}

/** Parses profile YAML text (for tests and embedded profiles). */
export function parseProfile(text: string, label = '<profile>'): LinkProfile {
  return parseYamlText(text, label, linkProfileSchema);
}

/** Total physical lanes. */
export function laneCount(p: LinkProfile): number {
  return p.geometry.rows * p.geometry.cols;
}

/** Emitter-array area from the lane pitch, mm² (undefined without a pitch). */
export function arrayAreaMm2(p: LinkProfile): number | undefined {
  const pitch = p.geometry.pitchUm;
  if (pitch === undefined) return undefined;
  return p.geometry.rows * pitch * 1e-3 * (p.geometry.cols * pitch * 1e-3);
}

/** 1-based active (non-spare) lanes. */
export function activeLanes(p: LinkProfile): number[] {
  const spare = new Set(p.geometry.spareLanes);
  const out: number[] = [];
  for (let l = 1; l <= laneCount(p); l++) if (!spare.has(l)) out.push(l);
  return out;
}
