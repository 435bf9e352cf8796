/**
 * Keithley 2450 in SCPI: the exchanges follow the Model 2450 Reference Manual's SCPI command reference
 * (`:SOUR:FUNC CURR`, `:SOUR:CURR <A>`, `:SOUR:CURR:VLIM <V>`, `:SENS:FUNC "VOLT"`, `:OUTP ON`, `:MEAS:VOLT?`,
 * `:SOUR:CURR:VLIM:TRIP?`); every string below is written by hand.
 */
import { describe, expect, it } from 'vitest';
import { LimitError } from '../base.ts';
import { expectProtocol, ok, send } from '../testing/protocol.ts';
import { Keithley2450 } from './driver.ts';

const LIMITS = { maxCurrentA: 0.001, maxVoltageV: 6 };

describe('Keithley2450 protocol (2450 SCPI command set)', () => {
  it('init makes it a current source measuring voltage with its limit; sources, measures in one message', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'KEITHLEY INSTRUMENTS,MODEL 2450,04096331,1.7.3a'],
      ...ok(':SOUR:FUNC CURR'),
      ...ok(':SENS:FUNC "VOLT"'),
      ...ok(':SENS:VOLT:RANG:AUTO ON'),
      ...ok(':SOUR:CURR:VLIM 5'),
      ...ok(':SOUR:CURR 0.0001'),
      ...ok(':OUTP ON'),
      [':MEAS:VOLT?;:MEAS:CURR?;:SOUR:CURR:VLIM:TRIP?', '+2.712345E+00;+9.999870E-05;0'],
      ...ok(':SOUR:CURR:VLIM 2.5'),
      [':MEAS:VOLT?;:MEAS:CURR?;:SOUR:CURR:VLIM:TRIP?', '+2.500000E+00;+4.100000E-05;1'],
    ]);
    const smu = new Keithley2450({ role: 'smu', session: p.session, limits: LIMITS, voltageLimitV: 5, lane: 17 });
    expect((await smu.identify()).model).toBe('MODEL 2450');
    expect(smu.lane).toBe(17);
    await smu.init();
    await smu.sourceCurrent(1e-4);
    await smu.setOutput(true);
    expect(await smu.measure()).toEqual({ volts: 2.712345, amps: 9.99987e-5, inCompliance: false });
    await smu.setVoltageLimit(2.5);
    expect(await smu.measure()).toEqual({ volts: 2.5, amps: 4.1e-5, inCompliance: true });
    // refused before anything is sent
    await expect(smu.sourceCurrent(0.002)).rejects.toBeInstanceOf(LimitError);
    await expect(smu.sourceCurrent(0.002)).rejects.toThrow(
      /0.002 A is beyond the current limit ±0.001 A; nothing was sent/,
    );
    await expect(smu.setVoltageLimit(7)).rejects.toThrow(/voltage limit 7 V is outside \(0, 6\] V/);
    await p.done();
  });

  it('safeState switches the output off at 0 A and reads both back; an output still on is NOT SAFE', async () => {
    const p = await expectProtocol([
      send(':OUTP OFF'),
      send(':SOUR:CURR 0'),
      [':OUTP?', '0'],
      [':SOUR:CURR?', '+0.000000E+00'],
    ]);
    const smu = new Keithley2450({ role: 'smu', session: p.session, limits: LIMITS, voltageLimitV: 5 });
    expect(await smu.safeState()).toBe('output off, source level 0 A (read back)');
    await p.done();
    const stuck = await expectProtocol([
      send(':OUTP OFF'),
      send(':SOUR:CURR 0'),
      [':OUTP?', '1'],
      [':SOUR:CURR?', '1.0E-04'],
    ]);
    const on = new Keithley2450({ role: 'smu', session: stuck.session, limits: LIMITS, voltageLimitV: 5 });
    await expect(on.safeState()).rejects.toThrow(
      /^smu: NOT SAFE: the output is still on \(:OUTP\? answered 1\), level 0.0001 A$/,
    );
    await stuck.done();
  });
});
