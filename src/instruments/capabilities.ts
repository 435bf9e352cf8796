/**
 * Capability interfaces: what steps may rely on. Steps never name an instrument model or a SCPI string;
 * they ask the station for a role and use one of these. Every method takes CallOptions so a step can
 * bound it in time and cancel it.
 */

export interface CallOptions {
  /** Per-call timeout in ms; defaults to the instrument's timeout from the station file. */
  timeoutMs?: number;
  signal?: AbortSignal;
}

import type { InstrumentClock } from '../core/instrument-clock.ts';
import type { Identity } from '../scpi/idn.ts';

export type { Identity };

export type Pattern = 'PRBS7' | 'PRBS9' | 'PRBS15' | 'PRBS23' | 'PRBS31' | 'CLOCK' | 'ONES' | 'ZEROS';
export const PATTERNS: readonly Pattern[] = ['PRBS7', 'PRBS9', 'PRBS15', 'PRBS23', 'PRBS31', 'CLOCK', 'ONES', 'ZEROS'];

/** Lanes are 1-based physical channel numbers, as in SCPI channel lists. */
export type Lanes = readonly number[];

export interface Instrument {
  readonly role: string;
  identify(opts?: CallOptions): Promise<Identity>;
  selfTest(opts?: CallOptions): Promise<number>;
  /** Reads the error queue until it is empty; returns what it held as `code,"message"` strings. */
  clearErrors(opts?: CallOptions): Promise<string[]>;
  /**
   * Brings the instrument to its safe state and confirms it by reading it back. Resolves with what was read back
   * (e.g. "outputs off, bias 0 A and modulation 0 A on all 400 lanes"); throws (NotSafeError) when the
   * instrument does not confirm. Bounded by opts.timeoutMs and opts.signal.
   */
  safeState(opts?: CallOptions): Promise<string>;
  /** Puts the instrument where a run starts from, after its safe state is confirmed (e.g. DUT rails on). */
  prepare?(opts?: CallOptions): Promise<void>;
  /** Applies the configuration the station file asks for (e.g. unit, wavelength); openStation calls it once. */
  init?(opts?: CallOptions): Promise<void>;
}

/**
 * Capabilities are narrow: each names one function of the bench, a few methods. Steps ask the bench for a
 * capability (`ctx.instruments.get('error-detector')`), never for a role or a model. One instrument may provide
 * several (the µLED board is a current source and a pattern generator); a capability may also be assembled from
 * several instruments (an error detector with four channels behind an optical switch covers 400 lanes in batches).
 */

