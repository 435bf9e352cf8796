/**
 * A small deterministic bench behind the capability interfaces, for step tests: a rows×cols lane array with
 * a linear L-I above a threshold, dead lanes, a swapped fibre pair, a weak lane, nearest/diagonal crosstalk,
 * a BER cliff in modulation OMA and rate, rails, and a TEC that approaches its setpoint. Every instrument call
 * is counted (one call = one SCPI round trip for the real drivers' channel-list commands).
 */

import { AbortedError } from '../../src/core/errors.ts';
import type { InstrumentClock } from '../../src/core/instrument-clock.ts';
import type {
  CallOptions,
  Capability,
  CapabilityMap,
  ErrorDetector,
  Frame,
  FrameCamera,
  GateResult,
  Identity,
  Instrument,
  LaneCurrentSource,
  LanePowerMonitor,
  Lanes,
  OpticalPowerMeter,
  Pattern,
  PatternGenerator,
  RailMeter,
  RailReading,
  Supply,
  ThermalController,
} from '../../src/instruments/capabilities.ts';
import type { BenchInstruments } from '../../src/orchestrator/step.ts';

export interface FakeOptions {
  rows?: number;
  cols?: number;
  dead?: number[];
  /** Fibre swap: the light of a arrives at b's receiver and vice versa. */
  swap?: [number, number];
  weak?: { lane: number; factor: number };
  /** Slope of received power vs current above threshold, W/A (before coupling to the receiver). */
  slope?: number;
  thresholdA?: number;
  nearest?: number;
  diagonal?: number;
  /** OMA at the receiver (W) needed for error-free operation at 2 Gb/s; scales with (rate/2e9)². */
  omaMinW?: number;
  /** BER of a lane below the OMA cliff. */
  badBer?: number;
  /** Lanes that always count errors at badBer. */
  noisy?: number[];
  frame?: boolean;
  selfTest?: Partial<Record<string, number>>;
  /** Polls of gateRunning() before a gate ends. */
  gatePolls?: number;
  /** Fraction of the way to the setpoint the TEC moves per temperature() read. */
  tecStep?: number;
}

const ID = (role: string): Identity => ({
  manufacturer: 'fake',
  model: role.toUpperCase(),
  serial: `SN-${role}`,
  firmware: '1.0',
  raw: `fake,${role.toUpperCase()},SN-${role},1.0`,
});

export class CallLog {
  readonly calls: { role: string; method: string; args: unknown[] }[] = [];
  count(method?: string, role?: string): number {
    return this.calls.filter((c) => (!method || c.method === method) && (!role || c.role === role)).length;
  }
  reset(): void {
    this.calls.length = 0;
  }
}

abstract class FakeInstrument implements Instrument {
  constructor(
    readonly role: string,
    protected readonly log: CallLog,
    protected readonly tst = 0,
  ) {}
  protected call(method: string, args: unknown[], opts?: CallOptions): void {
    if (opts?.signal?.aborted) throw new Error('aborted');
    this.log.calls.push({ role: this.role, method, args });
  }
  async identify(opts?: CallOptions) {
    this.call('identify', [], opts);
    return ID(this.role);
  }
  async selfTest(opts?: CallOptions) {
    this.call('selfTest', [], opts);
    return this.tst;
  }
  async clearErrors(opts?: CallOptions) {
    this.call('clearErrors', [], opts);
    return [];
  }
  async safeState(opts?: CallOptions) {
    this.call('safeState', [], opts);
    return 'fake: safe';
  }
}

const perLane = (lanes: Lanes, v: number | readonly number[]): number[] =>
  lanes.map((_, i) => (typeof v === 'number' ? v : v[i]));

export class FakeModel {
  readonly rows: number;
  readonly cols: number;
  readonly n: number;
  readonly bias: number[];
  readonly mod: number[];
  readonly out: boolean[];
  readonly pattern: Pattern[];
  readonly seed: number[];
  readonly checker: Pattern[];
  rate = 2e9;
  readonly o: Required<Omit<FakeOptions, 'swap' | 'weak' | 'selfTest'>> & FakeOptions;
  /** tx lane (1-based) -> rx lane. */
  readonly rxOfTx: number[];
  readonly coupling = 0.5;
  readonly responsivity = 0.25;

