/**
 * Simulated TEC controller speaking Thorlabs TED4015 command strings (`tec`). The mount is a first-order plant
 * under the controller's PID (src/sim/model/tec-plant.ts): it heads for the setpoint at up to the profile's rate
 * (°C per instrument second), overshoots and settles while the output is on, and relaxes to ambient while it is
 * off, computed from the bench clock when read (no timers). The link model follows it:
 * every instrument pushes the current temperature into the model before it reads the model.
 */
import { TED4015, type TEMPERATURE_UNITS } from '../../instruments/thorlabs-ted4015/commands.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';

export class Tec extends ScpiInstrument {
  readonly link: BenchLink;
  readonly minC: number;
  readonly maxC: number;
  private setpointC: number;
  private on = false;
  /** The unit temperatures are written and read in (UNIT:TEMP); *RST sets °C. */
  private unit: (typeof TEMPERATURE_UNITS)[number] = 'Celsius';

  constructor(link: BenchLink) {
    super({ role: 'tec', identity: { ...link.profile.instruments.tec }, clock: link.clock });
    this.link = link;
    this.minC = link.profile.thermal.minC;
    this.maxC = link.profile.thermal.maxC;
    this.setpointC = link.profile.thermal.ambientC;

    // The model's command table (src/instruments/thorlabs-ted4015/commands.ts), the one the driver reads.
    this.implement(TED4015.unit, {
      set: ([u]) => {
        this.unit = u!;
      },
      get: () => this.unit,
    });
    this.implement(TED4015.setpoint, {
      set: ([v]) => {
        const c = this.toCelsius(v!);
        this.setpointC = inRange(c, this.minC, this.maxC, 'setpoint', ' C');
        if (this.on) link.thermal.retarget(this.setpointC, this.clock.now());
        link.sync();
      },
      get: () => this.fromCelsius(this.setpointC),
    });
    this.implement(TED4015.lowLimit, { get: () => this.fromCelsius(this.minC) });
    this.implement(TED4015.highLimit, { get: () => this.fromCelsius(this.maxC) });
    this.implement(TED4015.temperature, { get: () => this.fromCelsius(this.actual()) });
    this.implement(TED4015.output, {
      set: ([on]) => this.setOutput(on!),
      get: () => this.on,
    });
  }

  private toCelsius(v: number): number {
    return this.unit === 'Kelvin' ? v - 273.15 : this.unit === 'Fahrenheit' ? ((v - 32) * 5) / 9 : v;
  }

  private fromCelsius(c: number): number {
    const v = this.unit === 'Kelvin' ? c + 273.15 : this.unit === 'Fahrenheit' ? (c * 9) / 5 + 32 : c;
    return Math.round(v * 1000) / 1000;
  }

  /** Actual mount temperature now (including a thermal-drift fault), °C, rounded to mK as displayed. */
  actual(): number {
    return Math.round(this.link.deviceTemperature() * 1000) / 1000;
  }

  private setOutput(on: boolean): void {
    this.on = on;
    const now = this.clock.now();
    this.link.thermal.retarget(on ? this.setpointC : this.link.thermal.ambientC, now, on);
    this.link.sync();
  }

  protected override onReset(): void {
    this.unit = 'Celsius';
    this.setpointC = this.link.profile.thermal.ambientC;
    this.setOutput(false);
  }
}
