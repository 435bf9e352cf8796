/**
 * Anritsu MP1900A with a 4-channel ED: module by `:MOD:ID`, channel by `:INT:ID`, pattern by
 * `:SENS:PATT:TYPE PRBS` + `:SENS:PATT:PRBS:LENG`, a timed single gate (`:SENS:MEAS:EAL:PER d,h,m,s`,
 * `:SENS:MEAS:STAR`), results by `:CALC:DATA:EAL? "CURRent:EC:TOTal"` (MX190000A remote-control command set, as
 * the public MP1800/MP1900 drivers send them). Strings written by hand.
 */
import { describe, expect, it } from 'vitest';
import { expectProtocol, ok, send } from '../testing/protocol.ts';
import { Mp1900a } from './driver.ts';

describe('Mp1900a protocol (Anritsu MP1900A ED, MX190000A commands)', () => {
  it('sets the checker on each channel, runs a whole-second gate, reads counts, sync and signal per channel', async () => {
    const p = await expectProtocol([
      ...ok(
        ':MOD:ID 2;:INT:ID 1;:SENS:PATT:TYPE PRBS;:SENS:PATT:PRBS:LENG 31;:SENS:PATT:LOG POS;' +
          ':INT:ID 2;:SENS:PATT:TYPE PRBS;:SENS:PATT:PRBS:LENG 31;:SENS:PATT:LOG POS',
      ),
      [
        ':MOD:ID 2;:INT:ID 1;:CALC:DATA:EAL? "CURRent:AINTerval:CLOSs";:INT:ID 2;:CALC:DATA:EAL? "CURRent:AINTerval:CLOSs"',
        '0;3',
      ],
      ...ok(':MOD:ID 2;:SENS:MEAS:EAL:MODE SING;:SENS:MEAS:EAL:UNIT TIME;:SENS:MEAS:EAL:PER 0,0,25,28;:SENS:MEAS:STAR'),
      [':MOD:ID 2;:SENS:MEAS:EAL:STAT?', '1'],
      [':MOD:ID 2;:INT:ID 1;:CALC:DATA:EAL? "CURRent:AINTerval:PSLoss"', '0'],
      [
        ':MOD:ID 2;:INT:ID 1;:CALC:DATA:EAL? "CURRent:CC:TOTal";:CALC:DATA:EAL? "CURRent:EC:TOTal";' +
          ':INT:ID 2;:CALC:DATA:EAL? "CURRent:CC:TOTal";:CALC:DATA:EAL? "CURRent:EC:TOTal"',
        '3056000000000;0;"-------";"-------"',
      ],
      ...ok(':MOD:ID 2;:SENS:MEAS:STOP'),
    ]);
    const ed = new Mp1900a({ role: 'bert', session: p.session, module: 2, channels: 4 });
    expect(ed.maxLanesPerGate).toBe(4);
    await ed.setCheckerPattern([1, 2], 'PRBS31');
    expect(await ed.lossOfSignal([1, 2])).toEqual([false, true]);
    await ed.startGate(1527.4); // 25 min 28 s, whole seconds up
    expect(await ed.gateRunning()).toBe(true);
    expect(await ed.syncStatus([1])).toEqual([true]);
    const c = await ed.readCounters([1, 2]);
    expect(c.lanes).toEqual([1, 2]);
    expect(c.bits[0]).toBe(3.056e12);
    expect(c.errors[0]).toBe(0);
    expect(c.bits[1]).toBeNaN(); // dashes: no valid value on a channel without signal
    await ed.stopGate();
    await expect(ed.setCheckerPattern([5], 'PRBS31')).rejects.toThrow(
      /channel 5 is outside the ED's 1..4; nothing was sent/,
    );
    await expect(ed.setCheckerPattern([1], 'CLOCK')).rejects.toThrow(/the ED checks PRBS patterns, not CLOCK/);
    await p.done();
  });

  it('safeState stops the measurement and reads its state back', async () => {
    const p = await expectProtocol([send(':MOD:ID 1;:SENS:MEAS:STOP'), [':MOD:ID 1;:SENS:MEAS:EAL:STAT?', '0']]);
    expect(await new Mp1900a({ role: 'bert', session: p.session, module: 1, channels: 4 }).safeState()).toBe(
      'measurement stopped on module 1 (read back)',
    );
    await p.done();
    const running = await expectProtocol([send(':MOD:ID 1;:SENS:MEAS:STOP'), [':MOD:ID 1;:SENS:MEAS:EAL:STAT?', '1']]);
    await expect(
      new Mp1900a({ role: 'bert', session: running.session, module: 1, channels: 4 }).safeState(),
    ).rejects.toThrow(/^bert: NOT SAFE: the measurement still runs/);
    await running.done();
  });
});