  constructor(opts: FakeOptions = {}) {
    this.o = {
      rows: 4,
      cols: 4,
      dead: [],
      slope: 0.3,
      thresholdA: 10e-6,
      nearest: 0.01,
      diagonal: 0.0025,
      omaMinW: 5e-6,
      badBer: 1e-6,
      noisy: [],
      frame: false,
      gatePolls: 3,
      tecStep: 0.5,
      ...opts,
    };
    this.rows = this.o.rows;
    this.cols = this.o.cols;
    this.n = this.rows * this.cols;
    this.bias = new Array(this.n).fill(40e-6);
    this.mod = new Array(this.n).fill(320e-6);
    this.out = new Array(this.n).fill(false);
    this.pattern = new Array(this.n).fill('PRBS31');
    this.seed = new Array(this.n).fill(1);
    this.checker = new Array(this.n).fill('PRBS31');
    this.rxOfTx = Array.from({ length: this.n + 1 }, (_, i) => i);
    if (opts.swap) {
      const [a, b] = opts.swap;
      this.rxOfTx[a] = b;
      this.rxOfTx[b] = a;
    }
  }

  /** Emitted power of tx lane (1-based) at current i, W (the fake's true L-I). */
  li(lane: number, i: number): number {
    if (this.o.dead.includes(lane)) return 0;
    const f = this.o.weak?.lane === lane ? this.o.weak.factor : 1;
    return f * this.o.slope * Math.max(0, i - this.o.thresholdA);
  }

  private levels(lane: number): { p0: number; p1: number } {
    const k = lane - 1;
    if (!this.out[k]) return { p0: 0, p1: 0 };
    return { p0: this.li(lane, this.bias[k]), p1: this.li(lane, this.bias[k] + this.mod[k]) };
  }

  avgPower(lane: number): number {
    const { p0, p1 } = this.levels(lane);
    const pat = this.pattern[lane - 1];
    return pat === 'ONES' ? p1 : pat === 'ZEROS' ? p0 : 0.5 * (p0 + p1);
  }

  /** Received power per rx lane (1-based index), own light + crosstalk around where it lands. */
  received(): number[] {
    const rx = new Array(this.n + 1).fill(0);
    for (let tx = 1; tx <= this.n; tx++) {
      const p = this.avgPower(tx) * this.coupling;
      if (!(p > 0)) continue;
      const r = this.rxOfTx[tx];
      rx[r] += p;
      const row = Math.floor((r - 1) / this.cols);
      const col = (r - 1) % this.cols;
      for (let dr = -1; dr <= 1; dr++) {
        for (let dc = -1; dc <= 1; dc++) {
          if (!dr && !dc) continue;
          const rr = row + dr;
          const cc = col + dc;
          if (rr < 0 || cc < 0 || rr >= this.rows || cc >= this.cols) continue;
          rx[rr * this.cols + cc + 1] += p * (dr && dc ? this.o.diagonal : this.o.nearest);
        }
      }
    }
    return rx;
  }

  /** Source tx of an rx lane. */
  txOfRx(rx: number): number {
    return this.rxOfTx.indexOf(rx);
  }

  /** BER of the link that arrives at rx lane. */
  ber(rx: number): { ber: number; sync: boolean } {
    const tx = this.txOfRx(rx);
    const { p0, p1 } = this.levels(tx);
    const oma = (p1 - p0) * this.coupling;
    if (!(oma > 0.1 * this.o.omaMinW)) return { ber: 0.5, sync: false };
    if (this.o.noisy.includes(tx)) return { ber: this.o.badBer, sync: true };
    const need = this.o.omaMinW * (this.rate / 2e9) ** 2;
    return { ber: oma >= need ? 0 : this.o.badBer, sync: true };
  }
}

