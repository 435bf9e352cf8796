import { formatSet } from '../../scpi/command-table.ts';
import { type DriverOptions, NotSafeError, ScpiDriver } from '../base.ts';
import {
  type CallOptions,
  type DecisionThreshold,
  type ErrorDetector,
  type GateResult,
  type LaneDeskew,
  type LanePowerMonitor,
  type Lanes,
  PATTERNS,
  type Pattern,
} from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { PD_KIT } from './commands.ts';

export interface PdReceiverOptions extends DriverOptions {
  /** Receiver lanes (rows x cols). */
  lanes: number;
}

/**
 * Photodiode receiver evaluation kit: a virtual SCPI instrument, through its command table (commands.ts).
 * Per-lane reads are one list query; the error counters gate on all lanes at once.
 */
export class PdReceiver extends ScpiDriver implements ErrorDetector, DecisionThreshold, LaneDeskew, LanePowerMonitor {
  protected readonly lanes: number;
  /** A counter on every lane: all of them in one gate. */
  readonly maxLanesPerGate: number;
  /** `SENS:THR` takes 0.05..0.95 of the eye. */
  readonly thresholdRange = [0.05, 0.95] as const;

  constructor(o: PdReceiverOptions) {
    super(o);
    this.lanes = o.lanes;
    this.maxLanesPerGate = o.lanes;
  }

  async laneCount(opts?: CallOptions): Promise<number> {
    return this._get1(PD_KIT.laneCount, opts);
  }

  async receivedPower(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(PD_KIT.power, this._checked(lanes), opts);
  }

  async photocurrent(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(PD_KIT.photocurrent, this._checked(lanes), opts);
  }

  async setCheckerPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void> {
    if (!PATTERNS.includes(pattern)) this._refuse(`pattern "${pattern}" is not one of ${PATTERNS.join(', ')}`);
    return this._set(PD_KIT.checkerPattern, pattern, this._checked(lanes), opts);
  }

  async setThreshold(relative: number, opts?: CallOptions): Promise<void> {
    const [lo, hi] = this.thresholdRange;
    if (!(relative >= lo && relative <= hi)) this._refuse(`threshold ${relative} is outside ${lo}..${hi}`);
    return this._set(PD_KIT.threshold, relative, undefined, opts);
  }

  async threshold(opts?: CallOptions): Promise<number> {
    return this._get1(PD_KIT.threshold, opts);
  }

  async startGate(seconds: number, opts?: CallOptions): Promise<void> {
    if (!(seconds > 0) || !Number.isFinite(seconds)) this._refuse(`gate time ${seconds} s is not > 0`);
    await this._set(PD_KIT.gateTime, seconds, undefined, opts);
    await this._set(PD_KIT.gate, true, undefined, opts);
  }

  async gateRunning(opts?: CallOptions): Promise<boolean> {
    return this._get1(PD_KIT.gate, opts);
  }

  async stopGate(opts?: CallOptions): Promise<void> {
    return this._set(PD_KIT.gate, false, undefined, opts);
  }

  async readCounters(lanes: Lanes, opts?: CallOptions): Promise<GateResult> {
    this._checked(lanes);
    const bits = await this._get(PD_KIT.bits, lanes, opts);
    const errors = await this._get(PD_KIT.errors, lanes, opts);
    return { lanes: [...lanes], bits, errors };
  }

  async syncStatus(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return this._get(PD_KIT.sync, this._checked(lanes), opts);
  }

  async lossOfSignal(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return this._get(PD_KIT.los, this._checked(lanes), opts);
  }

  async skew(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(PD_KIT.skew, this._checked(lanes), opts);
  }

  async setDeskew(on: boolean, opts?: CallOptions): Promise<void> {
    return this._set(PD_KIT.deskew, on, undefined, opts);
  }

  async deskew(opts?: CallOptions): Promise<boolean> {
    return this._get1(PD_KIT.deskew, opts);
  }

  async aggregateSync(opts?: CallOptions): Promise<boolean> {
    return this._get1(PD_KIT.aggregateSync, opts);
  }

  /** Arrival delay per lane, s (`FETC:DEL?`): the fibre's propagation delay; its spread is the lane skew. */
  async laneDelays(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return this._get(PD_KIT.delay, this._checked(lanes), opts);
  }

  /** A receiver drives nothing: its safe state is a stopped gate, read back with `SENS:GATE:STAT?`. */
  async safeState(opts?: CallOptions): Promise<string> {
    return this._makeSafe(
      [formatSet(PD_KIT.gate, false)],
      async () => {
        if (await this.gateRunning(opts)) throw new NotSafeError(this.role, 'the error-counter gate still runs');
        return 'error-counter gate stopped (read back)';
      },
      opts,
    );
  }

  /** The lanes, once checked to be integers in 1..lanes (refused before anything is sent). */
  protected _checked(lanes: Lanes): Lanes {
    this._lanes(lanes, this.lanes);
    return lanes;
  }
}

/** The photodiode receiver kit: an error counter and a power monitor on every lane. */
export const descriptor: DriverDescriptor<Record<string, never>> = {
  model: 'cpobench-pd-kit',
  title: 'photodiode receiver evaluation kit (per-lane power, photocurrent, error counters)',
  speaks: 'virtual: the cpobench PD kit command table',
  capabilities: ['error-detector', 'decision-threshold', 'lane-deskew', 'lane-power-monitor'],
  identity: ',PDRX-',
  settings: {},
  create: (c) =>
    new PdReceiver({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      lanes: c.lanes,
    }),
};
