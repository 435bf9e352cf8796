/**
 * Table lines beyond one value: numeric header suffixes (`:INP2:ATT`), values of several fields (`A,17`,
 * `0,0,25,28`), item queries (`:CALC:DATA:EAL? "CURRent:EC:TOTal"`) and compound messages; the simulated
 * instrument serves the suffixed and fielded lines from the same table. Expected strings written by hand.
 */
import { describe, expect, it } from 'vitest';
import { ITEMS, MP1900A, period } from '../../src/instruments/anritsu-mp1900a/commands.ts';
import { N7734A } from '../../src/instruments/keysight-n7734a/commands.ts';
import { N7764A } from '../../src/instruments/keysight-n7764a/commands.ts';
import { formatItemQuery, readFields } from '../../src/scpi/command-fields.ts';
import { withSuffix } from '../../src/scpi/command-suffix.ts';
import { formatQuery, formatSet } from '../../src/scpi/command-table.ts';
import { compound, splitReplies } from '../../src/scpi/compound.ts';
import { serveFields } from '../../src/sim/server/fields.ts';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';

describe('command forms', () => {
  it('fills numeric suffixes, refusing a missing or extra one', () => {
    expect(formatSet(withSuffix(N7764A.attenuation, 2), 10)).toBe(':INP2:ATT 10');
    expect(formatQuery(withSuffix(N7764A.shutter, 4))).toBe(':OUTP4:STAT?');
    expect(formatSet(withSuffix(N7734A.route, 1, 5), 400)).toBe(':ROUT1:CHAN5 A,400');
    expect(() => withSuffix(N7734A.route, 1)).toThrow(/expected a suffix >= 1 for each #/);
    expect(() => withSuffix(N7764A.attenuation, 1, 2)).toThrow(/2 suffixes for 1 #/);
    expect(() => withSuffix(N7764A.attenuation, 0)).toThrow(/expected a suffix >= 1/);
  });

  it('writes and reads values of several fields; item queries; compound messages and their replies', () => {
    expect(formatSet(MP1900A.gatePeriod, 1527.4)).toBe(':SENS:MEAS:EAL:PER 0,0,25,28');
    expect(formatSet(MP1900A.gatePeriod, 90061)).toBe(':SENS:MEAS:EAL:PER 1,1,1,1');
    expect(readFields(MP1900A.gatePeriod, '0,0,25,28')).toBe(1528);
    expect(readFields(N7734A.route, 'A,17')).toBe(17);
    expect(() => readFields(N7734A.route, 'B,17')).toThrow(/expected the common port A, got "B"/);
    expect(() => readFields(N7734A.route, '17')).toThrow(/expected 2 fields/);
    expect(period.replyFields(61)).toEqual([0, 0, 1, 1]);
    expect(formatItemQuery(MP1900A.result, ITEMS.errorCount)).toBe(':CALC:DATA:EAL? "CURRent:EC:TOTal"');
    expect(compound([':MOD:ID 2', 'INT:ID 1', '*OPC?'])).toBe(':MOD:ID 2;:INT:ID 1;*OPC?');
    expect(splitReplies('1;"a;b";3', 3)).toEqual(['1', '"a;b"', '3']);
    expect(() => splitReplies('1;2', 3)).toThrow(/expected 3 replies separated by ";", got 2/);
  });

  it('a simulated instrument serves suffixed and fielded lines from the same table', async () => {
    const inst = new ScpiInstrument({
      role: 'demo',
      identity: { manufacturer: 'x', model: 'y', serial: 'z', firmware: '1' },
    });
    const routes = new Map<number, number>();
    serveFields(inst, N7734A.route, {
      set: (port, c) => {
        routes.set(c.suffixes[1]!, port);
      },
      get: (c) => routes.get(c.suffixes[1]!) ?? 0,
    });
    const run = async (line: string) => (await inst.execute(line))?.toString().trim();
    await run(':ROUT1:CHAN3 A,42;:ROUTE1:CHANNEL4 a,7');
    expect(await run(':ROUT1:CHAN3?;:ROUT1:CHAN4?;:ROUT1:CHAN1?')).toBe('A,42;A,7;A,0');
    await run(':ROUT1:CHAN1 B,3');
    await run(':ROUT1:CHAN1 A');
    expect(await run('SYST:ERR?')).toMatch(/^-224,/);
    expect(await run('SYST:ERR?')).toMatch(/^-10[89],/);
  });
});