class FakeSource extends FakeInstrument implements LaneCurrentSource, PatternGenerator {
  readonly maxCurrentA = 600e-6;
  constructor(
    log: CallLog,
    private readonly m: FakeModel,
    tst: number,
  ) {
    super('led-driver', log, tst);
  }
  async laneCount(o?: CallOptions) {
    this.call('laneCount', [], o);
    return this.m.n;
  }
  async setBias(lanes: Lanes, a: number | readonly number[], o?: CallOptions) {
    this.call('setBias', [lanes, a], o);
    const v = perLane(lanes, a);
    lanes.forEach((l, i) => {
      if (v[i] + this.m.mod[l - 1] > this.maxCurrentA * (1 + 1e-9)) throw new Error(`lane ${l}: over the limit`);
      this.m.bias[l - 1] = v[i];
    });
  }
  async getBias(lanes: Lanes, o?: CallOptions) {
    this.call('getBias', [lanes], o);
    return lanes.map((l) => this.m.bias[l - 1]);
  }
  async setModulation(lanes: Lanes, a: number | readonly number[], o?: CallOptions) {
    this.call('setModulation', [lanes, a], o);
    const v = perLane(lanes, a);
    lanes.forEach((l, i) => {
      if (v[i] + this.m.bias[l - 1] > this.maxCurrentA * (1 + 1e-9)) throw new Error(`lane ${l}: over the limit`);
      this.m.mod[l - 1] = v[i];
    });
  }
  async getModulation(lanes: Lanes, o?: CallOptions) {
    this.call('getModulation', [lanes], o);
    return lanes.map((l) => this.m.mod[l - 1]);
  }
  async rampBias(lanes: Lanes, a: number, o?: CallOptions) {
    await this.setBias(lanes, a, o);
  }
  async setOutput(lanes: Lanes, on: boolean, o?: CallOptions) {
    this.call('setOutput', [lanes, on], o);
    for (const l of lanes) this.m.out[l - 1] = on;
  }
  async getOutput(lanes: Lanes, o?: CallOptions) {
    this.call('getOutput', [lanes], o);
    return lanes.map((l) => this.m.out[l - 1]);
  }
  async setPattern(lanes: Lanes, p: Pattern, o?: CallOptions) {
    this.call('setPattern', [lanes, p], o);
    for (const l of lanes) this.m.pattern[l - 1] = p;
  }
  async setSeed(lanes: Lanes, s: number | readonly number[], o?: CallOptions) {
    this.call('setSeed', [lanes, s], o);
    const v = perLane(lanes, s);
    lanes.forEach((l, i) => {
      this.m.seed[l - 1] = v[i];
    });
  }
  async setRate(r: number, o?: CallOptions) {
    this.call('setRate', [r], o);
    this.m.rate = r;
  }
  async getRate(o?: CallOptions) {
    this.call('getRate', [], o);
    return this.m.rate;
  }
  async forwardVoltage(lanes: Lanes, o?: CallOptions) {
    this.call('forwardVoltage', [lanes], o);
    return lanes.map((l) => (this.m.out[l - 1] ? 2.5 + 1000 * this.m.bias[l - 1] : 0));
  }
  async boardTemperature(o?: CallOptions) {
    this.call('boardTemperature', [], o);
    return 30;
  }
}

class FakeReceiver extends FakeInstrument implements ErrorDetector, LanePowerMonitor {
  /** A counter on every lane. */
  readonly maxLanesPerGate = Number.POSITIVE_INFINITY;
  private gatePolls = 0;
  private gateSeconds = 0;
  private counters = new Map<number, { bits: number; errors: number }>();
  constructor(
    log: CallLog,
    protected readonly m: FakeModel,
    tst: number,
    role = 'pd-receiver',
  ) {
    super(role, log, tst);
  }
  async laneCount(o?: CallOptions) {
    this.call('laneCount', [], o);
    return this.m.n;
  }
  async receivedPower(lanes: Lanes, o?: CallOptions) {
    this.call('receivedPower', [lanes], o);
    const rx = this.m.received();
    return lanes.map((l) => rx[l]);
  }
  async photocurrent(lanes: Lanes, o?: CallOptions) {
    this.call('photocurrent', [lanes], o);
    const rx = this.m.received();
    return lanes.map((l) => this.m.responsivity * rx[l] + 1e-9);
  }
  async setCheckerPattern(lanes: Lanes, p: Pattern, o?: CallOptions) {
    this.call('setCheckerPattern', [lanes, p], o);
    for (const l of lanes) this.m.checker[l - 1] = p;
  }
  async setThreshold(_r: number, o?: CallOptions) {
    this.call('setThreshold', [_r], o);
  }
  async startGate(seconds: number, o?: CallOptions) {
    this.call('startGate', [seconds], o);
    this.gateSeconds = seconds;
    this.gatePolls = this.m.o.gatePolls;
    this.counters.clear();
    for (let l = 1; l <= this.m.n; l++) {
      const { ber, sync } = this.m.ber(l);
      const bits = sync ? Math.round(seconds * this.m.rate) : 0;
      this.counters.set(l, { bits, errors: Math.round(bits * ber) });
    }
  }
  async gateRunning(o?: CallOptions) {
    this.call('gateRunning', [], o);
    if (this.gatePolls > 0) this.gatePolls--;
    return this.gatePolls > 0;
  }
  async stopGate(o?: CallOptions) {
    this.call('stopGate', [], o);
    this.gatePolls = 0;
  }
  async readCounters(lanes: Lanes, o?: CallOptions): Promise<GateResult> {
    this.call('readCounters', [lanes], o);
    const done = this.gatePolls === 0 ? 1 : 0.5;
    return {
      lanes: [...lanes],
      bits: lanes.map((l) => Math.round((this.counters.get(l)?.bits ?? 0) * done)),
      errors: lanes.map((l) => Math.round((this.counters.get(l)?.errors ?? 0) * done)),
    };
  }
  async syncStatus(lanes: Lanes, o?: CallOptions) {
    this.call('syncStatus', [lanes], o);
    return lanes.map((l) => this.m.ber(l).sync);
  }
  async lossOfSignal(lanes: Lanes, o?: CallOptions) {
    this.call('lossOfSignal', [lanes], o);
    return lanes.map((l) => !this.m.ber(l).sync);
  }
  get lastGateSeconds(): number {
    return this.gateSeconds;
  }
}

