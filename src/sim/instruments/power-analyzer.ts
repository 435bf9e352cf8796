/**
 * Simulated DC power analyzer speaking Keysight N6705C command strings (`power-analyzer`): four rails feeding
 * the device. Rail voltages and outputs go into the shared LinkModel (a rail switched off or browned out stops
 * its function); the measurements come from the model's rail power, so they follow what the LED driver sources.
 *
 * Defaults (power-on and *RST): every rail on at its nominal voltage, as the fixture supplies the device. (A
 * real N6705C switches its outputs off at *RST; the bench fixture's defaults keep the device powered.)
 */
import { ScpiCommandError } from '../server/errors.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange, lanesOf, queryLanes, single } from './lanes.ts';
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

    this.command('SYSTem:CHANnel[:COUNt]', { query: () => RAILS, queryParams: [0, 0] });
    this.command('SYSTem:CHANnel:MODel', { query: (c) => queryLanes(c, RAILS).map((r) => RAIL_MODULES[r - 1]!) });
    this.command('[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, RAILS);
        const v = inRange(single(values).number('V', { MIN: 0, MAX: MAX_VOLTS }), 0, MAX_VOLTS, 'voltage', ' V');
        for (const r of lanes) m().setRailVoltage(r, v);
      },
      query: (c) => queryLanes(c, RAILS).map((r) => m().getRailVoltage(r)),
    });
    this.command('[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, RAILS);
        const a = inRange(single(values).number('A', { MIN: 0, MAX: MAX_AMPS }), 0, MAX_AMPS, 'current limit', ' A');
        for (const r of lanes) this.currentLimit[r - 1] = a;
      },
      query: (c) => queryLanes(c, RAILS).map((r) => this.currentLimit[r - 1]!),
    });
    this.command('OUTPut[:STATe]', {
      set: (c) => {
        const { lanes, values } = lanesOf(c, RAILS);
        const on = single(values).bool();
        for (const r of lanes) m().setRailOutput(r, on);
      },
      query: (c) => queryLanes(c, RAILS).map((r) => m().getRailOutput(r)),
    });
    const measure = (what: 'volts' | 'amps' | 'watts') => (c: Parameters<typeof queryLanes>[0]) => {
      const rails = m().railPower();
      return queryLanes(c, RAILS).map((r) => {
        const s = rails[r - 1];
        if (!s) throw new ScpiCommandError(-241, `rail ${r}`);
        return s[what];
      });
    };
    this.command('MEASure[:SCALar]:VOLTage[:DC]', { query: measure('volts') });
    this.command('MEASure[:SCALar]:CURRent[:DC]', { query: measure('amps') });
    this.command('MEASure[:SCALar]:POWer[:DC]', { query: measure('watts') });
    this.onReset();
  }

  protected override onReset(): void {
    const m = this.link.sync();
    const rails = this.link.profile.power.rails;
    for (let r = 1; r <= RAILS; r++) {
      m.setRailVoltage(r, rails[r - 1]!.volts);
      m.setRailOutput(r, true);
      this.currentLimit[r - 1] = 1;
    }
  }
}
