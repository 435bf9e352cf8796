/**
 * Received power and photocurrent per lane from one optical power meter behind an optical switch (the station's
 * `switching.powerMonitor`): each lane is routed to the meter's switch channel in turn and read. Photocurrent is
 * derived from the power with the station's responsivity (`responsivityAW`, the receiver's at the link's
 * wavelength). Two round trips per lane (route, read), and `settleMs` of instrument time between them for a real
 * switch and meter to settle. A lane no switch port carries reads 0 W: no fibre from it reaches the head.
 */
import type { InstrumentClock } from '../core/instrument-clock.ts';
import type {
  CallOptions,
  Identity,
  LanePowerMonitor,
  Lanes,
  OpticalPowerMeter,
  OpticalSwitch,
} from '../instruments/capabilities.ts';
import type { PortMap } from './switching.ts';

export class SwitchedPowerMonitor implements LanePowerMonitor {
  readonly role: string;
  private readonly sw: OpticalSwitch;
  private readonly meter: OpticalPowerMeter;
  private readonly ports: PortMap;
  private readonly channel: number;
  private readonly responsivityAW: number;
  private readonly settleMs: number;
  private readonly clock: InstrumentClock;

  constructor(o: {
    name: string;
    sw: OpticalSwitch;
    meter: OpticalPowerMeter;
    ports: PortMap;
    channel: number;
    responsivityAW: number;
    settleMs: number;
    clock: InstrumentClock;
  }) {
    this.role = o.name;
    this.sw = o.sw;
    this.meter = o.meter;
    this.ports = o.ports;
    this.channel = o.channel;
    this.responsivityAW = o.responsivityAW;
    this.settleMs = o.settleMs;
    this.clock = o.clock;
  }

  async receivedPower(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    const out: number[] = [];
    for (const lane of lanes) {
      const port = this.ports.portOf(lane);
      if (port === undefined) {
        out.push(0);
        continue;
      }
      await this.sw.route([{ channel: this.channel, port }], opts);
      if (this.settleMs > 0) await this.clock.sleep(this.settleMs / 1000, opts?.signal);
      out.push(await this.meter.power(opts));
    }
    return out;
  }

  async photocurrent(lanes: Lanes, opts?: CallOptions): Promise<number[]> {
    return (await this.receivedPower(lanes, opts)).map((w) => w * this.responsivityAW);
  }

  identify(opts?: CallOptions): Promise<Identity> {
    return this.meter.identify(opts);
  }

  selfTest(opts?: CallOptions): Promise<number> {
    return this.meter.selfTest(opts);
  }

  clearErrors(opts?: CallOptions): Promise<string[]> {
    return this.meter.clearErrors(opts);
  }

  async safeState(opts?: CallOptions): Promise<string> {
    return `${await this.meter.safeState(opts)}; ${await this.sw.safeState(opts)}`;
  }
}