/** CMOS receiver: 8×8 pixels per lane, a 3×3 spot at the cell centre, black level 64. */
class FakeFrameReceiver extends FakeReceiver implements FrameCamera {
  static readonly PX = 8;
  constructor(log: CallLog, m: FakeModel, tst: number) {
    super(log, m, tst, 'cmos-receiver');
  }
  async frameSize(o?: CallOptions) {
    this.call('frameSize', [], o);
    return { width: this.m.cols * FakeFrameReceiver.PX, height: this.m.rows * FakeFrameReceiver.PX };
  }
  async captureFrame(o?: CallOptions): Promise<Frame> {
    this.call('captureFrame', [], o);
    const px = FakeFrameReceiver.PX;
    const width = this.m.cols * px;
    const height = this.m.rows * px;
    const pixels = new Uint16Array(width * height).fill(64);
    const rx = this.m.received();
    const kernel = [
      [1, 2, 1],
      [2, 4, 2],
      [1, 2, 1],
    ];
    for (let l = 1; l <= this.m.n; l++) {
      const counts = rx[l] * 1e9; // 1 count per nW
      const r = Math.floor((l - 1) / this.m.cols);
      const c = (l - 1) % this.m.cols;
      const cx = c * px + px / 2;
      const cy = r * px + px / 2;
      for (let dy = -1; dy <= 1; dy++) {
        for (let dx = -1; dx <= 1; dx++) {
          const k = (cy + dy) * width + cx + dx;
          pixels[k] = Math.min(65535, pixels[k] + Math.round((counts * kernel[dy + 1][dx + 1]) / 16));
        }
      }
    }
    return { width, height, pixels };
  }
  async setExposure(_s: number, o?: CallOptions) {
    this.call('setExposure', [_s], o);
  }
  async setGain(_g: number, o?: CallOptions) {
    this.call('setGain', [_g], o);
  }
}

class FakePowerMeter extends FakeInstrument implements RailMeter, Supply {
  readonly railNames = ['led', 'driver', 'rx', 'aux'];
  constructor(
    log: CallLog,
    private readonly m: FakeModel,
    tst: number,
  ) {
    super('power-analyzer', log, tst);
  }
  /** The fake's true rail powers. */
  truePowers(): number[] {
    const lit = this.m.out.filter(Boolean).length;
    let led = 0;
    this.m.out.forEach((on, k) => {
      if (on) led += (this.m.bias[k] + 0.5 * this.m.mod[k]) * 2.6;
    });
    return [led + 0.01, lit * 1e-12 * this.m.rate + 0.1, lit * 2e-3 + 0.05, 0.5];
  }
  async measure(rails?: readonly number[], o?: CallOptions): Promise<RailReading[]> {
    this.call('measure', [rails], o);
    const w = this.truePowers();
    const volts = [3.3, 0.9, 1.0, 3.3];
    return (rails ?? [1, 2, 3, 4]).map((r) => ({
      rail: r,
      name: this.railNames[r - 1],
      volts: volts[r - 1],
      amps: w[r - 1] / volts[r - 1],
      watts: w[r - 1],
    }));
  }
  async setOutput(rails: readonly number[], on: boolean, o?: CallOptions) {
    this.call('setOutput', [rails, on], o);
  }
  async setVoltage(rails: readonly number[], v: number, o?: CallOptions) {
    this.call('setVoltage', [rails, v], o);
  }
  async voltage(rails: readonly number[], o?: CallOptions) {
    this.call('voltage', [rails], o);
    return rails.map((r) => [3.3, 0.9, 1.0, 3.3][r - 1]!);
  }
}

