/**
 * The cpobench photodiode receiver evaluation kit: a virtual SCPI instrument. One line per command; lanes are
 * channel lists, a list query answers one value per listed lane in list order. Read by the driver (driver.ts) and
 * the simulated kit (src/sim/instruments/receiver.ts, shared with the CMOS kit, whose table extends this one).
 */
import { bool, control, int, keyword, measure, num } from '../../scpi/command-table.ts';
import { BOARD_PATTERNS } from '../led-board/commands.ts';

const lanes = { channels: 'list' } as const;

export const PD_KIT = {
  laneCount: measure('SYSTem:CHANnel:COUNt', int, 'number of receiver lanes', { send: 'SYST:CHAN:COUN' }),
  power: measure('MEASure:POWer[:DC]', num('W'), 'received average optical power per lane', {
    ...lanes,
    send: 'MEAS:POW',
    unit: 'W',
  }),
  photocurrent: measure('MEASure:CURRent[:DC]', num('A'), 'photocurrent per lane', {
    ...lanes,
    send: 'MEAS:CURR',
    unit: 'A',
  }),
  /** The checker expects what the LED board sends: the same pattern names. */
  checkerPattern: control('SENSe:PATTern[:TYPE]', keyword(BOARD_PATTERNS), 'pattern the error checker expects', {
    ...lanes,
    send: 'SENS:PATT',
  }),
  checkerInvert: control('SENSe:PATTern:INVert', bool, 'the checker expects the inverted pattern', {
    ...lanes,
    send: 'SENS:PATT:INV',
  }),
  threshold: control('SENSe:THReshold', num(), 'decision threshold relative to the eye (0.5 = centre)', {
    send: 'SENS:THR',
  }),
  gateTime: control('SENSe:GATE:TIME', num('S'), 'gate length in instrument seconds', {
    send: 'SENS:GATE:TIME',
    unit: 's',
  }),
  gate: control('SENSe:GATE[:STATe]', bool, 'start / stop the gate on all lanes; 1 while it runs', {
    send: 'SENS:GATE:STAT',
  }),
  bits: measure('FETCh:BITS', num(), 'bits counted per lane in the current or last gate', {
    ...lanes,
    send: 'FETC:BITS',
  }),
  errors: measure('FETCh:ERRors', num(), 'errors counted per lane in the current or last gate', {
    ...lanes,
    send: 'FETC:ERR',
  }),
  ber: measure('FETCh:BER', num(), 'errors / bits per lane', { ...lanes, send: 'FETC:BER' }),
  sync: measure('STATus:SYNC', bool, 'pattern sync per lane (1 = locked)', { ...lanes, send: 'STAT:SYNC' }),
  los: measure('STATus:LOS', bool, 'loss of signal per lane (1 = lost)', { ...lanes, send: 'STAT:LOS' }),
  skew: measure('MEASure:SKEW', num('S'), 'arrival skew per lane relative to the earliest listed lane, s', {
    ...lanes,
    send: 'MEAS:SKEW',
    unit: 's',
  }),
  deskew: control('SENSe:DESKew[:STATe]', bool, 'per-lane deskew FIFOs on: every lane aligned to the latest', {
    send: 'SENS:DESK',
  }),
  aggregateSync: measure(
    'STATus:AGGRegate:SYNC',
    bool,
    'the aggregate of the lanes in pattern sync held frame alignment over the current or last gate (1)',
    { send: 'STAT:AGGR:SYNC' },
  ),
  /** Each lane's arrival against the kit's reference: the fibre's propagation delay (its spread is the skew). */
  delay: measure('FETCh:DELay', num('S'), 'arrival delay per lane (fibre propagation), s', {
    ...lanes,
    send: 'FETC:DEL',
    unit: 's',
  }),
};
