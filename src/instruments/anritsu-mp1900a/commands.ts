/**
 * Anritsu MP1900A signal quality analyzer with a 4-channel error detector module, in Anritsu's SCPI style
 * (MX190000A / MX180000A remote-control command set; command strings as the public MP1800/MP1900 drivers of
 * domain.md [S56] use them): a module is selected with `:MODule:ID <slot>` and a channel of a multi-channel
 * module with `:INTerface:ID <n>`; the pattern commands (`:SENSe:PATTern:...`) address the selected channel; the
 * measurement (the gate: `:SENSe:MEASure:EALarm:PERiod d,h,m,s`, `:SENSe:MEASure:STARt`) runs on every channel
 * of the module together; results are read per channel with `:CALCulate:DATA:EALarm? "<item>"`.
 * Read by the driver (driver.ts) and by the simulated instrument (src/sim/instruments/bert.ts).
 */

import { fields } from '../../scpi/command-fields.ts';
import { action, bool, control, int, keyword, measure, type ScpiValue } from '../../scpi/command-table.ts';
import { parseNumber, parseString } from '../../scpi/parse.ts';

export const PATTERN_TYPES = ['PRBS', 'ZSUBstitution', 'DATA', 'ALTernate', 'MIXData', 'MIXAlt', 'SEQuence'] as const;
export const PRBS_LENGTHS = [7, 9, 10, 11, 15, 20, 23, 31] as const;

/** A gate length as the ED takes it, `<days>,<hours>,<minutes>,<seconds>` (whole seconds), here in seconds. */
export const period = fields<number>({
  describe: 'd,h,m,s',
  arity: 4,
  toFields: (seconds) => {
    const s = Math.ceil(seconds);
    return [Math.floor(s / 86400), Math.floor((s % 86400) / 3600), Math.floor((s % 3600) / 60), s % 60];
  },
  fromFields: ([d, h, m, s]) => {
    const v = [d, h, m, s].map(Number);
    if (v.some((x) => !Number.isInteger(x) || x < 0)) throw new Error(`expected whole d,h,m,s, got ${[d, h, m, s]}`);
    return v[0]! * 86400 + v[1]! * 3600 + v[2]! * 60 + v[3]!;
  },
  parse: (p) => String(p.int()),
});

/** A result item: a number, or dashes (`-------`) while there is no valid value (read as NaN). */
export const result: ScpiValue<number> = {
  describe: 'a number or -------',
  write: (v) => String(v),
  read: (t) => {
    const s = parseString(t);
    return /^-{2,}$/.test(s) ? Number.NaN : parseNumber(s);
  },
  parse: (p) => p.number(),
  reply: (v) => (Number.isNaN(v) ? '"-------"' : v),
};

/** The result items cpobench reads (the query's argument). */
export const ITEMS = {
  errorCount: 'CURRent:EC:TOTal',
  /** Clock count: bits compared. */
  bitCount: 'CURRent:CC:TOTal',
  errorRate: 'CURRent:ER:TOTal',
  /** Seconds of the measurement with pattern sync loss. */
  syncLoss: 'CURRent:AINTerval:PSLoss',
  /** Seconds of the measurement with clock loss (no signal for the clock recovery). */
  clockLoss: 'CURRent:AINTerval:CLOSs',
} as const;

export const MP1900A = {
  module: control(':MODule:ID', int, 'the module (slot) the commands below address', { send: ':MOD:ID' }),
  channel: control(':INTerface:ID', int, 'the channel of a multi-channel module the ED commands address', {
    send: ':INT:ID',
  }),
  patternType: control(':SENSe:PATTern:TYPE', keyword(PATTERN_TYPES), 'pattern the ED expects', {
    send: ':SENS:PATT:TYPE',
  }),
  prbsLength: control(':SENSe:PATTern:PRBS:LENGth', int, 'PRBS length n of 2^n-1 (ITU-T O.150 sequences)', {
    send: ':SENS:PATT:PRBS:LENG',
  }),
  logic: control(':SENSe:PATTern:LOGic', keyword(['POSitive', 'NEGative'] as const), 'pattern polarity', {
    send: ':SENS:PATT:LOG',
  }),
  gateMode: control(':SENSe:MEASure:EALarm:MODE', keyword(['REPeat', 'SINGle', 'UNTimed'] as const), 'gating', {
    send: ':SENS:MEAS:EAL:MODE',
  }),
  gateUnit: control(':SENSe:MEASure:EALarm:UNIT', keyword(['TIME', 'CLOCk', 'ERRor', 'BLOCk'] as const), 'gate by', {
    send: ':SENS:MEAS:EAL:UNIT',
  }),
  gatePeriod: control(':SENSe:MEASure:EALarm:PERiod', period, 'gate length (UNIT TIME), whole seconds', {
    send: ':SENS:MEAS:EAL:PER',
    unit: 's',
  }),
  start: action(':SENSe:MEASure:STARt', "starts the module's measurement (every channel)", { send: ':SENS:MEAS:STAR' }),
  stop: action(':SENSe:MEASure:STOP', "stops the module's measurement", { send: ':SENS:MEAS:STOP' }),
  running: measure(':SENSe:MEASure:EALarm:STATe', bool, '1 while the measurement runs', {
    send: ':SENS:MEAS:EAL:STAT',
  }),
  result: measure(':CALCulate:DATA:EALarm', result, 'a result of the current or last measurement (ITEMS)', {
    send: ':CALC:DATA:EAL',
  }),
};
