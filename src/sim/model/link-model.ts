/**
 * LinkModel: the one physical link every simulated instrument shares. Holds the per-lane drive state (bias,
 * modulation, output, pattern, seed, invert, checker pattern) and the global state (rate, temperature, time and
 * stress, bundle misalignment, threshold, supply rails), and derives per-lane optical power, received power,
 * photocurrent, forward voltage, Q, BER, sync and loss of signal, plus rail power and CMOS frames.
 *
 * Lanes in the public API are 1-based physical lane numbers (as in SCPI channel lists); the returned
 * Float64Arrays are indexed by lane - 1 and cover all lanes. Derived arrays are computed together, cached, and
 * invalidated by any state change, so repeated queries are free; a full recompute for 400 lanes takes tens of µs.
 * Q and BER (per-bit statistics, bit-statistics.ts) are computed on first use after a change: 15-25× that.
 * Everything is deterministic for a seed; noise in frames and error counts comes from the Rng passed in.
 */

import { z } from 'zod';
import { berToQ, erf, normalTail } from '../../core/ber.ts';
import { isPrbsName, type PrbsName } from '../../core/prbs.ts';
import type { Rng } from '../../core/rng.ts';
import { accelerationFactor, currentDensity } from './ageing.ts';
import {
  type BitPopulations,
  bitPopulations,
  clockRunDistribution,
  crosstalkOffsets,
  prbsRunDistribution,
  STATS_SCRATCH,
  statisticalBer,
} from './bit-statistics.ts';
import { applyChannel, type CouplingMap, couplingMap, neighbourTable, splitCrosstalk } from './channel.ts';
import { effectiveReceiver } from './cmos-sensor.ts';
import { arrheniusFactor, drawDefects, type LaneDefects } from './defects.ts';
import { type ElectricalFault, FAULT_CODE, faultedCurrent, faultedForwardVoltage } from './electrical-faults.ts';
import {
  bandwidthAt,
  type EmitterParams,
  emissionWavelengthNm,
  forwardVoltageDc,
  heatedDrive,
  opticalPowerDc,
} from './emitter.ts';
import { channelAtLength, type FibreParams, laneDelays, modalBandwidth } from './fibre.ts';
import { energyPerBit, type RailState, railPowers } from './power.ts';
import { type LinkProfile, laneCount } from './profile.ts';
import {
  combinedBandwidth,
  eyeBer,
  noiseSigma,
  type ReceiverParams,
  type ReceiverThermal,
  receiverAt,
} from './receiver.ts';
import { channelDelays } from './skew.ts';

export type LinkPattern = PrbsName | 'CLOCK' | 'ONES' | 'ZEROS';
export const LINK_PATTERNS: readonly LinkPattern[] = [
  'PRBS7',
  'PRBS9',
  'PRBS11',
  'PRBS15',
  'PRBS20',
  'PRBS23',
  'PRBS29',
  'PRBS31',
  'CLOCK',
  'ONES',
  'ZEROS',
];
const PATTERN_CODE = new Map<LinkPattern, number>(LINK_PATTERNS.map((p, i) => [p, i]));

export function isLinkPattern(s: string): s is LinkPattern {
  return PATTERN_CODE.has(s as LinkPattern);
}

export type Lanes = readonly number[];

/** Ageing smaller than this (relative power of the fastest-ageing lane) may wait before the lanes are aged and recomputed. */
export const AGEING_RESOLUTION = 1e-9;

/** Relative supply voltage below which a CMOS rail browns out (its function stops). */
const BROWNOUT = 0.9;

export interface LinkModelOptions {
  /** Overrides profile.seed for defect draws. */
  seed?: number;
  /** Start with every non-spare lane lit at the operating point (default false: all outputs off). */
  operating?: boolean;
  /** Fibre length, m (default the profile's fibre.lengthM; needs a fibre section). */
  fibreLengthM?: number;
}

/** Faults a fault plan can inject into the link. Lanes are 1-based. */
export type LinkFault =
  | { kind: 'dead-lanes'; lanes: number[] }
  | { kind: 'open-lanes'; lanes: number[] }
  | { kind: 'short-lanes'; lanes: number[] }
  | { kind: 'weak-lanes'; lanes: number[]; factor: number }
  | { kind: 'misaligned-bundle'; dx: number; dy: number }
  | { kind: 'thermal-drift'; celsiusPerHour: number };

export const linkFaultSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('dead-lanes'), lanes: z.array(z.number().int().min(1)).min(1) }),
  z.strictObject({ kind: z.literal('open-lanes'), lanes: z.array(z.number().int().min(1)).min(1) }),
  z.strictObject({ kind: z.literal('short-lanes'), lanes: z.array(z.number().int().min(1)).min(1) }),
  z.strictObject({
    kind: z.literal('weak-lanes'),
    lanes: z.array(z.number().int().min(1)).min(1),
    factor: z.number().min(0).max(1),
  }),
  z.strictObject({ kind: z.literal('misaligned-bundle'), dx: z.number(), dy: z.number() }),
  z.strictObject({ kind: z.literal('thermal-drift'), celsiusPerHour: z.number() }),
]);

interface AgeingRates {
  /** The model state version they were computed for. */
  version: number;
  af: Float64Array;
  /** Largest alpha × AF over the lanes, 1/h. */
  maxLoss: number;
  /** Hours at these rates until the first lane reaches its sudden death. */
  toDeathH: number;
  pendingH: number;
}

interface LaneStatistics {
  ber: Float64Array;
  /** Q of the mean eye (mean levels over the noise), the fallback where the BER underflows. */
  meanQ: Float64Array;
}

interface Derived {
  tempC: Float64Array; // [1]: effective temperature
  /** Junction temperature per lane (case temperature for an unlit lane), °C. */
  junction: Float64Array;
  alive: Uint8Array;
  lit: Uint8Array;
  /** Fraction of time at the '1' level (pattern density). */
  density: Float64Array;
  p0: Float64Array;
  p1: Float64Array;
  optical: Float64Array;
  received: Float64Array;
  photocurrent: Float64Array;
  vf: Float64Array;
  /** Emitted OMA per lane (0 for a DC pattern), W. */
  oma: Float64Array;
  /** Power reaching each lane's fibre end (own and crosstalk, before the path), W. */
  reaching: Float64Array;
  /** BER and mean-eye Q per lane at a threshold: computed on first use (a power reading does not need them). */
  stats: Map<number, LaneStatistics>;
  sync: Uint8Array;
  los: Uint8Array;
  rails: RailState[];
  ledWatts: number;
}

