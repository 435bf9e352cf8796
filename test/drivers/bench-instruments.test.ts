import { describe, expect, it } from 'vitest';
import { DriverError, LimitError } from '../../drivers/base.ts';
import { N6705c } from '../../drivers/n6705c.ts';
import { Pm100d } from '../../drivers/pm100d.ts';
import { Ted4015 } from '../../drivers/ted4015.ts';
import { expectProtocol, ok, send } from './protocol.ts';

const RAILS = [
  { channel: 1, name: 'tx-led', counted: true, maxV: 3.6 },
  { channel: 2, name: 'tx-driver', counted: true },
  { channel: 3, name: 'rx-tia', counted: true },
  { channel: 4, name: 'aux', counted: false },
];

describe('N6705c protocol (Keysight N6705C command strings)', () => {
  it('measures every rail with three list queries, sets outputs, voltages and current limits', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'Keysight Technologies,N6705C,MY56001234,D.03.10.1470'],
      ['SYST:CHAN:COUN?', '4'],
      ['MEAS:VOLT? (@1:4)', '3.3,0.9,1.0,3.3'],
      ['MEAS:CURR? (@1:4)', '0.01,0.3,0.1,0.2'],
      ['MEAS:POW? (@1:4)', '0.033,0.27,0.1,0.66'],
      ['MEAS:VOLT? (@2)', '0.9'],
      ['MEAS:CURR? (@2)', '0.3'],
      ['MEAS:POW? (@2)', '0.27'],
      ...ok('OUTP ON,(@1:4)'),
      ['OUTP? (@1:2)', '1,0'],
      ...ok('VOLT 3.3,(@1)'),
      ...ok('CURR 0.5,(@1:3)'),
    ]);
    const pa = new N6705c({ role: 'power-analyzer', session: p.session, rails: RAILS, safeOutputs: 'keep' });
    expect((await pa.identify()).model).toBe('N6705C');
    expect(pa.railNames).toEqual(['tx-led', 'tx-driver', 'rx-tia', 'aux']);
    expect(pa.countedRails).toEqual([1, 2, 3]);
    expect(await pa.channelCount()).toBe(4);
    const all = await pa.measure();
    expect(all[3]).toEqual({ rail: 4, name: 'aux', volts: 3.3, amps: 0.2, watts: 0.66 });
    expect(await pa.measure([2])).toEqual([{ rail: 2, name: 'tx-driver', volts: 0.9, amps: 0.3, watts: 0.27 }]);
    await pa.setOutput([1, 2, 3, 4], true);
    expect(await pa.getOutput([1, 2])).toEqual([true, false]);
    await pa.setVoltage([1], 3.3);
    await pa.setCurrentLimit([1, 2, 3], 0.5);
    await expect(pa.setVoltage([1], 5)).rejects.toThrow(/5 V on rail 1 is above its limit 3.6 V; nothing was sent/);
    await expect(pa.setVoltage([7], 1)).rejects.toThrow(/rail 7 is not configured/);
    await expect(pa.setCurrentLimit([1], 0)).rejects.toBeInstanceOf(LimitError);
    await p.done();
  });

  it('safeState keeps the outputs or switches the configured rails off, as configured, and reads them back', async () => {
    const keep = await expectProtocol([['OUTP? (@1:4)', '1,1,1,0']]);
    const kept = new N6705c({ role: 'power-analyzer', session: keep.session, rails: RAILS, safeOutputs: 'keep' });
    expect(await kept.safeState()).toMatch(
      /^outputs kept \(safe.outputs: keep\): \S+ on, \S+ on, \S+ on, \S+ off \(read back\)$/,
    );
    await keep.done();
    const off = await expectProtocol([send('OUTP OFF,(@1:4)'), ['OUTP? (@1:4)', '0,0,0,0']]);
    const switched = new N6705c({ role: 'power-analyzer', session: off.session, rails: RAILS, safeOutputs: 'off' });
    expect(await switched.safeState()).toMatch(/^every rail off: .* \(read back\)$/);
    await off.done();
    const stuck = await expectProtocol([send('OUTP OFF,(@1:4)'), ['OUTP? (@1:4)', '0,1,0,0']]);
    const stuckOn = new N6705c({ role: 'power-analyzer', session: stuck.session, rails: RAILS, safeOutputs: 'off' });
    await expect(stuckOn.safeState()).rejects.toThrow(
      /^power-analyzer: NOT SAFE: rails still on: .*, \S+ on, .* \(read back\)$/,
    );
    await stuck.done();
  });

  it('prepare switches the rails back on when the safe state switches them off, and checks they are', async () => {
    const p = await expectProtocol([...ok('OUTP ON,(@1:4)'), ['OUTP? (@1:4)', '1,1,1,1']]);
    await new N6705c({ role: 'power-analyzer', session: p.session, rails: RAILS, safeOutputs: 'off' }).prepare();
    await p.done();
    const none = await expectProtocol([]);
    await new N6705c({ role: 'power-analyzer', session: none.session, rails: RAILS, safeOutputs: 'keep' }).prepare();
    await none.done();
  });
});

