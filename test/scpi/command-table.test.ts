/**
 * The command table: what a driver sends and reads, and what the simulated instrument accepts and answers, both
 * from one declaration. Expected strings are written out by hand from the SCPI rules (short form = the upper-case
 * part of each required node), not computed with the functions under test.
 */
import { describe, expect, it } from 'vitest';
import { TED4015 } from '../../src/instruments/thorlabs-ted4015/commands.ts';
import {
  action,
  block,
  bool,
  control,
  formatQuery,
  formatSet,
  int,
  keyword,
  listOf,
  measure,
  num,
  parseReply,
  shortForm,
  str,
  text,
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
    expect(await run('SYST:ERR?')).toBe(
      '-115,"Unexpected number of parameters;expected 1 value or 4 (one per listed channel), got 2"\n',
    );
    for (const [i, v] of [2e-4, 2e-4, 1e-4, 3e-4].entries()) expect(lanes[i]).toBeCloseTo(v, 12);
    await run('CURR:BIAS 1,(@5)');
    expect(await run('SYST:ERR?')).toMatch(/^-222,.*channel 5 is outside 1\.\.4/);
    expect(await run(formatSet(unit, 'Kelvin'))).toBeNull();
    expect(await run('UNIT:TEMP?')).toBe('K\n');
    expect(await run('UNIT:TEMPERATURE CELSIUS;UNIT:TEMP?')).toBe('C\n');
    await run('UNIT:TEMP FOO');
    expect(await run('SYST:ERR?')).toMatch(/^-224,/);
  });

  it('list replies of a fixed count, unquoted text, blocks: read by a driver, answered by an instrument', async () => {
    const size = measure('SENSe:FRAMe:SIZE', listOf(int, 2), 'width,height');
    const model = measure('SYSTem:CHANnel:MODel', text, 'module per channel', { channels: 'list' });
    const frame = measure('FETCh:FRAMe', block, 'one frame');
    expect(parseReply(size, '640,480')).toEqual([[640, 480]]);
    expect(() => parseReply(size, '640')).toThrow(/expected 2 values, got 1/);
    expect(() => parseReply(size, '640,4.5')).toThrow(/expected an integer/);
    expect(parseReply(model, 'N6781A,N6731B', [1, 4])).toEqual(['N6781A', 'N6731B']);
    expect(parseReply(measure('SYSTem:SENSor:IDN', text, 'head'), 'S120C,123,01-Jan-2024,1,18,289\n')).toEqual([
      'S120C,123,01-Jan-2024,1,18,289',
    ]);
    expect(formatQuery(frame)).toBe('FETC:FRAM?');
    expect(() => parseReply(frame, '#14abcd')).toThrow(/answers a block: read it with a block query/);

    const inst = new ScpiInstrument({
      role: 'demo',
      identity: { manufacturer: 'x', model: 'y', serial: 'z', firmware: '1' },
    });
    inst.implement(size, { get: () => [640, 480] });
    inst.implement(model, { get: (ch) => ch!.map((c) => (c === 4 ? 'N6731B' : 'N6781A')) }, { maxChannel: 4 });
    inst.implement(frame, { get: () => Buffer.from([0x0a, 0x00, 0xff, 0x01]) });
    const raw = async (m: string) => (await inst.execute(m))!;
    expect((await raw('SENS:FRAM:SIZE?')).toString()).toBe('640,480\n');
    expect((await raw('SYST:CHAN:MOD? (@3:4)')).toString()).toBe('N6781A,N6731B\n');
    expect((await raw('SYST:CHAN:MOD?')).toString()).toBe('N6781A,N6781A,N6781A,N6731B\n');
    expect([...(await raw('FETC:FRAM?'))]).toEqual([0x23, 0x31, 0x34, 0x0a, 0x00, 0xff, 0x01, 0x0a]); // #14 + 4 bytes + LF
    expect((await raw('SENS:FRAM:SIZE 1,2;:SYST:ERR?')).toString()).toMatch(/^-113,/); // a measure has no setting form
  });

  it('an instrument gives MIN, MAX and DEF its own values; a non-list setting takes one value', async () => {
    const gain = control('SENSe:GAIN', num(), 'gain');
    const rate = control('[SOURce]:RATE', num('BPS'), 'lane rate');
    const inst = new ScpiInstrument({
      role: 'demo',
      identity: { manufacturer: 'x', model: 'y', serial: 'z', firmware: '1' },
    });
    let g = 1;
    let r = 0;
    const keywords = { MIN: 1, MAX: 16, DEF: 1 };
    inst.implement(
      gain,
      {
        set: ([v]) => {
          g = v!;
        },
        get: () => g,
      },
      { keywords },
    );
    inst.implement(rate, {
      set: ([v]) => {
        r = v!;
      },
      get: () => r,
    });
    const run = async (m: string) => (await inst.execute(m))?.toString() ?? null;
    expect(await run('SENS:GAIN MAX;GAIN?')).toBe('16\n');
    expect(await run('SENS:GAIN minimum;GAIN?')).toBe('1\n');
    expect(await run('SOUR:RATE 2.5GHz;:RATE?')).toBe('2500000000\n');
    await run('SOUR:RATE MAX'); // this instrument gives MAX no value: not a number
    expect(await run('SYST:ERR?')).toMatch(/^-104,/);
    await run('SENS:GAIN 1,2');
    expect(await run('SYST:ERR?')).toMatch(/^-108,/);
    const out = control('OUTPut[:STATe]', bool, 'output per lane', { channels: 'list' });
    inst.implement(out, { set: () => undefined, get: (ch) => ch!.map(() => false) }, { maxChannel: 2 });
    await run('OUTP ON,OFF,(@1:2)'); // one value per lane is not offered by this line
    expect(await run('SYST:ERR?')).toBe('-108,"Parameter not allowed;expected one value before the channel list"\n');
  });
});
