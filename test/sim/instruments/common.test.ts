import { afterEach, describe, expect, it } from 'vitest';
import { loadProfile } from '../../../src/sim/model/profile.ts';
import { cleanupList, exec, openBench } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

describe('simulated instruments: common commands over TCP', () => {
  for (const [profile, roles] of [
    ['mosaic-800g', ['led-driver', 'pd-receiver', 'power-analyzer', 'optical-meter', 'tec']],
    ['mosaic-800g-cmos', ['cmos-receiver']],
  ] as const) {
    for (const role of roles) {
      it(`${role} (${profile}): *IDN? from the profile, -113 on a bad header, *TST? 0, *ESR? PON`, async () => {
        const tb = await openBench({ profile });
        cleanup.add(tb);
        const s = await tb.session(role);
        const id = loadProfile(profile).instruments[role];
        expect(await s.query('*IDN?')).toBe(`${id.manufacturer},${id.model},${id.serial},${id.firmware}`);
        await exec(s, 'FOO:BAR 1');
        expect(await s.query('SYST:ERR?')).toBe('-113,"Undefined header"');
        expect(await s.query('SYST:ERR?')).toBe('0,"No error"');
        expect(await s.tst()).toBe(0);
        expect(await s.esr()).toBe(128 + 32); // power-on, then the command error
        expect(await s.esr()).toBe(0);
      });
    }
  }

  it('*RST puts each instrument back to its defaults', async () => {
    const tb = await openBench({ profile: 'mosaic-800g-cmos' });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('cmos-receiver');
    const pa = await tb.session('power-analyzer');
    expect(await pa.query('OUTP? (@1:4)')).toBe('1,1,1,1'); // power-on: the fixture keeps the device powered
    const om = await tb.session('optical-meter');
    const tec = await tb.session('tec');
    await exec(led, 'SOUR:CURR:BIAS 1e-4,(@1:4);:OUTP ON,(@1:4);:SOUR:PATT PRBS7,(@2);:SOUR:RATE 3e9');
    await exec(rx, 'SENS:PATT PRBS7,(@2);:SENS:THR 0.3;:SENS:GATE:TIME 5;:SENS:EXP 2e-3;:SENS:GAIN 4');
    await exec(pa, 'VOLT 1.1,(@3);:OUTP OFF,(@4)');
    await exec(om, 'SENS:CORR:WAV 520;:SENS:POW:UNIT DBM;:SENS:AVER:COUN 50');
    await exec(tec, 'SOUR:TEMP 40;:OUTP ON');
    for (const s of [led, rx, pa, om, tec]) await exec(s, '*RST');
    expect(await led.queryNumbers('SOUR:CURR:BIAS? (@1:2)')).toEqual([40e-6, 40e-6]);
    expect(await led.query('OUTP? (@1:4)')).toBe('0,0,0,0');
    expect(await led.query('SOUR:PATT? (@2)')).toBe('PRBS31');
    expect(await led.queryNumber('SOUR:RATE?')).toBe(2e9);
    expect(await rx.query('SENS:PATT? (@2)')).toBe('PRBS31');
    expect(await rx.queryNumber('SENS:THR?')).toBe(0.5);
    expect(await rx.queryNumber('SENS:GATE:TIME?')).toBe(1);
    expect(await rx.queryNumber('SENS:EXP?')).toBe(0.8e-3);
    expect(await rx.queryNumber('SENS:GAIN?')).toBe(1);
    expect(await pa.queryNumbers('VOLT? (@1:4)')).toEqual([3.3, 0.9, 1.0, 3.3]);
    expect(await pa.query('OUTP? (@1:4)')).toBe('0,0,0,0'); // *RST switches the outputs off, as on a real N6705C
    expect(await om.queryNumber('SENS:CORR:WAV?')).toBe(450);
    expect(await om.query('SENS:POW:UNIT?')).toBe('W');
    expect(await om.queryNumber('SENS:AVER:COUN?')).toBe(1);
    expect(await tec.queryNumber('SOUR:TEMP?')).toBe(25);
    expect(await tec.query('OUTP?')).toBe('0');
    for (const s of [led, rx, pa, om, tec]) expect(await s.drainErrors()).toEqual([]);
  });
});
