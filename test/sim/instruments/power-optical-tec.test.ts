import { afterEach, describe, expect, it } from 'vitest';
import { cleanupList, exec, openBench, waitFor } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe('power-analyzer (N6705C strings)', () => {
  it('measures four rails from the link; power only where the module measures it; voltage setpoints follow', async () => {
    const tb = await openBench();
    cleanup.add(tb);
    const pa = await tb.session('power-analyzer');
    const led = await tb.session('led-driver');
    expect(await pa.queryNumber('SYST:CHAN:COUN?')).toBe(4);
    expect(await pa.query('SYST:CHAN:MOD? (@1:4)')).toBe('N6781A,N6781A,N6782A,N6731B');
    expect(await pa.queryNumbers('MEAS:VOLT? (@1:4)')).toEqual([3.3, 0.9, 1, 3.3]);
    const idle = await pa.queryNumbers('MEAS:POW? (@1:3)');
    const idleAux = await pa.queryNumbers('MEAS:CURR? (@4)');
    await exec(led, 'OUTP ON,(@1:400)');
    const full = await pa.queryNumbers('MEAS:POW? (@1:3)');
    expect(full[0]!).toBeGreaterThan(idle[0]!);
    expect(full[1]!).toBeGreaterThan(idle[1]!);
    expect(full[2]!).toBeCloseTo(idle[2]!, 12); // the receivers draw whether or not the transmitters send
    const amps = await pa.queryNumbers('MEAS:CURR? (@1:4)');
    expect(amps[3]!).toBeCloseTo(idleAux[0]!, 12); // the aux rail does not follow the LEDs
    amps.slice(0, 3).forEach((a, k) => {
      expect(Math.abs(a * [3.3, 0.9, 1][k]! - full[k]!) / full[k]!).toBeLessThan(1e-5);
    });
    // the N6731B in channel 4 does not measure power: refused, no reply (the *OPC? after it answers)
    expect(await pa.query('MEAS:POW? (@4);*OPC?')).toBe('1');
    expect(await pa.drainErrors()).toEqual([
      { code: -241, message: 'Hardware missing;N6731B in channel 4 does not measure power' },
    ]);
    expect(await pa.query('MEAS:POW? (@2:4);*OPC?')).toBe('1');
    expect((await pa.drainErrors()).map((e) => e.code)).toEqual([-241]);
    await exec(pa, 'OUTP OFF,(@3)');
    expect(await pa.query('OUTP? (@1:4)')).toBe('1,1,0,1');
    expect((await pa.queryNumbers('MEAS:CURR? (@3)'))[0]).toBe(0);
    expect((await pa.queryNumbers('MEAS:POW? (@3)'))[0]).toBe(0);
    // the receiver rail is off: the receiver reads no photocurrent
    const rx = await tb.session('pd-receiver');
    expect(await rx.queryNumbers('MEAS:CURR? (@1:3)')).toEqual([0, 0, 0]);
    await exec(pa, 'OUTP ON,(@3);:VOLT 0.95,(@2)');
    expect((await pa.queryNumbers('VOLT? (@2)'))[0]).toBe(0.95);
    expect((await pa.queryNumbers('MEAS:VOLT? (@2)'))[0]).toBe(0.95);
    await exec(pa, 'VOLT 25,(@1)');
    expect((await pa.drainErrors())[0]?.code).toBe(-222);
    await exec(pa, 'CURR 0.5,(@1:4)');
    expect(await pa.queryNumbers('CURR? (@1:4)')).toEqual([0.5, 0.5, 0.5, 0.5]);
  });
});