export class LinkModel {
  readonly profile: LinkProfile;
  readonly seed: number;
  readonly rows: number;
  readonly cols: number;
  readonly lanes: number;
  /** 1-based spare lanes (copied from the profile). */
  readonly spareLanes: readonly number[];

  // per-lane state
  private readonly biasA: Float64Array;
  private readonly modA: Float64Array;
  private readonly outputOn: Uint8Array;
  private readonly pattern: Uint8Array;
  private readonly laneSeed: Uint32Array;
  private readonly invert: Uint8Array;
  private readonly checker: Uint8Array;
  private readonly checkerInvert: Uint8Array;
  private readonly forcedDead: Uint8Array;
  /** Electrical fault per lane (electrical-faults.ts FAULT_CODE; 0: none). */
  private readonly electrical: Uint8Array;
  private readonly faultFactor: Float64Array;
  private readonly effHours: Float64Array;
  private readonly isSpare: Uint8Array;
  /** Transmission of each lane's path from the fibre end to the receiver (switch, attenuator), linear. */
  private readonly pathGain: Float64Array;
  /** DC current an external source (an SMU on the lane's pads) drives the lane with; NaN: none. */
  private readonly external: Float64Array;

  // global state
  private rateBps: number;
  private baseTempC: number;
  private driftCPerHour = 0;
  private driftSinceS = 0;
  private timeS = 0;
  private dx = 0;
  private dy = 0;
  private thresholdRel = 0.5;
  private readonly railOn: boolean[] = [true, true, true, true];
  private readonly railVolts: number[];

  // static per-instance tables
  private readonly defects: LaneDefects;
  private readonly nbIdx: Int32Array;
  private coupling: CouplingMap;
  private readonly emitter: EmitterParams;
  private readonly rx: ReceiverParams & ReceiverThermal;
  private readonly fibre: FibreParams | undefined;
  private fibreM: number;
  private delays: Float64Array | undefined;

  /** Ageing rates of the present state and the hours aged at them but not yet applied (see advance). */
  private rates: AgeingRates = { version: -1, af: new Float64Array(0), maxLoss: 0, toDeathH: 0, pendingH: 0 };
  private version = 1;
  private cachedVersion = 0;
  private cache: Derived | undefined;
  /** Bit populations per pattern, inversion, rate and bandwidth (lanes nearly always share them). */
  private readonly populations = new Map<string, BitPopulations>();

  constructor(profile: LinkProfile, opts: LinkModelOptions = {}) {
    this.profile = profile;
    this.seed = opts.seed ?? profile.seed;
    this.rows = profile.geometry.rows;
    this.cols = profile.geometry.cols;
    this.lanes = laneCount(profile);
    this.spareLanes = [...profile.geometry.spareLanes].sort((a, b) => a - b);
    const n = this.lanes;
    this.biasA = new Float64Array(n).fill(profile.operatingPoint.biasA);
    this.modA = new Float64Array(n).fill(profile.operatingPoint.modA);
    this.outputOn = new Uint8Array(n);
    const pat = PATTERN_CODE.get(profile.link.pattern) ?? 7;
    this.pattern = new Uint8Array(n).fill(pat);
    this.checker = new Uint8Array(n).fill(pat);
    this.laneSeed = new Uint32Array(n);
    for (let i = 0; i < n; i++) this.laneSeed[i] = i + 1;
    this.invert = new Uint8Array(n);
    this.checkerInvert = new Uint8Array(n);
    this.forcedDead = new Uint8Array(n);
    this.electrical = new Uint8Array(n);
    this.faultFactor = new Float64Array(n).fill(1);
    this.effHours = new Float64Array(n);
    this.isSpare = new Uint8Array(n);
    for (const l of profile.geometry.spareLanes) this.isSpare[l - 1] = 1;
    this.pathGain = new Float64Array(n).fill(1);
    this.external = new Float64Array(n).fill(Number.NaN);
    this.rateBps = profile.link.rate;
    this.baseTempC = profile.thermal.ambientC;
    this.railVolts = profile.power.rails.map((r) => r.volts);
    this.defects = drawDefects(n, this.seed, profile.defects, profile.emitter.eqeSpread);
    this.nbIdx = neighbourTable(this.rows, this.cols);
    const f = profile.fibre;
    this.fibre = f && { ...f, skewSPerM: f.skewPsPerM * 1e-12 };
    this.fibreM = 0;
    if (opts.fibreLengthM !== undefined) this.checkFibreLength(opts.fibreLengthM);
    this.fibreM = opts.fibreLengthM ?? f?.lengthM ?? 0;
    this.coupling = couplingMap(channelAtLength(profile.channel, this.fibre, this.fibreM), 0, 0);
    this.emitter = { ...profile.emitter, wavelengthNm: profile.link.wavelengthNm };
    // a CMOS sensor's data path comes from its pixels (binning, QE, capacitance), a PD kit's as given
    this.rx = effectiveReceiver(profile.receiver, profile.link.wavelengthNm);
    if (opts.operating) {
      for (let i = 0; i < n; i++) this.outputOn[i] = this.isSpare[i] ? 0 : 1;
    }
  }

  /** A model with every non-spare lane lit at the profile's operating point. */
  static operating(profile: LinkProfile, seed?: number): LinkModel {
    return new LinkModel(profile, seed === undefined ? { operating: true } : { operating: true, seed });
  }

  // ---------------------------------------------------------------- lanes helpers

  /** All lanes, 1..N. */
  allLanes(): number[] {
    return Array.from({ length: this.lanes }, (_, i) => i + 1);
  }

  /** Non-spare lanes, 1-based. */
  payloadLanes(): number[] {
    const out: number[] = [];
    for (let i = 0; i < this.lanes; i++) if (!this.isSpare[i]) out.push(i + 1);
    return out;
  }

  /** (row, col), 0-based, of a 1-based lane. */
  position(lane: number): { row: number; col: number } {
    const i = this.index(lane);
    return { row: Math.floor(i / this.cols), col: i % this.cols };
  }

  private index(lane: number): number {
    if (!Number.isInteger(lane) || lane < 1 || lane > this.lanes) {
      throw new RangeError(`lane ${lane} out of range 1..${this.lanes}`);
    }
    return lane - 1;
  }

  private each(lanes: Lanes, values: number | readonly number[], set: (i: number, v: number) => void): void {
    if (typeof values !== 'number' && values.length !== lanes.length) {
      throw new RangeError(`expected ${lanes.length} values, got ${values.length}`);
    }
    const idx = lanes.map((l) => this.index(l)); // validate all before changing anything
    for (let k = 0; k < idx.length; k++) set(idx[k], typeof values === 'number' ? values : values[k]);
    this.touch();
  }

  private touch(): void {
    this.version++;
  }

  // ---------------------------------------------------------------- per-lane state

