/**
 * Keysight N6705C DC power analyzer: the commands cpobench uses, one line each, from the N6700 family's SCPI
 * reference (channel lists `(@1:4)`, one value for every listed channel). Read by the driver (driver.ts) and the
 * simulated analyzer (src/sim/instruments/power-analyzer.ts).
 */
import { bool, control, int, measure, num, text } from '../../scpi/command-table.ts';

const channels = { channels: 'list' } as const;

export const N6705C = {
  channelCount: measure('SYSTem:CHANnel[:COUNt]', int, 'number of output channels (installed modules)', {
    send: 'SYST:CHAN:COUN',
  }),
  moduleModel: measure('SYSTem:CHANnel:MODel', text, 'model of the module in each channel (N6781A, N6731B...)', {
    ...channels,
    send: 'SYST:CHAN:MOD',
  }),
  voltage: control('[SOURce]:VOLTage[:LEVel][:IMMediate][:AMPLitude]', num('V'), 'voltage setpoint per channel', {
    ...channels,
    send: 'VOLT',
    unit: 'V',
  }),
  currentLimit: control('[SOURce]:CURRent[:LEVel][:IMMediate][:AMPLitude]', num('A'), 'current limit per channel', {
    ...channels,
    send: 'CURR',
    unit: 'A',
  }),
  output: control('OUTPut[:STATe]', bool, 'output per channel; *RST switches every output off', {
    ...channels,
    send: 'OUTP',
  }),
  measuredVoltage: measure('MEASure[:SCALar]:VOLTage[:DC]', num('V'), 'measured voltage per channel', {
    ...channels,
    send: 'MEAS:VOLT',
    unit: 'V',
  }),
  measuredCurrent: measure('MEASure[:SCALar]:CURRent[:DC]', num('A'), 'measured current per channel', {
    ...channels,
    send: 'MEAS:CURR',
    unit: 'A',
  }),
  /** Only on modules that measure power (measuresPower): never sent to a channel without. */
  measuredPower: measure('MEASure[:SCALar]:POWer[:DC]', num('W'), 'measured power per channel', {
    ...channels,
    send: 'MEAS:POW',
    unit: 'W',
  }),
};

/**
 * Whether a module answers `MEAS:POW?`: the N676xA precision modules and the N678xA source/measure units do
 * (domain.md §6); basic modules such as the N673xB measure voltage and current only.
 */
export function measuresPower(model: string): boolean {
  return /^N67[68]\d[A-Z]?$/i.test(model.trim());
}
