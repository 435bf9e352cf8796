/**
 * Simulated Keithley 2450 (SCPI command set, the table in src/instruments/keithley-2450/commands.ts) whose leads
 * are on one lane's emitter (profile `bench.smuLane`). With its output on as a current source, the lane is
 * driven at that current on the link model (it emits, whatever the LED driver does on it) and the voltage it
 * measures is the lane's V_f at the model's temperature. When V_f would exceed the voltage limit the source is in
 * its limit: the voltage reads the limit, the current the one the diode draws at it, and
 * `:SOUR:CURR:VLIM:TRIP?` answers 1. A dead lane (a short) reads 0 V. Voltage-source mode is not simulated.
 */
import { K2450, type SenseFunction } from '../../instruments/keithley-2450/commands.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';

/** The 2450's ranges: ±1.05 A, ±210 V. */
const MAX_A = 1.05;
const MAX_V = 210;

export class SmuInstrument extends ScpiInstrument {
  readonly link: BenchLink;
  readonly lane: number;
  private fn: 'CURRent' | 'VOLTage' = 'VOLTage';
  private level = 0;
  private vlim = 21;
  private sense: SenseFunction = 'CURR';
  private autoRange = true;
  private on = false;

  constructor(link: BenchLink, lane: number) {
    super({ role: 'smu', identity: { ...link.profile.instruments.smu! }, clock: link.clock });
    this.link = link;
    this.lane = lane;
    this.implement(K2450.sourceFunction, {
      set: ([f]) => {
        if (f === 'VOLTage' && this.on) throw new ScpiCommandError(-221, 'switch the output off to change the source');
        this.fn = f!;
      },
      get: () => this.fn,
    });
    this.implement(K2450.current, {
      set: ([a]) => {
        this.level = inRange(a!, -MAX_A, MAX_A, 'current', ' A');
        this.apply();
      },
      get: () => this.level,
    });
    this.implement(K2450.voltageLimit, {
      set: ([v]) => {
        this.vlim = inRange(v!, 0.02, MAX_V, 'voltage limit', ' V');
        this.apply();
      },
      get: () => this.vlim,
    });
    this.implement(K2450.voltageLimitTripped, { get: () => this.operating().tripped });
    this.implement(K2450.senseFunction, {
      set: ([s]) => {
        this.sense = s!;
      },
      get: () => this.sense,
    });
    this.implement(K2450.voltageAutoRange, {
      set: ([on]) => {
        this.autoRange = on!;
      },
      get: () => this.autoRange,
    });
    this.implement(K2450.output, {
      set: ([on]) => {
        if (on && this.fn !== 'CURRent')
          throw new ScpiCommandError(-221, 'the simulated 2450 sources current only (:SOUR:FUNC CURR)');
        this.on = on!;
        this.apply();
      },
      get: () => this.on,
    });
    this.implement(K2450.measureVoltage, { get: () => this.operating().volts });
    this.implement(K2450.measureCurrent, { get: () => this.operating().amps });
    this.implement(K2450.read, {
      get: () => (this.sense === 'VOLT' ? this.operating().volts : this.operating().amps),
    });
  }

  /**
   * Where the diode sits: the current sourced (the level, or less in the voltage limit), its voltage, and whether
   * the limit tripped. Output off: 0 A, 0 V.
   */
  private operating(): { amps: number; volts: number; tripped: boolean } {
    const m = this.link.sync();
    if (!this.on) return { amps: 0, volts: 0, tripped: false };
    const i = Math.max(0, this.level); // reverse bias is not simulated: the diode blocks
    const v = m.forwardVoltageAt(this.lane, i);
    if (v <= this.vlim) return { amps: i, volts: v, tripped: false };
    // in the limit: the current at which V_f reaches it (V_f rises with I)
    let lo = 0;
    let hi = i;
    for (let k = 0; k < 60; k++) {
      const mid = (lo + hi) / 2;
      if (m.forwardVoltageAt(this.lane, mid) > this.vlim) hi = mid;
      else lo = mid;
    }
    return { amps: lo, volts: this.vlim, tripped: true };
  }

  private apply(): void {
    const m = this.link.sync();
    m.setExternalCurrent(this.lane, this.on ? this.operating().amps : undefined);
  }

  protected override onReset(): void {
    this.fn = 'VOLTage';
    this.level = 0;
    this.vlim = 21;
    this.sense = 'CURR';
    this.autoRange = true;
    this.on = false;
    this.apply();
  }
}