  setBias(lanes: Lanes, amps: number | readonly number[]): void {
    this.each(lanes, amps, (i, v) => {
      if (!(v >= 0)) throw new RangeError(`bias must be >= 0 A, got ${v}`);
      this.biasA[i] = v;
    });
  }

  setModulation(lanes: Lanes, amps: number | readonly number[]): void {
    this.each(lanes, amps, (i, v) => {
      if (!(v >= 0)) throw new RangeError(`modulation must be >= 0 A, got ${v}`);
      this.modA[i] = v;
    });
  }

  setOutput(lanes: Lanes, on: boolean): void {
    this.each(lanes, on ? 1 : 0, (i, v) => {
      this.outputOn[i] = v;
    });
  }

  setPattern(lanes: Lanes, pattern: LinkPattern): void {
    const code = this.patternCode(pattern);
    this.each(lanes, code, (i, v) => {
      this.pattern[i] = v;
    });
  }

  setSeed(lanes: Lanes, seeds: number | readonly number[]): void {
    this.each(lanes, seeds, (i, v) => {
      this.laneSeed[i] = v >>> 0;
    });
  }

  setInvert(lanes: Lanes, invert: boolean): void {
    this.each(lanes, invert ? 1 : 0, (i, v) => {
      this.invert[i] = v;
    });
  }

  setCheckerPattern(lanes: Lanes, pattern: LinkPattern): void {
    const code = this.patternCode(pattern);
    this.each(lanes, code, (i, v) => {
      this.checker[i] = v;
    });
  }

  setCheckerInvert(lanes: Lanes, invert: boolean): void {
    this.each(lanes, invert ? 1 : 0, (i, v) => {
      this.checkerInvert[i] = v;
    });
  }

  private patternCode(p: LinkPattern): number {
    const c = PATTERN_CODE.get(p);
    if (c === undefined) throw new RangeError(`unknown pattern ${p}`);
    return c;
  }

  getBias(lanes: Lanes = this.allLanes()): number[] {
    return lanes.map((l) => this.biasA[this.index(l)]);
  }
  getModulation(lanes: Lanes = this.allLanes()): number[] {
    return lanes.map((l) => this.modA[this.index(l)]);
  }
  getOutput(lanes: Lanes = this.allLanes()): boolean[] {
    return lanes.map((l) => this.outputOn[this.index(l)] === 1);
  }
  getPattern(lanes: Lanes = this.allLanes()): LinkPattern[] {
    return lanes.map((l) => LINK_PATTERNS[this.pattern[this.index(l)]]);
  }
  getSeed(lanes: Lanes = this.allLanes()): number[] {
    return lanes.map((l) => this.laneSeed[this.index(l)]);
  }
  getInvert(lanes: Lanes = this.allLanes()): boolean[] {
    return lanes.map((l) => this.invert[this.index(l)] === 1);
  }
  getCheckerPattern(lanes: Lanes = this.allLanes()): LinkPattern[] {
    return lanes.map((l) => LINK_PATTERNS[this.checker[this.index(l)]]);
  }

  // ---------------------------------------------------------------- global state

  get rate(): number {
    return this.rateBps;
  }
  setRate(bitsPerSecond: number): void {
    if (!(bitsPerSecond > 0)) throw new RangeError(`rate must be > 0, got ${bitsPerSecond}`);
    this.rateBps = bitsPerSecond;
    this.touch();
  }

  /** Effective device temperature: the set (TEC) temperature plus any thermal-drift fault. */
  get temperature(): number {
    return this.baseTempC + (this.driftCPerHour * (this.timeS - this.driftSinceS)) / 3600;
  }
  /** Sets the device (TEC-controlled) temperature, °C. */
  setTemperature(celsius: number): void {
    if (!Number.isFinite(celsius)) throw new RangeError(`temperature must be finite, got ${celsius}`);
    this.baseTempC = celsius;
    this.touch();
  }

  get threshold(): number {
    return this.thresholdRel;
  }
  /** Decision threshold relative to the eye, 0.5 = optimum. */
  setThreshold(relative: number): void {
    if (!(relative >= 0 && relative <= 1)) throw new RangeError(`threshold must be in 0..1, got ${relative}`);
    this.thresholdRel = relative;
    this.touch();
  }