describe('Pm100d protocol (Thorlabs PM100D command strings)', () => {
  it('init sets unit, wavelength and power mode; power, lane routing, sensor, wavelength', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'Thorlabs,PM100D,P0012345,2.8.0'],
      ...ok('SENS:POW:UNIT W'),
      ...ok('SENS:CORR:WAV 450'),
      ...ok('CONF:POW'),
      ['SENS:CORR:WAV?', '450'],
      ...ok('ROUT:LANE 17'),
      ['MEAS:POW?', '1.234E-05'],
      ...ok('ROUT:LANE 0'),
      ['SYST:SENS:IDN?', 'S120C,12345,01-Jan-2020,1,18,289'],
      ...ok('SENS:CORR:WAV 520'),
      ['*TST?', '0'],
    ]);
    const m = new Pm100d({ role: 'optical-meter', session: p.session, wavelengthNm: 450, lanes: 400 });
    expect((await m.identify()).model).toBe('PM100D');
    await m.init();
    expect(await m.wavelength()).toBe(450);
    await m.selectLane(17);
    expect(await m.power()).toBe(1.234e-5);
    await m.selectLane(0);
    expect(await m.sensor()).toMatch(/^S120C/);
    await m.setWavelength(520);
    await expect(m.selectLane(401)).rejects.toBeInstanceOf(LimitError);
    await expect(m.setWavelength(0)).rejects.toBeInstanceOf(LimitError);
    await m.safeState();
    expect(await m.selfTest()).toBe(0);
    await p.done();
  });
});

describe('Ted4015 protocol (Thorlabs TED4015 command strings)', () => {
  const base = { role: 'tec', limits: { minC: 10, maxC: 95 }, idleC: 25 };

  it('ramps the setpoint from the present one in steps of stepC', async () => {
    const p = await expectProtocol([
      ['SOUR:TEMP?', '25.0'],
      ...ok('SOUR:TEMP 35C'),
      ...ok('SOUR:TEMP 45C'),
      ...ok('SOUR:TEMP 50C'),
      ['MEAS:SCAL:TEMP?', '49.98'],
      ...ok('OUTP ON'),
      ['OUTP?', '1'],
    ]);
    const tec = new Ted4015({ ...base, session: p.session, ramp: { stepC: 10, delayMs: 1 } });
    await tec.setSetpoint(50);
    expect(await tec.temperature()).toBe(49.98);
    await tec.setOutput(true);
    expect(await tec.getOutput()).toBe(true);
    await p.done();
  });

  it('refuses a setpoint outside the limits before anything is sent', async () => {
    const p = await expectProtocol([]);
    const tec = new Ted4015({ ...base, session: p.session, ramp: { stepC: 10, delayMs: 0 } });
    await expect(tec.setSetpoint(120)).rejects.toThrow('tec: setpoint 120 °C is outside 10..95 °C; nothing was sent');
    await expect(tec.setSetpoint(5)).rejects.toBeInstanceOf(LimitError);
    await p.done();
  });

  it('waitSettled polls until the temperature holds within tolerance', async () => {
    const p = await expectProtocol([
      ['SOUR:TEMP?', '45'],
      ['MEAS:SCAL:TEMP?', '44.0'],
      ['MEAS:SCAL:TEMP?', '44.95'],
      ['MEAS:SCAL:TEMP?', '45.02'],
    ]);
    const tec = new Ted4015({
      ...base,
      session: p.session,
      // a poll of 5 ms is always more than the 1 ms dwell, even with libuv firing a timer up to 1 ms early
      // against performance.now() (a 1 ms poll made the number of reads depend on the machine's load)
      settle: { toleranceC: 0.1, dwellS: 0.001, pollMs: 5 },
    });
    expect(await tec.waitSettled()).toBe(45.02);
    await p.done();
  });

  it('safeState ramps to the idle setpoint, or switches the output off without one, and reads it back', async () => {
    const p = await expectProtocol([
      ['SOUR:TEMP?', '45'],
      ...ok('SOUR:TEMP 35C'),
      ...ok('SOUR:TEMP 25C'),
      ['SOUR:TEMP?', '25'],
      ['OUTP?', '1'],
      ['*IDN?', 'x'],
    ]);
    const tec = new Ted4015({ ...base, session: p.session, ramp: { stepC: 10, delayMs: 0 } });
    expect(await tec.safeState()).toBe('setpoint 25 °C (idle), output on (read back)');
    await tec.identify();
    await p.done();
    const q = await expectProtocol([send('OUTP OFF'), ['OUTP?', '0'], ...ok('SOUR:TEMP 30C')]);
    const noIdle = new Ted4015({ role: 'tec', limits: { minC: 10, maxC: 95 }, session: q.session });
    expect(await noIdle.safeState()).toBe('TEC output off (read back)');
    await noIdle.setSetpoint(30);
    await q.done();
    const r = await expectProtocol([send('OUTP OFF'), ['OUTP?', '1']]);
    const stuck = new Ted4015({ role: 'tec', limits: { minC: 10, maxC: 95 }, session: r.session });
    await expect(stuck.safeState()).rejects.toThrow('tec: NOT SAFE: the TEC output is still on (OUTP? answered 1)');
    await r.done();
  });

  it('a timeout names the role and the command', async () => {
    const p = await expectProtocol([['MEAS:SCAL:TEMP?', null]], { timeoutMs: 50 });
    const tec = new Ted4015({ ...base, session: p.session });
    const err = await tec.temperature().catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.code).toBe('E_TIMEOUT');
    expect(err.message).toMatch(/^tec: "MEAS:SCAL:TEMP\?" failed: .*within 50 ms/);
    await p.done();
  });
});
