/**
 * Simulated DC power analyzer speaking Keysight N6705C command strings (`power-analyzer`): four rails feeding
 * the device. Rail voltages and outputs go into the shared LinkModel (a rail switched off or browned out stops
 * its function); the measurements come from the model's rail power, so they follow what the LED driver sources.
 *
 * `MEAS:POW?` answers only for channels whose module measures power (N6781A, N6782A here; the N6731B in channel 4
 * does not: the query is refused with -241 and no reply), as `SYST:CHAN:MOD?` tells a driver.
 *
 * `*RST` switches every output off, as on the real unit. Power-on (and the reboot fault's power cycle) is the bench
 * fixture's state instead: every rail on at its nominal voltage, so the simulated device is powered from the start
 * (a real mainframe does that when set to recall a saved state at power-on).
 */
import { measuresPower, N6705C } from '../../instruments/keysight-n6705c/commands.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';

export const RAILS = 4;
/** Module models per slot, as `SYST:CHAN:MOD?` answers. */
export const RAIL_MODULES = ['N6781A', 'N6781A', 'N6782A', 'N6731B'] as const;
const MAX_VOLTS = 20;
const MAX_AMPS = 3;

export class PowerAnalyzer extends ScpiInstrument {
  readonly link: BenchLink;
  private readonly currentLimit = new Float64Array(RAILS);

  constructor(link: BenchLink) {
    super({ role: 'power-analyzer', identity: { ...link.profile.instruments['power-analyzer'] }, clock: link.clock });
    this.link = link;
    const m = () => link.sync();

    // The model's command table (src/instruments/keysight-n6705c/commands.ts), the one the driver reads.
    const rails = { maxChannel: RAILS };
    this.implement(N6705C.channelCount, { get: () => RAILS });
    this.implement(N6705C.moduleModel, { get: (ch) => ch!.map((r) => RAIL_MODULES[r - 1]!) }, rails);
    this.implement(
      N6705C.voltage,
      {
        set: ([v], ch) => {
          inRange(v!, 0, MAX_VOLTS, 'voltage', ' V');
          for (const r of ch!) m().setRailVoltage(r, v!);
        },
        get: (ch) => ch!.map((r) => m().getRailVoltage(r)),
      },
      { ...rails, keywords: { MIN: 0, MAX: MAX_VOLTS } },
    );
    this.implement(
      N6705C.currentLimit,
      {
        set: ([a], ch) => {
          inRange(a!, 0, MAX_AMPS, 'current limit', ' A');
          for (const r of ch!) this.currentLimit[r - 1] = a!;
        },
        get: (ch) => ch!.map((r) => this.currentLimit[r - 1]!),
      },
      { ...rails, keywords: { MIN: 0, MAX: MAX_AMPS } },
    );
    this.implement(
      N6705C.output,
      {
        set: ([on], ch) => {
          for (const r of ch!) m().setRailOutput(r, on!);
        },
        get: (ch) => ch!.map((r) => m().getRailOutput(r)),
      },
      rails,
    );
    const measured = (what: 'volts' | 'amps' | 'watts') => (ch: number[] | undefined) => {
      const state = m().railPower();
      return ch!.map((r) => {
        const s = state[r - 1];
        if (!s) throw new ScpiCommandError(-241, `rail ${r}`);
        return s[what];
      });
    };
    this.implement(N6705C.measuredVoltage, { get: measured('volts') }, rails);
    this.implement(N6705C.measuredCurrent, { get: measured('amps') }, rails);
    this.implement(
      N6705C.measuredPower,
      {
        get: (ch) => {
          const without = ch!.find((r) => !measuresPower(RAIL_MODULES[r - 1]!));
          if (without !== undefined) {
            throw new ScpiCommandError(
              -241,
              `${RAIL_MODULES[without - 1]} in channel ${without} does not measure power`,
            );
          }
          return measured('watts')(ch);
        },
      },
      rails,
    );
    this.onPowerOn();
  }

  /**
   * *RST, as on the real unit: every output off (voltage setpoints back to the rails' nominal, current limits to
   * 1 A).
   */
  protected override onReset(): void {
    this.defaults(false);
  }

  /** Power-on (and a power cycle): the bench fixture's state, every rail on at its nominal voltage. */
  protected override onPowerOn(): void {
    this.defaults(true);
  }

  private defaults(on: boolean): void {
    const m = this.link.sync();
    const rails = this.link.profile.power.rails;
    for (let r = 1; r <= RAILS; r++) {
      m.setRailVoltage(r, rails[r - 1]!.volts);
      m.setRailOutput(r, on);
      this.currentLimit[r - 1] = 1;
    }
  }
}