  get misalignment(): { dx: number; dy: number } {
    return { dx: this.dx, dy: this.dy };
  }
  /** Bundle offset in core pitches (dx along columns, dy along rows). */
  setMisalignment(dx: number, dy: number): void {
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) throw new RangeError('misalignment must be finite');
    this.dx = dx;
    this.dy = dy;
    this.coupling = couplingMap(channelAtLength(this.profile.channel, this.fibre, this.fibreM), dx, dy);
    this.touch();
  }

  /** Fibre length, m (0 without a fibre section). */
  get fibreLength(): number {
    return this.fibreM;
  }
  /** Puts another length of the profile's fibre between the arrays (loss, crosstalk, modal bandwidth, delay). */
  setFibreLength(metres: number): void {
    this.checkFibreLength(metres);
    this.fibreM = metres;
    this.delays = undefined;
    this.coupling = couplingMap(channelAtLength(this.profile.channel, this.fibre, metres), this.dx, this.dy);
    this.touch();
  }
  private checkFibreLength(metres: number): void {
    if (!this.fibre) throw new RangeError(`profile ${this.profile.name} has no fibre section: its length is fixed`);
    if (!(metres >= 0 && metres <= 10_000)) throw new RangeError(`fibre length must be in 0..10000 m, got ${metres}`);
  }
  /** Modal bandwidth of the fibre at its length, Hz (Infinity: no modal limit). */
  modalBandwidth(): number {
    return modalBandwidth(this.fibre, this.fibreM);
  }
  /**
   * Arrival delay per lane (index lane - 1), s: its propagation through the fibre plus its own channel's (driver
   * and receiver, skew.ts). Their spread is the skew a deskew must absorb.
   */
  laneDelays(): Float64Array {
    if (!this.delays) {
      const d = laneDelays(this.fibre, this.lanes, this.seed, this.fibreM);
      const ch = channelDelays(this.lanes, this.seed);
      for (let i = 0; i < d.length; i++) d[i]! += ch[i]!;
      this.delays = d;
    }
    return this.delays.slice();
  }

  /** Changes with every change of state (drive, light path, temperature, ageing applied): equal, same state. */
  get stateVersion(): number {
    return this.version;
  }

  /** Model time in seconds since construction. */
  get time(): number {
    return this.timeS;
  }

  /** Hours of operation elapsed (model clock). */
  get stressHours(): number {
    return this.timeS / 3600;
  }

  /** Effective (Arrhenius-accelerated, reference-temperature) hours of each lane, indexed lane-1. */
  effectiveHours(): Float64Array {
    this.flushAgeing();
    return this.effHours.slice();
  }

  /**
   * Advances the model clock: each lit lane ages by hours × AF(T, J) (ageing.ts: Arrhenius at the device
   * temperature, Ea and reference agingRefC from the profile, times (J/J_ref)^m at the lane's mean current); a
   * thermal-drift fault moves the temperature. Long steps are integrated at the mid temperature.
   */
  advance(seconds: number): void {
    if (!(seconds >= 0)) throw new RangeError(`seconds must be >= 0, got ${seconds}`);
    if (seconds === 0) return;
    const hours = seconds / 3600;
    if (this.driftCPerHour !== 0) {
      // the temperature moves with time: age this interval at its mid temperature, lane by lane
      this.flushAgeing();
      const tMid = this.baseTempC + (this.driftCPerHour * (this.timeS + seconds / 2 - this.driftSinceS)) / 3600;
      this.age(hours, this.accelerations(tMid, this.meanCurrents()));
      this.timeS += seconds;
      this.touch();
      return;
    }
    // Temperature and drive are what they were at the last state change (every change touches): the interval
    // ages every lane at the rates of that state, kept as pending hours. The lanes are aged and recomputed when
    // the pending ageing could matter (AGEING_RESOLUTION of the fastest lane's power), when a lane would reach its
    // sudden death, or at the next state change: an instrument read every millisecond costs O(1), not 400 lanes.
    if (this.rates.version !== this.version) {
      this.flushAgeing();
      this.rates = this.ratesNow();
    }
    this.timeS += seconds;
    this.rates.pendingH += hours;
    if (this.rates.pendingH * this.rates.maxLoss > AGEING_RESOLUTION || this.rates.pendingH >= this.rates.toDeathH) {
      this.flushAgeing();
      this.touch();
    }
  }

  /** Per-lane acceleration at the present state, the fastest lane's loss per hour and the hours to the first death. */
  private ratesNow(): AgeingRates {
    const af = this.accelerations(this.temperature, this.meanCurrents());
    let maxLoss = 0;
    let toDeathH = Number.POSITIVE_INFINITY;
    for (let i = 0; i < this.lanes; i++) {
      if (!(af[i] > 0)) continue;
      maxLoss = Math.max(maxLoss, this.defects.alpha[i] * af[i]);
      const left = (this.defects.deathAtHours[i] - this.effHours[i]) / af[i];
      if (left > 0) toDeathH = Math.min(toDeathH, left);
    }
    return { version: this.version, af, maxLoss, toDeathH, pendingH: 0 };
  }

  /** Applies the pending hours at the rates they were accumulated under. */
  private flushAgeing(): void {
    const r = this.rates;
    if (r.pendingH === 0) return;
    this.age(r.pendingH, r.af);
    r.toDeathH -= r.pendingH;
    r.pendingH = 0;
  }

  /**
   * Adds stress directly (a burn-in done elsewhere, or before the bench was started): hours at a temperature.
   * Each lane ages at its present mean current (dark lanes not at all), or at `currentA` when given; `allLanes`
   * ages dark lanes too (at `currentA`, or at the reference current without it).
   */
  addStress(hours: number, tempC: number, allLanes = false, currentA?: number): void {
    if (!(hours >= 0)) throw new RangeError(`hours must be >= 0, got ${hours}`);
    const present = this.meanCurrents();
    const ref = this.ageingRefCurrentA();
    const currents = present.map((c) => (currentA !== undefined && (c > 0 || allLanes) ? currentA : c));
    if (allLanes) for (let i = 0; i < this.lanes; i++) if (!(currents[i] > 0)) currents[i] = ref;
    this.flushAgeing();
    this.age(hours, this.accelerations(tempC, currents));
    this.touch();
  }

  /** The current the ageing rate is quoted at (profile agingRefCurrentA, else the operating mean current), A. */
  ageingRefCurrentA(): number {
    const op = this.profile.operatingPoint;
    return this.profile.defects.agingRefCurrentA ?? op.biasA + 0.5 * op.modA;
  }

  /** Each lane's acceleration factor now (ageing.ts): temperature and its mean current; 0 for a dark lane. */
  ageingAcceleration(): Float64Array {
    return this.accelerations(this.temperature, this.meanCurrents());
  }

  private accelerations(tempC: number, currents: Float64Array): Float64Array {
    const dp = this.profile.defects;
    const d = this.emitter.diameterUm;
    const jRef = currentDensity(this.ageingRefCurrentA(), d);
    const out = new Float64Array(this.lanes);
    // lanes nearly always share one drive: reuse the last lane's factor (called on every instrument access)
    let lastI = Number.NaN;
    let lastAf = 0;
    for (let i = 0; i < this.lanes; i++) {
      if (currents[i] !== lastI) {
        lastI = currents[i];
        lastAf = accelerationFactor(tempC, currentDensity(lastI, d), jRef, dp);
      }
      out[i] = lastAf;
    }
    return out;
  }

  private age(hours: number, af: Float64Array): void {
    for (let i = 0; i < this.lanes; i++) this.effHours[i] += hours * af[i];
  }

  /** Mean drive current of each lit lane (bias + pattern density × modulation, or the external source), A. */
  private meanCurrents(): Float64Array {
    const d = this.derive();
    const out = new Float64Array(this.lanes);
    for (let i = 0; i < this.lanes; i++) {
      if (!d.lit[i]) continue;
      const ext = this.external[i];
      out[i] = Number.isNaN(ext) ? this.biasA[i] + d.density[i] * this.modA[i] : ext;
    }
    return out;
  }

  /** Rail output on/off (1-based rail). Rail 1/2 off: LEDs dark; rail 3 off: receivers dark. */
  setRailOutput(rail: number, on: boolean): void {
    this.railIndex(rail);
    this.railOn[rail - 1] = on;
    this.touch();
  }
  getRailOutput(rail: number): boolean {
    return this.railOn[this.railIndex(rail)];
  }
  /** Rail voltage (1-based rail). Below 90 % of nominal the rail's function browns out. */
  setRailVoltage(rail: number, volts: number): void {
    this.railIndex(rail);
    if (!(volts >= 0)) throw new RangeError(`voltage must be >= 0, got ${volts}`);
    this.railVolts[rail - 1] = volts;
    this.touch();
  }
  getRailVoltage(rail: number): number {
    return this.railVolts[this.railIndex(rail)];
  }
  private railIndex(rail: number): number {
    if (!Number.isInteger(rail) || rail < 1 || rail > 4) throw new RangeError(`rail ${rail} out of range 1..4`);
    return rail - 1;
  }
  get railNames(): string[] {
    return this.profile.power.rails.map((r) => r.name);
  }

  // ---------------------------------------------------------------- bench optics and external sources

  /**
   * Loss of each lane's path between the fibre end and the receiver, dB (an optical switch, an attenuator): the
   * receiver sees the lane's light (own and crosstalk) attenuated by it. One value for every listed lane, or one each.
   */
  setPathLoss(lanes: Lanes, db: number | readonly number[]): void {
    this.each(lanes, db, (i, v) => {
      if (!Number.isFinite(v)) throw new RangeError(`path loss must be finite, got ${v}`);
      this.pathGain[i] = 10 ** (-v / 10);
    });
  }
  getPathLoss(lanes: Lanes = this.allLanes()): number[] {
    return lanes.map((l) => -10 * Math.log10(this.pathGain[this.index(l)]) + 0);
  }

  /**
   * An external DC source on one lane's emitter (an SMU on its pads): while set, the lane emits at this current
   * whatever the LED driver does on it (no modulation: it carries no data), and its V_f is at this current; its
   * power is not drawn from the DUT's rails. `undefined` disconnects it.
   */
  setExternalCurrent(lane: number, amps: number | undefined): void {
    const i = this.index(lane);
    if (amps !== undefined && !(amps >= 0)) throw new RangeError(`external current must be >= 0 A, got ${amps}`);
    this.external[i] = amps ?? Number.NaN;
    this.touch();
  }
  getExternalCurrent(lane: number): number | undefined {
    const v = this.external[this.index(lane)];
    return Number.isNaN(v) ? undefined : v;
  }

  // ---------------------------------------------------------------- faults

  /** Marks lanes dead (no light, V_f reads 0, LOS at the receiver). */
  killLanes(lanes: Lanes): void {
    this.each(lanes, 1, (i) => {
      this.forcedDead[i] = 1;
    });
  }
  /** An open or shorted emitter on each lane: dead, and its V_f readback shows it (electrical-faults.ts). */
  setElectricalFault(lanes: Lanes, fault: ElectricalFault): void {
    this.each(lanes, 1, (i) => {
      this.forcedDead[i] = 1;
      this.electrical[i] = FAULT_CODE[fault];
    });
  }
  /** The lanes with an open or a shorted emitter (the truth an open/short screen is checked against). */
  electricalFaults(): { open: number[]; short: number[] } {
    const out = { open: [] as number[], short: [] as number[] };
    this.electrical.forEach((c, i) => {
      if (c === FAULT_CODE.open) out.open.push(i + 1);
      else if (c === FAULT_CODE.short) out.short.push(i + 1);
    });
    return out;
  }
  /** Multiplies the lanes' optical output by factor (0..1). */
  weakenLanes(lanes: Lanes, factor: number): void {
    if (!(factor >= 0 && factor <= 1)) throw new RangeError(`factor must be in 0..1, got ${factor}`);
    this.each(lanes, factor, (i, v) => {
      this.faultFactor[i] *= v;
    });
  }
  /** Temperature drift in °C per model hour, starting now. */
  setThermalDrift(celsiusPerHour: number): void {
    this.baseTempC = this.temperature;
    this.driftSinceS = this.timeS;
    this.driftCPerHour = celsiusPerHour;
    this.touch();
  }

  /** 1 for lanes dead now (defect at t=0, sudden death after ageing, or a fault). */
  deadLanes(): number[] {
    const d = this.derive();
    const out: number[] = [];
    for (let i = 0; i < this.lanes; i++) if (!d.alive[i]) out.push(i + 1);
    return out;
  }

  // ---------------------------------------------------------------- derived quantities

  /** Emitted average optical power per lane, W. */
  opticalPower(): Float64Array {
    return this.derive().optical.slice();
  }
  /** Received average optical power per lane (own light + crosstalk), W. */
  receivedPower(): Float64Array {
    return this.derive().received.slice();
  }
  /** Photocurrent per lane (R·P_rx + dark current), A; 0 when the receiver rail is off. */
  photocurrent(): Float64Array {
    return this.derive().photocurrent.slice();
  }
  /** Forward voltage per lane at its drive (pattern-averaged), V; 0 when not driven or dead. */
  forwardVoltage(): Float64Array {
    return this.derive().vf.slice();
  }
  /** Q factor per lane: the Q its BER at the optimum threshold implies (0 where there is no signal or no sync). */
  qFactor(): Float64Array {
    // the Q a BER at the optimum threshold implies (a mixture of eyes has no single Q)
    const s = this.statistics(0.5);
    return s.ber.map((b, i) => (b >= 0.5 ? 0 : b > 0 ? berToQ(b) : s.meanQ[i]!));
  }
  /** BER per lane at the current threshold; 0.5 without signal or sync. */
  ber(): Float64Array {
    return this.statistics(this.thresholdRel).ber.slice();
  }
  /** Pattern sync per lane (1 = locked). */
  sync(): Uint8Array {
    return this.derive().sync.slice();
  }
  /** Loss of signal per lane (1 = lost). */
  los(): Uint8Array {
    return this.derive().los.slice();
  }
  /** V, I, P per rail (rails 1..4). */
  railPower(): RailState[] {
    return this.derive().rails.map((r) => ({ ...r }));
  }
  /** Σ rail power / (lit payload lanes × rate), J/bit. */
  energyPerBit(): number {
    const d = this.derive();
    let payload = 0;
    for (let i = 0; i < this.lanes; i++) if (this.outputOn[i] && !this.isSpare[i]) payload++;
    const total = d.rails.reduce((s, r) => s + r.watts, 0);
    return energyPerBit(total, payload, this.rateBps);
  }

  /** Electrical power into the LEDs themselves, Σ I·V_f over the lanes, W (the LED rail also feeds the driver's drop). */
  ledPower(): number {
    return this.derive().ledWatts;
  }

  /** Junction temperature per lane at its drive (self-heating over the case), °C. */
  junctionTemperature(): Float64Array {
    return this.derive().junction.slice();
  }
  /** Emission peak per lane at its junction temperature, nm. */
  emissionWavelength(): Float64Array {
    const tj = this.derive().junction;
    return tj.map((t) => emissionWavelengthNm(t, this.emitter));
  }

  /**
   * Emitted power of one lane at a DC current (L-I sweeps, self-heating included), with its EQE spread, ageing
   * and faults.
   */
  emittedPowerAt(lane: number, currentA: number): number {
    const i = this.index(lane);
    const d = this.derive();
    if (!d.alive[i]) return 0;
    return opticalPowerDc(currentA, this.temperature, this.emitter) * this.laneFactor(i);
  }
  /** Forward voltage of one lane at a DC current (0 for a dead lane: modelled as a short). */
  forwardVoltageAt(lane: number, currentA: number): number {
    const i = this.index(lane);
    if (!this.derive().alive[i]) return 0;
    return forwardVoltageDc(currentA, this.temperature, this.emitter);
  }

  private laneFactor(i: number): number {
    return this.defects.eqeFactor[i] * this.faultFactor[i] * Math.exp(-this.defects.alpha[i] * this.effHours[i]);
  }

  /** The bit populations of a pattern at the present rate through a channel of bandwidth fastHz (memoized). */
  private bitPopulations(code: number, invert: boolean, fastHz: number): BitPopulations {
    const key = `${code},${invert ? 1 : 0},${this.rateBps},${fastHz}`;
    let pops = this.populations.get(key);
    if (!pops) {
      const pat = LINK_PATTERNS[code];
      const runs = isPrbsName(pat) ? prbsRunDistribution(pat, invert) : clockRunDistribution();
      const e = this.profile.emitter;
      pops = bitPopulations(this.rateBps, fastHz, e.tailFraction, e.tailTauS, runs);
      if (this.populations.size >= 256) this.populations.clear();
      this.populations.set(key, pops);
    }
    return pops;
  }

  /**
   * Q and BER per lane (bit-statistics.ts): each lane in sync averages its bit populations (its pattern's run
   * lengths through the channel's response) and its decorrelated neighbours' bits; aggressors on its own stream
   * close its eye on every bit. Computed once per state, on first use.
   */
  private statistics(threshold: number): LaneStatistics {
    const d = this.derive();
    const cached = d.stats.get(threshold);
    if (cached) return cached;
    const n = this.lanes;
    const { p0, p1, optical, oma, reaching, sync, junction } = d;
    const T = d.tempC[0]!;
    // aggressors on the victim's own stream (pattern and seed; a clock has no seed) move with it
    const stream = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const code = this.pattern[i];
      stream[i] = LINK_PATTERNS[code] === 'CLOCK' ? code : code + 256 * (this.laneSeed[i] + 1);
    }
    const xt = splitCrosstalk(oma, this.coupling, this.nbIdx, stream);
    const own = this.coupling.own;
    // the receiver sits on the same temperature-controlled mount as the emitter array
    const rx = receiverAt(this.rx, T);
    const R = rx.responsivityAW;
    const scratch = new Float64Array(STATS_SCRATCH);
    const offsets = crosstalkOffsets([]);
    // neighbouring lanes nearly always share pattern and drive: reuse the last lane's populations
    let last: { code: number; invert: number; fFast: number; pops: BitPopulations } | undefined;
    const fModal = this.modalBandwidth();
    const q = new Float64Array(n);
    const ber = new Float64Array(n).fill(0.5);
    const rate = this.rateBps;
    const fTia = rx.bandwidthHz;
    for (let i = 0; i < n; i++) {
      if (!sync[i]) continue;
      const sp = this.pattern[i];
      const pat = LINK_PATTERNS[sp];
      // what reaches the fibre end, then the path (switch, attenuator) scales it all: R·g is the responsivity
      // seen from the fibre end
      const Rg = R * this.pathGain[i];
      const xAvg = reaching[i] - own * optical[i];
      const ownOma = own * (p1[i] - p0[i]);
      const mid = Rg * (own * 0.5 * (p0[i] + p1[i]) + xAvg);
      const s1 = noiseSigma(mid + 0.5 * Rg * ownOma, rate, rx);
      const s0 = noiseSigma(mid - 0.5 * Rg * ownOma, rate, rx);
      if (pat === 'ONES' || pat === 'ZEROS') {
        // a DC pattern has one level; the slicer sits where the PRBS eye's threshold would be (the old worst-case
        // eye: every neighbour's OMA closing it)
        const xtalk = xt.correlated[i] + xt.nearAmp[i] * xt.nearCount[i] + xt.diagAmp[i] * xt.diagCount[i];
        const half = 0.5 * Rg * (ownOma - xtalk);
        const mu1 = mid + half;
        const mu0 = mid - half;
        q[i] = Math.max(0, eyeBer(mu1, mu0, s1, s0, threshold).q);
        const dOpt = (s0 * mu1 + s1 * mu0) / (s0 + s1) + (threshold - 0.5) * (mu1 - mu0);
        const level = pat === 'ONES' ? Rg * (own * p1[i] + xAvg) : Rg * (own * p0[i] + xAvg);
        const s = pat === 'ONES' ? s1 : s0;
        const z = pat === 'ONES' ? (level - dOpt) / s : (dOpt - level) / s;
        ber[i] = Math.min(0.5, normalTail(z));
        continue;
      }
      const fFast = combinedBandwidth(
        bandwidthAt(this.biasA[i] + 0.5 * this.modA[i], this.emitter, junction[i]),
        fTia,
        fModal,
      );
      if (!last || last.code !== sp || last.invert !== this.invert[i] || last.fFast !== fFast) {
        last = { code: sp, invert: this.invert[i]!, fFast, pops: this.bitPopulations(sp, this.invert[i] === 1, fFast) };
      }
      const pops = last.pops;
      crosstalkOffsets(
        [
          { count: xt.nearCount[i]!, amplitude: 0.5 * Rg * xt.nearAmp[i]! },
          { count: xt.diagCount[i]!, amplitude: 0.5 * Rg * xt.diagAmp[i]! },
        ],
        offsets,
      );
      const eye = statisticalBer(
        pops,
        { base: Rg * (own * p0[i] + xAvg), oma: Rg * ownOma, closure: 0.5 * Rg * xt.correlated[i], s1, s0 },
        offsets,
        threshold,
        scratch,
      );
      q[i] = Math.max(0, eye.q);
      ber[i] = eye.ber;
    }

    const stats = { ber, meanQ: q };
    d.stats.set(threshold, stats);
    return stats;
  }

  /** Recomputes the derived arrays if the state changed. */
  private derive(): Derived {
    if (this.cache && this.cachedVersion === this.version) return this.cache;
    const n = this.lanes;
    const prof = this.profile;
    const T = this.temperature;
    const nom = prof.power.rails;
    const driverUp =
      this.railOn[0] &&
      this.railOn[1] &&
      this.railVolts[0] >= BROWNOUT * nom[0].volts &&
      this.railVolts[1] >= BROWNOUT * nom[1].volts;
    const rxUp = this.railOn[2] && this.railVolts[2] >= BROWNOUT * nom[2].volts;

    const alive = new Uint8Array(n);
    const lit = new Uint8Array(n);
    const p0 = new Float64Array(n);
    const p1 = new Float64Array(n);
    const optical = new Float64Array(n);
    const oma = new Float64Array(n);
    const vf = new Float64Array(n);
    const junction = new Float64Array(n).fill(T);
    const density = new Float64Array(n);
    let ledWatts = 0;
    let ledAmps = 0;
    // most lanes share a drive point: memoize the heated emitter per drive (the case temperature is fixed
    // within a derive); the junction sees the pattern-averaged dissipation of the two levels
    const memo = new Map<string, { tj: number; e0: number; v0: number; e1: number; v1: number }>();
    const emit = (i0: number, i1: number, dens: number) => {
      const key = `${i0},${i1},${dens}`;
      let r = memo.get(key);
      if (!r) {
        const h = heatedDrive(
          [
            { currentA: i0, weight: 1 - dens },
            { currentA: i1, weight: dens },
          ],
          T,
          this.emitter,
        );
        r = { tj: h.tjC, e0: h.power[0]!, v0: h.vf[0]!, e1: h.power[1]!, v1: h.vf[1]! };
        memo.set(key, r);
      }
      return r;
    };
    for (let i = 0; i < n; i++) {
      alive[i] = this.defects.dead[i] || this.forcedDead[i] || this.effHours[i] >= this.defects.deathAtHours[i] ? 0 : 1;
      const code = this.pattern[i];
      const pat = LINK_PATTERNS[code];
      const dens = pat === 'ONES' ? 1 : pat === 'ZEROS' ? 0 : 0.5;
      density[i] = dens;
      const ext = this.external[i];
      if (!Number.isNaN(ext)) {
        // an external DC source drives the emitter; the board's channel does not reach it
        if (!alive[i]) continue;
        lit[i] = 1;
        const h = emit(ext, ext, 1);
        p0[i] = h.e1 * this.laneFactor(i);
        p1[i] = p0[i];
        optical[i] = p0[i];
        vf[i] = h.v1;
        junction[i] = h.tj;
        continue;
      }
      if (!this.outputOn[i] || !driverUp) continue;
      const i0 = this.biasA[i];
      const i1 = i0 + this.modA[i];
      if (!alive[i]) {
        // a dead lane: no light; an open or a short shows in the V_f readback (and a short draws its current)
        const code = this.electrical[i];
        if (code) {
          const iMean = (1 - dens) * i0 + dens * i1;
          vf[i] = faultedForwardVoltage(code, iMean, this.railVolts[0]);
          ledAmps += faultedCurrent(code, iMean);
        }
        continue;
      }
      lit[i] = 1;
      const f = this.laneFactor(i);
      const { tj, e0, v0, e1, v1 } = emit(i0, i1, dens);
      junction[i] = tj;
      p0[i] = e0 * f;
      p1[i] = e1 * f;
      optical[i] = p0[i] + dens * (p1[i] - p0[i]);
      oma[i] = pat === 'ONES' || pat === 'ZEROS' ? 0 : p1[i] - p0[i];
      vf[i] = (1 - dens) * v0 + dens * v1;
      ledWatts += (1 - dens) * i0 * v0 + dens * i1 * v1;
      ledAmps += (1 - dens) * i0 + dens * i1;
    }

    const reaching = applyChannel(optical, this.coupling, this.nbIdx);
    const received = new Float64Array(n);
    for (let i = 0; i < n; i++) received[i] = reaching[i] * this.pathGain[i];
    // the receiver sits on the same temperature-controlled mount as the emitter array
    const rx = receiverAt(this.rx, T);
    const R = rx.responsivityAW;
    const photocurrent = new Float64Array(n);
    const sync = new Uint8Array(n);
    const los = new Uint8Array(n);
    const rate = this.rateBps;
    for (let i = 0; i < n; i++) {
      photocurrent[i] = rxUp ? R * received[i] + rx.darkCurrentA : 0;
      if (!rxUp || received[i] < rx.losThresholdW) {
        los[i] = 1;
        continue;
      }
      sync[i] =
        this.pattern[i] === this.checker[i] &&
        this.invert[i] === this.checkerInvert[i] &&
        lit[i] === 1 &&
        Number.isNaN(this.external[i]) // a DC-driven lane carries no pattern
          ? 1
          : 0;
    }

    let active = 0;
    let receivers = 0;
    for (let i = 0; i < n; i++) {
      if (this.outputOn[i]) active++;
      if (!this.isSpare[i]) receivers++; // a spare's receiver is powered down until a remap
    }
    const rails = railPowers({
      rails: prof.power.rails,
      setVolts: this.railVolts,
      on: this.railOn,
      ledAmps: driverUp ? ledAmps : 0,
      activeLanes: active,
      receiverLanes: receivers,
      rate,
      driverEnergyPerBitJ: prof.power.driverEnergyPerBitJ,
      rxPowerPerLaneW: prof.power.rxPowerPerLaneW,
    });

    this.cache = {
      tempC: Float64Array.of(T),
      junction,
      alive,
      lit,
      density,
      p0,
      p1,
      optical,
      received,
      photocurrent,
      vf,
      oma,
      reaching,
      stats: new Map(),
      sync,
      los,
      rails,
      ledWatts,
    };
    this.cachedVersion = this.version;
    return this.cache;
  }

  // ---------------------------------------------------------------- stochastic outputs

  /**
   * Errors counted per lane over `bits` bits (a number for every lane, or one per lane) at the given BERs:
   * Poisson for small BER, the binomial's normal approximation above 1e-2 (no-sync lanes at 0.5).
   */
  drawErrors(bits: number | ArrayLike<number>, ber: ArrayLike<number>, rng: Rng): Float64Array {
    const out = new Float64Array(ber.length);
    for (let i = 0; i < ber.length; i++) {
      const nb = typeof bits === 'number' ? bits : bits[i];
      const p = Math.min(1, Math.max(0, ber[i]));
      if (!(nb > 0) || p === 0) continue;
      if (p > 1e-2 && nb * p > 50) {
        const e = Math.round(rng.normal(nb * p, Math.sqrt(nb * p * (1 - p))));
        out[i] = Math.min(nb, Math.max(0, e));
      } else {
        out[i] = Math.min(nb, rng.poisson(nb * p));
      }
    }
    return out;
  }

  /**
   * One CMOS sensor frame (row-major 16-bit): a gaussian spot per lane on the rows×cols grid, total counts
   * ∝ received power × exposure × gain, a halo carrying the nearest-neighbour crosstalk, shot and read noise,
   * black level, saturation at 65535. With the sensor's full well (`sensor.fullWellE`), a pixel holds at most that
   * many electrons: the conversion gain fills the ADC's range above black with one full well at gain 1, so the
   * shot noise is that of the electrons, a pixel past its full well clips there (at gain 1, the ADC's top: a lane
   * map reads such a lane as saturated, not as a number that keeps growing), and the read noise is
   * `sensor.readNoiseE` electrons (else `frame.readNoise` counts).
   */
  frame(width?: number, height?: number, exposureS?: number, gain = 1, rng?: Rng): Uint16Array {
    const fr = this.profile.receiver.frame;
    const w = width ?? fr?.width ?? 160;
    const h = height ?? fr?.height ?? 160;
    const exp = exposureS ?? fr?.exposureS ?? 1e-3;
    const countsPerJ = fr?.countsPerJ ?? 2e13;
    const spotFrac = fr?.spotSigmaFrac ?? 0.22;
    const black = fr?.blackLevel ?? 64;
    const readNoise = fr?.readNoise ?? 3;
    const d = this.derive();
    const img = new Float64Array(w * h);
    const px = w / this.cols;
    const py = h / this.rows;
    const sigma = Math.max(0.3, spotFrac * Math.min(px, py));
    // The fibre's crosstalk is already in each lane's received power; the sensor adds its own: carriers diffusing
    // between pixels spread a wide halo around each spot, sized so that a nearest neighbour's cell gets
    // pixelCrosstalkDb of the spot (a halo of the fibre's crosstalk here would count it twice: the -18.1 dB a
    // CMOS lane map used to read against -20 dB on a PD).
    const sigmaHalo = Math.max(sigma * 2, 0.7 * Math.min(px, py));
    const cell = Math.min(px, py);
    const phiN = (x: number) => 0.5 * (1 + erf(x / Math.SQRT2));
    const inNearest =
      (phiN((1.5 * cell) / sigmaHalo) - phiN((0.5 * cell) / sigmaHalo)) *
      (phiN((0.5 * cell) / sigmaHalo) - phiN((-0.5 * cell) / sigmaHalo));
    const pixelXt = fr?.pixelCrosstalkDb;
    const haloFrac = pixelXt === undefined ? 0 : Math.min(0.5, 10 ** (pixelXt / 10) / inNearest);
    const core = this.gaussWindow(sigma);
    const halo = this.gaussWindow(sigmaHalo);
    for (let i = 0; i < this.lanes; i++) {
      const counts = d.received[i] * exp * countsPerJ * gain;
      if (!(counts > 0)) continue;
      const cx = ((i % this.cols) + 0.5) * px - 0.5;
      const cy = (Math.floor(i / this.cols) + 0.5) * py - 0.5;
      this.splat(img, w, h, cx, cy, counts * (1 - haloFrac), core);
      if (haloFrac > 0) this.splat(img, w, h, cx, cy, counts * haloFrac, halo);
    }
    const out = new Uint16Array(w * h);
    const { countsPerE, fullWellE, readCounts } = frameSensor(this.profile.receiver, black, readNoise, gain);
    // img is in counts at this gain: electrons = counts / (gain × conversion gain)
    const perE = gain * countsPerE;
    for (let k = 0; k < img.length; k++) {
      const e = Math.min(fullWellE, Math.max(0, img[k]) / perE);
      if (e >= fullWellE) {
        out[k] = ADC_MAX; // a full pixel reads full scale
        continue;
      }
      let v = black + e * perE;
      if (rng) {
        const sd = Math.sqrt(readCounts * readCounts + perE * perE * e);
        v += sd * rng.normal();
      }
      out[k] = v <= 0 ? 0 : v >= ADC_MAX ? ADC_MAX : Math.round(v);
    }
    return out;
  }

  private gaussWindow(sigma: number): { r: number; sigma: number } {
    return { r: Math.ceil(3.5 * sigma), sigma };
  }

  private splat(
    img: Float64Array,
    w: number,
    h: number,
    cx: number,
    cy: number,
    total: number,
    win: { r: number; sigma: number },
  ): void {
    const x0 = Math.max(0, Math.floor(cx - win.r));
    const x1 = Math.min(w - 1, Math.ceil(cx + win.r));
    const y0 = Math.max(0, Math.floor(cy - win.r));
    const y1 = Math.min(h - 1, Math.ceil(cy + win.r));
    const inv = 1 / (2 * win.sigma * win.sigma);
    const gx = new Float64Array(x1 - x0 + 1);
    const gy = new Float64Array(y1 - y0 + 1);
    // normalize over the full window (light outside the sensor is lost)
    const norm = 1 / (2 * Math.PI * win.sigma * win.sigma);
    for (let x = x0; x <= x1; x++) gx[x - x0] = Math.exp(-(x - cx) * (x - cx) * inv);
    for (let y = y0; y <= y1; y++) gy[y - y0] = Math.exp(-(y - cy) * (y - cy) * inv);
    const a = total * norm;
    for (let y = y0; y <= y1; y++) {
      const row = y * w;
      const fy = a * gy[y - y0];
      for (let x = x0; x <= x1; x++) img[row + x] += fy * gx[x - x0];
    }
  }
}