class FakeOpticalMeter extends FakeInstrument implements OpticalPowerMeter {
  constructor(log: CallLog, tst: number) {
    super('optical-meter', log, tst);
  }
  async setWavelength(nm: number, o?: CallOptions) {
    this.call('setWavelength', [nm], o);
  }
  async power(o?: CallOptions) {
    this.call('power', [], o);
    return 1e-4;
  }
}

export class FakeTec extends FakeInstrument implements ThermalController {
  sp = 25;
  t = 25;
  on = false;
  readonly setpoints: number[] = [];
  constructor(
    log: CallLog,
    private readonly step: number,
    tst: number,
  ) {
    super('tec', log, tst);
  }
  async setSetpoint(c: number, o?: CallOptions) {
    this.call('setSetpoint', [c], o);
    this.sp = c;
    this.setpoints.push(c);
  }
  async setpoint(o?: CallOptions) {
    this.call('setpoint', [], o);
    return this.sp;
  }
  async temperature(o?: CallOptions) {
    this.call('temperature', [], o);
    if (this.on) this.t += (this.sp - this.t) * this.step;
    return this.t;
  }
  async setOutput(on: boolean, o?: CallOptions) {
    this.call('setOutput', [on], o);
    this.on = on;
  }
}

/**
 * An instrument clock whose time moves only when something sleeps on it, at once: physical waits (TEC dwell,
 * settling) take no real time in step tests and their durations come out exact.
 */
export class VirtualClock implements InstrumentClock {
  readonly timeScale = 1;
  private t = 0;
  /** Instrument seconds slept on this clock so far. */
  get slept(): number {
    return this.t;
  }
  now(): number {
    return this.t;
  }
  async sleep(seconds: number, signal?: AbortSignal): Promise<void> {
    if (signal?.aborted) throw new AbortedError('aborted while waiting', { cause: signal.reason });
    this.t += seconds;
    await Promise.resolve();
  }
}

export interface FakeBench {
  model: FakeModel;
  log: CallLog;
  instruments: BenchInstruments;
  clock: VirtualClock;
  source: FakeSource;
  receiver: FakeReceiver;
  powerMeter: FakePowerMeter;
  tec: FakeTec;
}

export function createFakeBench(opts: FakeOptions = {}): FakeBench {
  const model = new FakeModel(opts);
  const log = new CallLog();
  const tst = (role: string) => opts.selfTest?.[role] ?? 0;
  const source = new FakeSource(log, model, tst('led-driver'));
  const receiver = opts.frame
    ? new FakeFrameReceiver(log, model, tst('cmos-receiver'))
    : new FakeReceiver(log, model, tst('pd-receiver'));
  const powerMeter = new FakePowerMeter(log, model, tst('power-analyzer'));
  const optical = new FakeOpticalMeter(log, tst('optical-meter'));
  const tec = new FakeTec(log, model.o.tecStep, tst('tec'));
  const all: Instrument[] = [source, receiver, powerMeter, optical, tec];
  const clock = new VirtualClock();
  // what each fake provides, as the real drivers' descriptors say
  const provides: Partial<Record<Capability, Instrument>> = {
    'current-source': source,
    'pattern-generator': source,
    'error-detector': receiver,
    'lane-power-monitor': receiver,
    ...(opts.frame ? { 'frame-camera': receiver } : {}),
    'rail-meter': powerMeter,
    supply: powerMeter,
    'optical-power-meter': optical,
    'thermal-controller': tec,
  };
  const find = <C extends Capability>(cap: C) => provides[cap] as CapabilityMap[C] | undefined;
  const instruments: BenchInstruments = {
    clock,
    find,
    get: (cap) => {
      const i = find(cap);
      if (!i) throw new Error(`the fake bench has no ${cap}`);
      return i;
    },
    has: (cap) => provides[cap] !== undefined,
    all: () => all.map((instrument) => ({ role: instrument.role, instrument })),
  };
  return { model, log, instruments, clock, source, receiver, powerMeter, tec };
}
