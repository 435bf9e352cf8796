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

export interface Identity {
  manufacturer: string;
  model: string;
  serial: string;
  firmware: string;
  raw: string;
}

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

export interface LightSource extends Instrument {
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
  setPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void>;
  setSeed(lanes: Lanes, seeds: number | readonly number[], opts?: CallOptions): Promise<void>;
  setRate(bitsPerSecond: number, opts?: CallOptions): Promise<void>;
  getRate(opts?: CallOptions): Promise<number>;
  forwardVoltage(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  boardTemperature(opts?: CallOptions): Promise<number>;
}

export interface GateResult {
  lanes: number[];
  bits: number[];
  errors: number[];
}

export interface LaneReceiver extends Instrument {
  laneCount(opts?: CallOptions): Promise<number>;
  receivedPower(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  photocurrent(lanes: Lanes, opts?: CallOptions): Promise<number[]>;
  setCheckerPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void>;
  setThreshold(relative: number, opts?: CallOptions): Promise<void>;
  /** Starts an error-counter gate of `seconds` (instrument time) on all lanes. */
  startGate(seconds: number, opts?: CallOptions): Promise<void>;
  gateRunning(opts?: CallOptions): Promise<boolean>;
  stopGate(opts?: CallOptions): Promise<void>;
  readCounters(lanes: Lanes, opts?: CallOptions): Promise<GateResult>;
  syncStatus(lanes: Lanes, opts?: CallOptions): Promise<boolean[]>;
  lossOfSignal(lanes: Lanes, opts?: CallOptions): Promise<boolean[]>;
}

export interface Frame {
  width: number;
  height: number;
  /** Row-major 16-bit pixels. */
  pixels: Uint16Array;
}

export interface FrameReceiver extends LaneReceiver {
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
}

export interface PowerMeter extends Instrument {
  readonly railNames: readonly string[];
  /** Rail channels that count toward energy per bit (station file `rails[].counted`). */
  readonly countedRails?: readonly number[];
  measure(rails?: readonly number[], opts?: CallOptions): Promise<RailReading[]>;
  setOutput(rails: readonly number[], on: boolean, opts?: CallOptions): Promise<void>;
  setVoltage(rails: readonly number[], volts: number, opts?: CallOptions): Promise<void>;
}

export interface OpticalPowerMeter extends Instrument {
  setWavelength(nm: number, opts?: CallOptions): Promise<void>;
  /** 0 selects the whole bundle. */
  selectLane(lane: number, opts?: CallOptions): Promise<void>;
  power(opts?: CallOptions): Promise<number>;
}

export interface ThermalController extends Instrument {
  setSetpoint(celsius: number, opts?: CallOptions): Promise<void>;
  setpoint(opts?: CallOptions): Promise<number>;
  temperature(opts?: CallOptions): Promise<number>;
  setOutput(on: boolean, opts?: CallOptions): Promise<void>;
  /** Waits until the temperature holds within the station's settle tolerance for its dwell time. */
  waitSettled?(opts?: CallOptions): Promise<number>;
}
