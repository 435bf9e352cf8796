/**
 * One error detector over every lane, made of a detector with a few inputs (a 4-channel BERT) and an optical
 * switch in front of it (the station's `switching:` section). It counts `inputs` lanes per gate: a step hands it
 * the lanes of the next gate with setCheckerPattern, which routes lane k of the batch to input k (one switch
 * message) and sets the checker on those inputs; the gate, the counters, sync and signal are then the
 * detector's, read at the inputs the lanes were routed to. The BER step already tests lanes in batches of
 * `maxLanesPerGate` (src/steps/ber.ts), so a batch is routed before its gate.
 */
import type {
  CallOptions,
  ErrorDetector,
  GateResult,
  Identity,
  Lanes,
  OpticalSwitch,
  Pattern,
} from '../instruments/capabilities.ts';
import { StationError } from './errors.ts';
import type { PortMap } from './switching.ts';

export class SwitchedErrorDetector implements ErrorDetector {
  readonly role: string;
  readonly maxLanesPerGate: number;
  private readonly sw: OpticalSwitch;
  private readonly ed: ErrorDetector;
  private readonly ports: PortMap;
  /** The switch channel feeding detector input i + 1. */
  private readonly feeds: readonly number[];
  /** Lane -> the detector input it is routed to, for the lanes of the last setCheckerPattern. */
  private routed = new Map<number, number>();

  constructor(o: {
    name: string;
    sw: OpticalSwitch;
    detector: ErrorDetector;
    ports: PortMap;
    feeds: readonly number[];
  }) {
    this.role = o.name;
    this.sw = o.sw;
    this.ed = o.detector;
    this.ports = o.ports;
    this.feeds = o.feeds;
    this.maxLanesPerGate = o.feeds.length;
  }

  /** Routes the gate's lanes to the detector's inputs (one switch message), then sets the checker on them. */
  async setCheckerPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void> {
    if (lanes.length === 0 || lanes.length > this.maxLanesPerGate) {
      throw new StationError(
        'E_STATION',
        `${this.role}: ${lanes.length} lanes for a gate of 1..${this.maxLanesPerGate}`,
      );
    }
    const routes = lanes.map((lane, i) => {
      const port = this.ports.portOf(lane);
      if (port === undefined)
        throw new StationError('E_STATION', `${this.role}: lane ${lane} has no switch port (switching.ports)`);
      return { channel: this.feeds[i]!, port };
    });
    this.routed = new Map();
    await this.sw.route(routes, opts);
    this.routed = new Map(lanes.map((l, i) => [l, i + 1]));
    await this.ed.setCheckerPattern(this.inputs(lanes), pattern, opts);
  }

  startGate(seconds: number, opts?: CallOptions): Promise<void> {
    return this.ed.startGate(seconds, opts);
  }

  gateRunning(opts?: CallOptions): Promise<boolean> {
    return this.ed.gateRunning(opts);
  }

  stopGate(opts?: CallOptions): Promise<void> {
    return this.ed.stopGate(opts);
  }

  async readCounters(lanes: Lanes, opts?: CallOptions): Promise<GateResult> {
    const r = await this.ed.readCounters(this.inputs(lanes), opts);
    return { lanes: [...lanes], bits: r.bits, errors: r.errors };
  }

  async syncStatus(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return this.ed.syncStatus(this.inputs(lanes), opts);
  }

  async lossOfSignal(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return this.ed.lossOfSignal(this.inputs(lanes), opts);
  }

  identify(opts?: CallOptions): Promise<Identity> {
    return this.ed.identify(opts);
  }

  selfTest(opts?: CallOptions): Promise<number> {
    return this.ed.selfTest(opts);
  }

  clearErrors(opts?: CallOptions): Promise<string[]> {
    return this.ed.clearErrors(opts);
  }

  /** Both parts' safe states (the station also makes each safe as an instrument of its own). */
  async safeState(opts?: CallOptions): Promise<string> {
    return `${await this.ed.safeState(opts)}; ${await this.sw.safeState(opts)}`;
  }

  private inputs(lanes: Lanes): number[] {
    return lanes.map((l) => {
      const input = this.routed.get(l);
      if (input === undefined) {
        throw new StationError(
          'E_STATION',
          `${this.role}: lane ${l} is not routed to the detector (setCheckerPattern routes the lanes of a gate first)`,
        );
      }
      return input;
    });
  }
}
