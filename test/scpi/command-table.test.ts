/**
 * The command table: what a driver sends and reads, and what the simulated instrument accepts and answers, both
 * from one declaration. Expected strings are written out by hand from the SCPI rules (short form = the upper-case
 * part of each required node), not computed with the functions under test.
 */
import { describe, expect, it } from 'vitest';
import { TED4015 } from '../../src/instruments/thorlabs-ted4015/commands.ts';
import {
  action,
  bool,
  control,
  formatQuery,
  formatSet,
  int,
  keyword,
  measure,
  num,
  parseReply,
  shortForm,
  str,
} from '../../src/scpi/command-table.ts';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';

describe('command table', () => {
  it('derives the short form a driver sends from the header, or takes the vendor form the table names', () => {
    expect(shortForm('[SOURce]:TEMPerature[:SPOint]')).toBe('TEMP');
    expect(shortForm('MEASure[:SCALar]:TEMPerature')).toBe('MEAS:TEMP');
    expect(shortForm('SENSe#:CORRection:COLLect:ZERO')).toBe('SENS:CORR:COLL:ZERO');
    expect(shortForm('*RST')).toBe('*RST');
    expect(TED4015.setpoint.send).toBe('SOUR:TEMP');
  });

  it('formats settings with one value, one value per channel, or none; queries with and without channel lists', () => {
    const bias = control('[SOURce]:CURRent:BIAS', num('A'), 'bias per lane', { channels: 'list', perChannel: true });
    expect(formatSet(bias, 1e-4, [1, 2, 3, 4])).toBe('CURR:BIAS 0.0001,(@1:4)');
    expect(formatSet(bias, [1e-4, 2e-4], [7, 9])).toBe('CURR:BIAS 0.0001,0.0002,(@7,9)');
    expect(formatSet(bias, [1e-4, 1e-4], [7, 9])).toBe('CURR:BIAS 0.0001,(@7,9)');
    expect(formatQuery(bias, [1, 2, 3])).toBe('CURR:BIAS? (@1:3)');
    expect(() => formatSet(bias, 1e-4)).toThrow(/needs a channel list/);
    expect(formatSet(TED4015.setpoint, 25)).toBe('SOUR:TEMP 25C');
    expect(formatSet(TED4015.unit, 'Celsius')).toBe('UNIT:TEMP C');
    expect(formatSet(TED4015.output, false)).toBe('OUTP OFF');
    expect(formatQuery(TED4015.temperature)).toBe('MEAS:SCAL:TEMP?');
    expect(formatSet(action('SENSe:CORRection:COLLect:ZERO', 'dark zero'))).toBe('SENS:CORR:COLL:ZERO');
    expect(() => formatSet(measure('SYSTem:CHANnel:COUNt', int, 'lanes'), 3)).toThrow(/is not a setting/);
    expect(() => formatSet(control('X', num(), 'x'), [1, 2])).toThrow(/takes one value, not 2/);
    expect(formatSet(control('SYSTem:LABel', str, 'label'), 'say "hi"')).toBe('SYST:LAB "say ""hi"""');
  });

  it('parses replies, checking one value per listed channel', () => {
    const out = control('OUTPut[:STATe]', bool, 'output', { channels: 'list' });
    expect(parseReply(out, '1,0,1', [1, 2, 3])).toEqual([true, false, true]);
    expect(() => parseReply(out, '1,0', [1, 2, 3])).toThrow(/expected 3 values, got 2/);
    expect(parseReply(TED4015.setpoint, '+2.500000E+01')).toEqual([25]);
    expect(parseReply(TED4015.unit, 'CELSIUS')).toEqual(['Celsius']);
    expect(parseReply(TED4015.unit, 'K')).toEqual(['Kelvin']);
    expect(() => parseReply(TED4015.unit, 'X')).toThrow(/expected CELSIUS\|KELVIN\|FAHRENHEIT/);
    expect(() => parseReply(measure('SYSTem:CHANnel:COUNt', int, 'n'), '2.5')).toThrow(/expected an integer/);
  });

  it('a simulated instrument serves a table: long and short forms, per-channel values, replies, refusals', async () => {
    const bias = control('[SOURce]:CURRent:BIAS', num('A'), 'bias per lane', { channels: 'list', perChannel: true });
    const unit = control('UNIT:TEMPerature', keyword(['Celsius', 'Kelvin'] as const), 'unit');
    const inst = new ScpiInstrument({
      role: 'demo',
      identity: { manufacturer: 'x', model: 'y', serial: 'z', firmware: '1' },
    });
    const lanes = [0, 0, 0, 0];
    let u: 'Celsius' | 'Kelvin' = 'Celsius';
    inst.implement(
      bias,
      {
        set: (v, ch) => {
          ch!.forEach((c, i) => {
            lanes[c - 1] = v[i]!;
          });
        },
        get: (ch) => ch!.map((c) => lanes[c - 1]!),
      },
      { maxChannel: 4 },
    );
    inst.implement(unit, {
      set: ([v]) => {
        u = v!;
      },
      get: () => u,
    });
    const run = async (m: string) => (await inst.execute(m))?.toString() ?? null;
    expect(await run(formatSet(bias, 2e-4, [1, 2]))).toBeNull();
    expect(await run('SOURCE:CURRENT:BIAS 100uA,300uA,(@3,4)')).toBeNull();
    expect(await run(formatQuery(bias, [1, 2, 3, 4]))).toBe('2.000000E-4,2.000000E-4,1.000000E-4,3.000000E-4\n');
    expect(await run('CURR:BIAS?')).toBe('2.000000E-4,2.000000E-4,1.000000E-4,3.000000E-4\n'); // no list: every channel
    await run('CURR:BIAS 1,2,(@1:4)'); // 2 values for 4 channels: refused, nothing changes
    expect(await run('SYST:ERR?')).toMatch(/^-108,/);
    for (const [i, v] of [2e-4, 2e-4, 1e-4, 3e-4].entries()) expect(lanes[i]).toBeCloseTo(v, 12);
    await run('CURR:BIAS 1,(@5)');
    expect(await run('SYST:ERR?')).toMatch(/^-222,.*channel 5 is outside 1\.\.4/);
    expect(await run(formatSet(unit, 'Kelvin'))).toBeNull();
    expect(await run('UNIT:TEMP?')).toBe('K\n');
    expect(await run('UNIT:TEMPERATURE CELSIUS;UNIT:TEMP?')).toBe('C\n');
    await run('UNIT:TEMP FOO');
    expect(await run('SYST:ERR?')).toMatch(/^-224,/);
  });
});
