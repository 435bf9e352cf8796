/**
 * The cpobench µLED array driver board: a virtual SCPI instrument (no off-the-shelf equivalent; domain.md §3.4
 * "Multi-channel LED drivers"). One line per command; lanes are channel lists, and the per-lane currents and seeds
 * take one value for every listed lane or one value per lane. Read by the driver (driver.ts) and the simulated
 * board (src/sim/instruments/led-driver.ts).
 */
import { bool, control, int, keyword, listOf, measure, num } from '../../scpi/command-table.ts';

/** Patterns the board generates (PRBS with ITU-T O.150 polarity); the PD and CMOS kits check the same ones. */
export const BOARD_PATTERNS = [
  'PRBS7',
  'PRBS9',
  'PRBS11',
  'PRBS15',
  'PRBS20',
  'PRBS23',
  'PRBS29',
  'PRBS31',
  'CLOCK',
  'ONES',
  'ZEROS',
] as const;
export type BoardPattern = (typeof BOARD_PATTERNS)[number];

const lanes = { channels: 'list' } as const;
const perLane = { channels: 'list', perChannel: true } as const;

export const LED_BOARD = {
  laneCount: measure('SYSTem:CHANnel:COUNt', int, 'number of lanes (physical channels)', {
    send: 'SYST:CHAN:COUN',
  }),
  geometry: measure('SYSTem:LANE:GEOMetry', listOf(int, 2), '`rows,cols` of the emitter array', {
    send: 'SYST:LANE:GEOM',
  }),
  currentLimit: measure('[SOURce]:CURRent:LIMit', num('A'), 'maximum bias + modulation per lane', {
    send: 'SOUR:CURR:LIM',
    unit: 'A',
  }),
  bias: control('[SOURce]:CURRent:BIAS[:LEVel][:IMMediate][:AMPLitude]', num('A'), 'DC bias current per lane', {
    ...perLane,
    send: 'SOUR:CURR:BIAS',
    unit: 'A',
  }),
  modulation: control(
    '[SOURce]:CURRent:MODulation[:LEVel][:IMMediate][:AMPLitude]',
    num('A'),
    'modulation current (peak-to-peak) per lane',
    { ...perLane, send: 'SOUR:CURR:MOD', unit: 'A' },
  ),
  output: control('OUTPut[:STATe]', bool, 'output per lane', { ...lanes, send: 'OUTP' }),
  pattern: control('[SOURce]:PATTern[:TYPE]', keyword(BOARD_PATTERNS), 'pattern per lane', {
    ...lanes,
    send: 'SOUR:PATT',
  }),
  seed: control('[SOURce]:PATTern:SEED', int, 'LFSR seed per lane (decorrelates neighbours)', {
    ...perLane,
    send: 'SOUR:PATT:SEED',
  }),
  invert: control('[SOURce]:PATTern:INVert', bool, 'invert the PRBS output per lane', {
    ...lanes,
    send: 'SOUR:PATT:INV',
  }),
  rate: control('[SOURce]:RATE', num('BPS'), 'lane rate, the same for all lanes', { send: 'SOUR:RATE', unit: 'bit/s' }),
  forwardVoltage: measure('MEASure:VOLTage[:DC]', num('V'), 'forward voltage per lane', {
    ...lanes,
    send: 'MEAS:VOLT',
    unit: 'V',
  }),
  temperature: measure('MEASure:TEMPerature', num('C'), 'board temperature', { send: 'MEAS:TEMP', unit: '°C' }),
};