/** Applies a fault plan to a model. */
export function applyLinkFaults(model: LinkModel, faults: readonly LinkFault[]): void {
  for (const f of faults) {
    switch (f.kind) {
      case 'dead-lanes':
        model.killLanes(f.lanes);
        break;
      case 'open-lanes':
        model.setElectricalFault(f.lanes, 'open');
        break;
      case 'short-lanes':
        model.setElectricalFault(f.lanes, 'short');
        break;
      case 'weak-lanes':
        model.weakenLanes(f.lanes, f.factor);
        break;
      case 'misaligned-bundle':
        model.setMisalignment(f.dx, f.dy);
        break;
      case 'thermal-drift':
        model.setThermalDrift(f.celsiusPerHour);
        break;
    }
  }
}

/** The top of a frame's 16-bit ADC, counts. */
export const ADC_MAX = 65535;

/**
 * A sensor's frame scale: counts per electron at gain 1 (one full well fills the ADC above black; 1 without a
 * full well, as a frame without a sensor section always had), the full well (Infinity: none) and the read noise
 * in counts at this gain (electrons × conversion gain, else the frame's own counts).
 */
export function frameSensor(
  rx: LinkProfile['receiver'],
  black: number,
  readNoiseCounts: number,
  gain: number,
): { countsPerE: number; fullWellE: number; readCounts: number } {
  const fw = rx.sensor?.fullWellE;
  const countsPerE = fw ? (ADC_MAX - black) / fw : 1;
  const rn = rx.sensor?.readNoiseE;
  return {
    countsPerE,
    fullWellE: fw ?? Number.POSITIVE_INFINITY,
    readCounts: rn === undefined ? readNoiseCounts : rn * countsPerE * gain,
  };
}
