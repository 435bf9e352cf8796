import { afterEach, describe, expect, it } from 'vitest';
import { cleanupList, exec, openBench } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe('led-driver', () => {
  it('answers a 400-lane channel-list query with 400 values, in list order', async () => {
    const tb = await openBench();
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    expect(await led.queryNumber('SYST:CHAN:COUN?')).toBe(400);
    expect(await led.query('SYST:LANE:GEOM?')).toBe('20,20');
    const all = await led.queryNumbers('SOUR:CURR:BIAS? (@1:400)');
    expect(all).toHaveLength(400);
    await exec(led, 'SOUR:CURR:BIAS 1e-4,2e-4,2.5e-4,(@1:3)');
    expect(await led.drainErrors()).toEqual([]);
    expect(await led.queryNumbers('SOUR:CURR:BIAS? (@3,1,2,4)')).toEqual([2.5e-4, 1e-4, 2e-4, 40e-6]);
    await exec(led, 'SOURce:CURRent:BIAS 50uA,(@10:12,400)');
    expect(await led.queryNumbers('SOUR:CURR:BIAS? (@10:12,400)')).toEqual([50e-6, 50e-6, 50e-6, 50e-6]);
    await exec(led, 'SOUR:CURR:MOD 2e-4,(@1:400)');
    expect(new Set(await led.queryNumbers('SOUR:CURR:MOD? (@1:400)'))).toEqual(new Set([2e-4]));
    await exec(led, 'SOUR:CURR:BIAS 1e-4,2e-4,(@1:3)'); // 2 values for 3 lanes
    expect((await led.drainErrors())[0]?.code).toBe(-115);
    await exec(led, 'SOUR:CURR:BIAS 1e-4,(@0:3)');
    expect((await led.drainErrors())[0]?.code).toBe(-222);
  });

  it('refuses a setpoint above the current limit with -222 and changes nothing, not even lanes within range', async () => {
    const tb = await openBench();
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    expect(await led.queryNumber('SOUR:CURR:LIM?')).toBe(600e-6);
    const before = await led.queryNumbers('SOUR:CURR:BIAS? (@1:400)');
    await exec(led, 'SOUR:CURR:BIAS 1e-4,1e-4,5e-4,(@1:3)'); // lane 3: 5e-4 + 3.2e-4 mod > 6e-4
    const errs = await led.drainErrors();
    expect(errs).toHaveLength(1);
    expect(errs[0]!.code).toBe(-222);
    expect(errs[0]!.message).toMatch(/^Data out of range;lane 3/);
    expect(await led.queryNumbers('SOUR:CURR:BIAS? (@1:400)')).toEqual(before);
    await exec(led, 'SOUR:CURR:MOD 7e-4,(@1:400)');
    expect((await led.drainErrors())[0]?.code).toBe(-222);
    expect(new Set(await led.queryNumbers('SOUR:CURR:MOD? (@1:400)'))).toEqual(new Set([320e-6]));
    await exec(led, 'SOUR:CURR:BIAS -1e-6,(@1)');
    expect((await led.drainErrors())[0]?.code).toBe(-222);
    await exec(led, 'SOUR:CURR:BIAS 280e-6,(@1)'); // exactly at the limit
    expect(await led.drainErrors()).toEqual([]);
  });

  it('sets pattern, seed and inversion per lane; rate within the profile range else -222', async () => {
    const tb = await openBench();
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    await exec(led, 'SOUR:PATT PRBS7,(@1:2);:SOUR:PATT:SEED 5,6,7,(@1:3);:SOUR:PATT:INV ON,(@2)');
    expect(await led.query('SOUR:PATT? (@1:3)')).toBe('PRBS7,PRBS7,PRBS31');
    expect(await led.query('SOUR:PATT:SEED? (@1:4)')).toBe('5,6,7,4');
    expect(await led.query('SOUR:PATT:INV? (@1:3)')).toBe('0,1,0');
    await exec(led, 'SOUR:PATT PRBS99,(@1)');
    expect((await led.drainErrors())[0]?.code).toBe(-224);
    await exec(led, 'SOUR:RATE 2.5GHz');
    expect(await led.queryNumber('SOUR:RATE?')).toBe(2.5e9);
    await exec(led, 'SOUR:RATE 5e9');
    expect((await led.drainErrors())[0]?.code).toBe(-222);
    await exec(led, 'SOUR:RATE 0');
    expect((await led.drainErrors())[0]?.code).toBe(-222);
    expect(await led.queryNumber('SOUR:RATE?')).toBe(2.5e9);
  });

  it('the link is physical across instruments: more bias raises received power, photocurrent, rail power and V_f', async () => {
    const tb = await openBench();
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    const pa = await tb.session('power-analyzer');
    const om = await tb.session('optical-meter');
    expect(await rx.queryNumbers('MEAS:POW? (@1:400)')).toEqual(new Array(400).fill(0));
    await exec(led, 'SOUR:CURR:BIAS 20e-6,(@1:400);:SOUR:CURR:MOD 100e-6,(@1:400);:OUTP ON,(@1:400)');
    const p1 = await rx.queryNumbers('MEAS:POW? (@1:400)');
    const i1 = await rx.queryNumbers('MEAS:CURR? (@1:400)');
    const w1 = await pa.queryNumbers('MEAS:POW? (@1:3)');
    const v1 = await led.queryNumbers('MEAS:VOLT? (@1:400)');
    const o1 = await om.queryNumber('MEAS:POW?');
    expect(p1.every((p) => p > 1e-6)).toBe(true);
    await exec(led, 'SOUR:CURR:BIAS 100e-6,(@1:400)');
    const p2 = await rx.queryNumbers('MEAS:POW? (@1:400)');
    const i2 = await rx.queryNumbers('MEAS:CURR? (@1:400)');
    const w2 = await pa.queryNumbers('MEAS:POW? (@1:3)');
    const v2 = await led.queryNumbers('MEAS:VOLT? (@1:400)');
    expect(p2.every((p, k) => p > p1[k]!)).toBe(true);
    expect(i2.every((i, k) => i > i1[k]!)).toBe(true);
    expect(v2.every((v, k) => v > v1[k]!)).toBe(true);
    expect(w2[0]!).toBeGreaterThan(w1[0]!); // the LED rail
    expect(await om.queryNumber('MEAS:POW?')).toBeGreaterThan(o1);
    // the receiver's photocurrent is R·P + dark current
    expect(Math.abs(i2[0]! / (0.25 * p2[0]! + 1e-9) - 1)).toBeLessThan(1e-5);
    // lanes switched off go dark at the receiver, and the rail power falls
    await exec(led, 'OUTP OFF,(@1:200)');
    const p3 = await rx.queryNumbers('MEAS:POW? (@1:400)');
    expect(p3[0]!).toBeLessThan(p2[0]! * 0.01);
    expect(p3[399]!).toBeCloseTo(p2[399]!, 12);
    expect((await pa.queryNumbers('MEAS:POW? (@1)'))[0]!).toBeLessThan(w2[0]!);
  });
});
