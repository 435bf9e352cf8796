/**
 * Keithley 2450 SourceMeter in its SCPI command set (`*LANG SCPI`; the 2450 also speaks TSP and SCPI2400), from
 * the Model 2450 Reference Manual (2450-901-01), section "SCPI command reference": the source function and
 * level, the voltage limit of a current source, the measure function, the output, and the measurements. Read
 * by the driver (driver.ts) and by the simulated instrument (src/sim/instruments/smu.ts).
 */
import { bool, control, keyword, measure, num, type ScpiValue } from '../../scpi/command-table.ts';
import { parseString, quoteString } from '../../scpi/parse.ts';

export const SOURCE_FUNCTIONS = ['CURRent', 'VOLTage'] as const;
export type SenseFunction = 'VOLT' | 'CURR';

/**
 * The measure function, a quoted string: sent as `"VOLT"` / `"CURR"`; the 2450 answers the query with the full
 * name, `"VOLT:DC"` / `"CURR:DC"`.
 */
export const senseFunction: ScpiValue<SenseFunction> = {
  describe: '"VOLT"|"CURR"',
  write: (v) => quoteString(v),
  read: (t) => toSense(parseString(t)),
  parse: (p) => toSense(p.string()),
  reply: (v) => quoteString(`${v}:DC`),
};

function toSense(s: string): SenseFunction {
  const u = s.toUpperCase();
  if (/^VOLT(AGE)?(:DC)?$/.test(u)) return 'VOLT';
  if (/^CURR(ENT)?(:DC)?$/.test(u)) return 'CURR';
  throw new Error(`expected "VOLT" or "CURR", got "${s}"`);
}

export const K2450 = {
  sourceFunction: control(':SOURce#:FUNCtion[:MODE]', keyword(SOURCE_FUNCTIONS), 'what the output sources', {
    send: ':SOUR:FUNC',
  }),
  current: control(
    ':SOURce#:CURRent[:LEVel][:IMMediate][:AMPLitude]',
    num('A'),
    'current level of the current source',
    { send: ':SOUR:CURR', unit: 'A' },
  ),
  voltageLimit: control(':SOURce#:CURRent:VLIMit[:LEVel]', num('V'), 'voltage limit while sourcing current', {
    send: ':SOUR:CURR:VLIM',
    unit: 'V',
  }),
  voltageLimitTripped: measure(
    ':SOURce#:CURRent:VLIMit:TRIPped',
    bool,
    '1 when the source is in its voltage limit (the current is below the level)',
    { send: ':SOUR:CURR:VLIM:TRIP' },
  ),
  senseFunction: control(':SENSe#:FUNCtion[:ON]', senseFunction, 'the measure function', { send: ':SENS:FUNC' }),
  voltageAutoRange: control(':SENSe#:VOLTage[:DC]:RANGe:AUTO', bool, 'voltage measure range chosen per reading', {
    send: ':SENS:VOLT:RANG:AUTO',
  }),
  output: control(':OUTPut#[:STATe]', bool, 'source output on/off', { send: ':OUTP' }),
  measureVoltage: measure(':MEASure:VOLTage[:DC]', num('V'), 'a voltage reading at the present source level', {
    send: ':MEAS:VOLT',
    unit: 'V',
  }),
  measureCurrent: measure(':MEASure:CURRent[:DC]', num('A'), 'a current reading at the present source level', {
    send: ':MEAS:CURR',
    unit: 'A',
  }),
  read: measure(':READ', num(), 'a reading of the present measure function', { send: ':READ' }),
};