/** Per-lane current drive: bias and modulation, outputs, and what the source reads back of each lane. */
export interface LaneCurrentSource extends Instrument {
  laneCount(opts?: CallOptions): Promise<number>;
  /** Maximum current per lane (bias + modulation), in A, as configured in the station limits. */
  readonly maxCurrentA: number;
  /**
   * The DUT's operating point from the station file (every lane), when it gives one. Steps drive lanes here;
   * it is configuration, not read back, because the safe state of the previous run leaves the board at 0 A.
   */
  readonly operatingPoint?: { biasA: number; modA: number };
  setBias(lanes: Lanes, amps: number | readonly number[], opts?: CallOptions): Promise<void>;
  getBias(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  setModulation(lanes: Lanes, amps: number | readonly number[], opts?: CallOptions): Promise<void>;
  getModulation(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  /** Ramps bias to a target in steps from the station's ramp settings. */
  rampBias(lanes: Lanes, amps: number, opts?: CallOptions): Promise<void>;
  setOutput(lanes: Lanes, on: boolean, opts?: CallOptions): Promise<void>;
  getOutput(lanes: Lanes, opts?: CallOptions): Promise<boolean[]>;
  /** Forward voltage of each lane at its present current, V. */
  forwardVoltage(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
}

/** The data pattern on each lane and the lane rate. */
export interface PatternGenerator extends Instrument {
  /** The lane-rate range it may be set to [min, max] bit/s (station limits), when known: checked at load. */
  readonly rateRange?: readonly [number, number];
  setPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void>;
  setSeed(lanes: Lanes, seeds: number | readonly number[], opts?: CallOptions): Promise<void>;
  setRate(bitsPerSecond: number, opts?: CallOptions): Promise<void>;
  getRate(opts?: CallOptions): Promise<number>;
}

export interface GateResult {
  lanes: number[];
  bits: number[];
  errors: number[];
}

/**
 * Error counting over a gate. `maxLanesPerGate` lanes are counted in one gate: every lane for a receiver with a
 * counter per lane, the channel count for a multi-channel BERT (behind a switch, a step tests lanes in batches).
 * Lanes are receiver lanes.
 */
export interface ErrorDetector extends Instrument {
  readonly maxLanesPerGate: number;
  /** Prepares the lanes of the next gate: the checker pattern (and, behind a switch, the routes). */
  setCheckerPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void>;
  /** Starts an error-counter gate of `seconds` (instrument time) on the lanes last prepared. */
  startGate(seconds: number, opts?: CallOptions): Promise<void>;
  gateRunning(opts?: CallOptions): Promise<boolean>;
  stopGate(opts?: CallOptions): Promise<void>;
  readCounters(lanes: Lanes, opts?: CallOptions): Promise<GateResult>;
  syncStatus(lanes: Lanes, opts?: CallOptions): Promise<boolean[]>;
  lossOfSignal(lanes: Lanes, opts?: CallOptions): Promise<boolean[]>;
}

/**
 * The error detector's decision threshold, relative to the eye (0.5 = centre), where the hardware has one: a
 * vertical bathtub sweeps it. One threshold for every lane the detector counts.
 */
export interface DecisionThreshold extends Instrument {
  /** The range it may be set to, relative. */
  readonly thresholdRange: readonly [number, number];
  setThreshold(relative: number, opts?: CallOptions): Promise<void>;
  threshold(opts?: CallOptions): Promise<number>;
}

/**
 * Lane alignment in the receiver's aggregate (its gearbox): each lane's arrival skew, per-lane deskew FIFOs, and
 * whether the aggregate of the lanes in sync held frame alignment over the last gate.
 */
export interface LaneDeskew extends Instrument {
  /** Each listed receiver lane's skew relative to the earliest of them, s. */
  skew(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  setDeskew(on: boolean, opts?: CallOptions): Promise<void>;
  deskew(opts?: CallOptions): Promise<boolean>;
  /** The aggregate held frame alignment over the current or last gate. */
  aggregateSync(opts?: CallOptions): Promise<boolean>;
}

/** Received optical power and photocurrent per receiver lane. */
export interface LanePowerMonitor extends Instrument {
  receivedPower(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  photocurrent(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
}

export interface Frame {
  width: number;
  height: number;
  /** Row-major 16-bit pixels. */
  pixels: Uint16Array;
}

/** A sensor array read as frames (a CMOS receiver). */
export interface FrameCamera extends Instrument {
  frameSize(opts?: CallOptions): Promise<{ width: number; height: number }>;
  captureFrame(opts?: CallOptions): Promise<Frame>;
  setExposure(seconds: number, opts?: CallOptions): Promise<void>;
  setGain(gain: number, opts?: CallOptions): Promise<void>;
}

export interface RailReading {
  rail: number;
  name: string;
  volts: number;
  amps: number;
  watts: number;
  /**
   * How `watts` was obtained: measured by the instrument, or computed as volts × amps from the two readings (a
   * supply module that does not measure power). Absent: measured.
   */
  power?: 'measured' | 'V×I';
}

/** Voltage, current and power of the DUT's supply rails. */
export interface RailMeter extends Instrument {
  readonly railNames: readonly string[];
  /** Rail channels that count toward energy per bit (station file `rails[].counted`). */
  readonly countedRails?: readonly number[];
  measure(rails?: readonly number[], opts?: CallOptions): Promise<RailReading[]>;
}

/** A supply rail as the station describes it: its nominal voltage and the setpoint limits. */
export interface SupplyRail {
  channel: number;
  name: string;
  nominalV?: number;
  minV?: number;
  maxV?: number;
}

/** The DUT's supply rails: voltage and output per rail (margining, power cycling). */
export interface Supply extends Instrument {
  /** The rails the station configures, with their nominal voltages and limits, when it gives them. */
  readonly rails?: readonly SupplyRail[];
  setOutput(rails: readonly number[], on: boolean, opts?: CallOptions): Promise<void>;
  /** Sets the rails' voltage; refused outside the station's limits for a rail. */
  setVoltage(rails: readonly number[], volts: number, opts?: CallOptions): Promise<void>;
  /** The voltage setpoint of each rail, read back. */
  voltage(rails: readonly number[], opts?: CallOptions): Promise<number[]>;
}

/** A single-head optical power meter. */
export interface OpticalPowerMeter extends Instrument {
  setWavelength(nm: number, opts?: CallOptions): Promise<void>;
  power(opts?: CallOptions): Promise<number>;
}

export interface ThermalController extends Instrument {
  /** Setpoint limits (station), when known: a sequence's temperatures are checked against them at load. */
  readonly limits?: { minC: number; maxC: number };
  setSetpoint(celsius: number, opts?: CallOptions): Promise<void>;
  setpoint(opts?: CallOptions): Promise<number>;
  temperature(opts?: CallOptions): Promise<number>;
  setOutput(on: boolean, opts?: CallOptions): Promise<void>;
  /** Waits until the temperature holds within the station's settle tolerance for its dwell time. */
  waitSettled?(opts?: CallOptions): Promise<number>;
}

/** Reading of a source-measure unit: voltage and current of one acquisition pair, and whether it hit its limit. */
export interface SmuReading {
  volts: number;
  amps: number;
  /** The voltage limit (compliance) tripped: the current sourced is below the setpoint. */
  inCompliance: boolean;
}

/**
 * A source-measure unit sourcing current (single-lane precision L-I-V, open/short screens): the current, its
 * voltage limit, the output, and what it measures. `lane` is the DUT lane it is wired to, when the station says.
 */
export interface SourceMeasureUnit extends Instrument {
  readonly lane?: number;
  /** Current-source mode at `amps` (checked against the station's limit before anything is sent). */
  sourceCurrent(amps: number, opts?: CallOptions): Promise<void>;
  /** Voltage limit (compliance) while sourcing current, V. */
  setVoltageLimit(volts: number, opts?: CallOptions): Promise<void>;
  setOutput(on: boolean, opts?: CallOptions): Promise<void>;
  measure(opts?: CallOptions): Promise<SmuReading>;
}

/** One route of an optical switch: which port (a lane's fibre) a channel's common is connected to. */
export interface SwitchRoute {
  channel: number;
  port: number;
}

/**
 * An optical switch: each channel's common (a detector input, a meter head) connects to one of `ports` ports,
 * each carrying one lane's fibre. A port connects to one channel at a time.
 */
export interface OpticalSwitch extends Instrument {
  readonly channels: number;
  readonly ports: number;
  /** Connects each listed channel to its port (one message for all of them). */
  route(routes: readonly SwitchRoute[], opts?: CallOptions): Promise<void>;
  /** The port each listed channel is connected to (0: none). */
  routes(channels: readonly number[], opts?: CallOptions): Promise<number[]>;
}

/**
 * A variable optical attenuator in front of the receiver: attenuation per channel, and its output (shutter).
 * Channels default to all of them.
 */
export interface Attenuator extends Instrument {
  readonly channels: number;
  setAttenuation(db: number, channels?: readonly number[], opts?: CallOptions): Promise<void>;
  attenuation(channels?: readonly number[], opts?: CallOptions): Promise<number[]>;
  /** Opens (true) or closes (false) the output of each channel: a closed shutter passes no light. */
  setEnabled(on: boolean, channels?: readonly number[], opts?: CallOptions): Promise<void>;
}

/** What each capability name stands for. */
export interface CapabilityMap {
  'current-source': LaneCurrentSource;
  'pattern-generator': PatternGenerator;
  'error-detector': ErrorDetector;
  'decision-threshold': DecisionThreshold;
  'lane-deskew': LaneDeskew;
  'lane-power-monitor': LanePowerMonitor;
  'frame-camera': FrameCamera;
  'rail-meter': RailMeter;
  supply: Supply;
  'optical-power-meter': OpticalPowerMeter;
  'thermal-controller': ThermalController;
  smu: SourceMeasureUnit;
  'optical-switch': OpticalSwitch;
  attenuator: Attenuator;
}

export type Capability = keyof CapabilityMap;

export const CAPABILITIES: readonly Capability[] = [
  'current-source',
  'pattern-generator',
  'error-detector',
  'decision-threshold',
  'lane-deskew',
  'lane-power-monitor',
  'frame-camera',
  'rail-meter',
  'supply',
  'optical-power-meter',
  'thermal-controller',
  'smu',
  'optical-switch',
  'attenuator',
];

/** What steps see of the station: capabilities, never a model or a SCPI string. */
export interface Bench {
  /** The instrument providing `cap`. Throws naming the capability when none does, or the candidates when several do. */
  get<C extends Capability>(cap: C): CapabilityMap[C];
  /** The instrument providing `cap`, or undefined when none does. Throws when several do. */
  find<C extends Capability>(cap: C): CapabilityMap[C] | undefined;
  has(cap: Capability): boolean;
  /** Every instrument, by its name in the station, for inventory. */
  all(): { role: string; instrument: Instrument }[];
  /**
   * The instruments' clock: physical waits (settling, dwell, holds) are instrument time. Absent: real time,
   * as on real hardware; a simulated bench with a fast clock provides it.
   */
  readonly clock?: InstrumentClock;
}
