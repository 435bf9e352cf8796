import { afterEach, describe, expect, it } from 'vitest';
import { simStations, until } from '../../../test/helpers/sim-station.ts';
import { DriverError, LimitError } from '../base.ts';
import { expectProtocol, ok, send } from '../testing/protocol.ts';
import { Ted4015 } from './driver.ts';

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
      // a poll well past the dwell: Node's timers may fire up to a millisecond early against the clock
      settle: { toleranceC: 0.1, dwellS: 0.001, pollMs: 5 },
    });
    expect(await tec.waitSettled()).toBe(45.02);
    await p.done();
  });

  it('init sets the temperature unit to °C (UNIT:TEMP C, checked) before any temperature is read', async () => {
    const p = await expectProtocol([...ok('UNIT:TEMP C'), ['SOUR:TEMP?', '+2.500000E+01']]);
    const tec = new Ted4015({ ...base, session: p.session });
    await tec.init();
    expect(await tec.setpoint()).toBe(25);
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

describe('Ted4015 against the simulated TEC over TCP', () => {
  const benches = simStations();
  afterEach(() => benches.closeAll());

  it('the TEC ramps to a setpoint within limits, refuses one outside, and idles in the safe state', async () => {
    const st = await benches.open('mosaic-800g');
    const tec = st.instrument('tec') as Ted4015;
    await tec.setOutput(true);
    await tec.setSetpoint(45);
    expect(await tec.setpoint()).toBe(45);
    await until(async () => Math.abs((await tec.temperature()) - 45) < 0.5, 'the TEC to reach 45 °C');
    await expect(tec.setSetpoint(120)).rejects.toThrow(/outside 10..95 °C; nothing was sent/);
    expect(await tec.setpoint()).toBe(45);
    await tec.safeState();
    expect(await tec.setpoint()).toBe(25);
    const steps = st.trace.entries().filter((c) => c.role === 'tec' && c.method === 'setSetpoint');
    expect(steps.length).toBeGreaterThanOrEqual(2);
  });
});