describe('optical-meter (PM100D strings)', () => {
  it('reads the whole bundle with the dark level until a zeroing removes it, in W or dBm, wavelength-corrected', async () => {
    const tb = await openBench({ timeScale: 100 });
    cleanup.add(tb);
    const om = await tb.session('optical-meter');
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    expect(await om.query('SYST:SENS:IDN?')).toMatch(/^S120C,/);
    expect(await om.queryNumber('MEAS:POW?')).toBe(2e-9); // dark: the head's dark level
    await exec(om, 'SENS:CORR:COLL:ZERO');
    expect(await om.query('SENS:CORR:COLL:ZERO:STAT?')).toBe('1'); // 0.5 instrument s = 5 ms here
    expect(await waitFor(async () => (await om.query('SENS:CORR:COLL:ZERO:STAT?')) === '0', 2000)).toBe(true);
    expect(await om.queryNumber('SENS:CORR:COLL:ZERO:MAGN?')).toBe(2e-9);
    expect(await om.queryNumber('MEAS:POW?')).toBe(0);
    await exec(led, 'OUTP ON,(@1:400)');
    await exec(om, 'CONF:POW;:SENS:CORR:WAV 450nm;:SENS:AVER:COUN 100');
    expect(await om.query('CONF?')).toBe('POW');
    expect(await om.queryNumber('SENS:CORR:WAV?')).toBe(450);
    expect(await om.queryNumber('SENS:AVER:COUN?')).toBe(100);
    const bundle = await om.queryNumber('MEAS:POW?');
    const rxp = await rx.queryNumbers('MEAS:POW? (@1:400)');
    expect(Math.abs(bundle / rxp.reduce((s, p) => s + p, 0) - 1)).toBeLessThan(1e-5);
    expect(await om.queryNumber('READ?')).toBe(bundle);
    await exec(om, 'SENS:CORR:WAV 900');
    expect(Math.abs((await om.queryNumber('MEAS:POW?')) / (bundle * 0.5) - 1)).toBeLessThan(1e-5);
    await exec(om, 'SENS:CORR:WAV 450;:SENS:POW:UNIT DBM');
    expect(await om.query('SENS:POW:UNIT?')).toBe('DBM');
    expect(Math.abs((await om.queryNumber('MEAS:POW?')) - 10 * Math.log10(bundle / 1e-3))).toBeLessThan(1e-4);
    await exec(om, 'SENS:CORR:WAV 200;:SENS:AVER:COUN 0;:ROUT:LANE 17');
    expect((await om.drainErrors()).map((e) => e.code)).toEqual([-222, -222, -113]); // no lane routing in a PM100D
  });

  it('a zeroing with light on the head takes that light as dark; an aborted one keeps the previous zero', async () => {
    const tb = await openBench(); // real time: the zeroing takes 0.5 s
    cleanup.add(tb);
    const om = await tb.session('optical-meter');
    const led = await tb.session('led-driver');
    await exec(led, 'OUTP ON,(@1:400)');
    const lit = await om.queryNumber('MEAS:POW?');
    await exec(om, 'SENS:CORR:COLL:ZERO;:SENS:CORR:COLL:ZERO:ABOR');
    expect(await om.query('SENS:CORR:COLL:ZERO:STAT?')).toBe('0');
    // the lit lanes age by instrument time (src/sim/model/ageing.ts): parts in 1e9 in a second, nothing more
    expect(Math.abs((await om.queryNumber('MEAS:POW?')) / lit - 1)).toBeLessThan(1e-7);
    await exec(om, 'SENS:CORR:COLL:ZERO');
    expect(await waitFor(async () => (await om.query('SENS:CORR:COLL:ZERO:STAT?')) === '0', 2000)).toBe(true);
    expect(Math.abs(await om.queryNumber('MEAS:POW?'))).toBeLessThan(lit * 1e-7);
    await exec(led, 'OUTP OFF,(@1:400)');
    const dark = await om.queryNumber('MEAS:POW?'); // below zero once dark: the light was taken as the dark level
    expect(Math.abs(dark / -lit - 1)).toBeLessThan(1e-5);
  });
});

describe('tec (TED4015 strings)', () => {
  it('ramps toward the setpoint at the profile rate in instrument time, and the link follows it', async () => {
    const tb = await openBench({ timeScale: 40 }); // 0.5 °C/s -> 20 °C per real second
    cleanup.add(tb);
    const tec = await tb.session('tec');
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    await exec(led, 'OUTP ON,(@1:400)');
    const cold = await rx.queryNumbers('MEAS:POW? (@1)');
    expect(await tec.queryNumber('SOUR:TEMP:LIM:LOW?')).toBe(-20);
    expect(await tec.queryNumber('SOUR:TEMP:LIM:HIGH?')).toBe(125);
    await exec(tec, 'SOUR:TEMP 130');
    expect((await tec.drainErrors())[0]?.code).toBe(-222);
    await exec(tec, 'SOUR:TEMP 45C');
    expect(await tec.queryNumber('SOUR:TEMP?')).toBe(45);
    expect(await tec.queryNumber('MEAS:TEMP?')).toBe(25); // output off: stays at ambient
    const t0 = performance.now();
    const s0 = tb.bench.clock.now();
    await exec(tec, 'OUTP ON');
    const mid = await tec.queryNumber('MEAS:SCAL:TEMP?');
    const midS = tb.bench.clock.now();
    expect(mid).toBeGreaterThanOrEqual(25);
    expect(mid).toBeLessThan(45);
    // the ramp is the profile's 0.5 °C per instrument second
    expect(mid - 25).toBeLessThanOrEqual((midS - s0) * 0.5 + 1e-3);
    // the PID overshoots the setpoint, rings and settles exactly on it (the plant holds it once settled)
    let peak = 0;
    expect(
      await waitFor(async () => {
        const t = await tec.queryNumber('MEAS:TEMP?');
        peak = Math.max(peak, t);
        return t === 45;
      }, 20_000),
    ).toBe(true);
    expect(peak).toBeGreaterThan(45.3);
    expect(peak).toBeLessThan(47);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(990); // 20 °C at 0.5 °C/s = 40 s = 1 s real, then settle
    expect(await led.queryNumber('MEAS:TEMP?')).toBe(45);
    const hot = await rx.queryNumbers('MEAS:POW? (@1)');
    expect(hot[0]!).toBeLessThan(cold[0]!); // P(T) = P(25)·exp(-(T-25)/T1)
    await exec(tec, 'OUTP OFF');
    const offS = tb.bench.clock.now();
    await new Promise((r) => setTimeout(r, 500));
    const relaxing = await tec.queryNumber('MEAS:TEMP?');
    const dt = tb.bench.clock.now() - offS;
    // output off: the mount relaxes to ambient with the plant's time constant (600 s), no controller
    expect(relaxing).toBeLessThan(45);
    expect(Math.abs(relaxing - (25 + 20 * Math.exp(-dt / 600)))).toBeLessThan(0.05);
  });
});
