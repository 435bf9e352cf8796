/**
 * Simulated TEC controller speaking Thorlabs TED4015 command strings (`tec`). The mount temperature ramps
 * toward the setpoint at the profile's rate (°C per instrument second) while the output is on and relaxes to
 * ambient while it is off, computed from the bench clock when read (no timers). The link model follows it:
 * every instrument pushes the current temperature into the model before it reads the model.
 */
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';

export class Tec extends ScpiInstrument {
  readonly link: BenchLink;
  readonly minC: number;
  readonly maxC: number;
  private setpointC: number;
  private on = false;

  constructor(link: BenchLink) {
    super({ role: 'tec', identity: { ...link.profile.instruments.tec }, clock: link.clock });
    this.link = link;
    this.minC = link.profile.thermal.minC;
    this.maxC = link.profile.thermal.maxC;
    this.setpointC = link.profile.thermal.ambientC;

    this.command('[SOURce]:TEMPerature[:SPOint]', {
      set: (c) => {
        const v = c.params[0]!.number('C', { MIN: this.minC, MAX: this.maxC });
        this.setpointC = inRange(v, this.minC, this.maxC, 'setpoint', ' C');
        if (this.on) link.thermal.retarget(this.setpointC, this.clock.now());
        link.sync();
      },
      query: () => this.setpointC,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('[SOURce]:TEMPerature:LIMit:LOW', { query: () => this.minC, queryParams: [0, 0] });
    this.command('[SOURce]:TEMPerature:LIMit:HIGH', { query: () => this.maxC, queryParams: [0, 0] });
    this.command('MEASure[:SCALar]:TEMPerature', { query: () => this.actual(), queryParams: [0, 0] });
    this.command('OUTPut[:STATe]', {
      set: (c) => {
        this.setOutput(c.params[0]!.bool());
      },
      query: () => this.on,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
  }

  /** Actual mount temperature now (including a thermal-drift fault), °C, rounded to mK as displayed. */
  actual(): number {
    return Math.round(this.link.deviceTemperature() * 1000) / 1000;
  }

  private setOutput(on: boolean): void {
    this.on = on;
    const now = this.clock.now();
    this.link.thermal.retarget(on ? this.setpointC : this.link.thermal.ambientC, now);
    this.link.sync();
  }

  protected override onReset(): void {
    this.setpointC = this.link.profile.thermal.ambientC;
    this.setOutput(false);
  }
}
