/**
 * Reach and heat in the link model: fibre loss, crosstalk growing with length, modal bandwidth, per-lane delay;
 * self-heating, thermal rollover, temperature laws of the receiver; the TEC as a PID-controlled first-order plant.
 */

import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { couplingMap } from '../../../src/sim/model/channel.ts';
import { rolloverCurrent } from '../../../src/sim/model/emitter.ts';
import { C_M_PER_S, channelAtLength } from '../../../src/sim/model/fibre.ts';
import { LinkModel } from '../../../src/sim/model/link-model.ts';
import { loadProfile, parseProfile } from '../../../src/sim/model/profile.ts';
import { channelDelays } from '../../../src/sim/model/skew.ts';
import { ThermalPlant } from '../../../src/sim/model/tec-plant.ts';

const alc = loadProfile('alc-30m');
const mosaic = loadProfile('mosaic-800g');
const worst = (m: LinkModel) => Math.max(...m.ber());

describe('reach', () => {
  it('loss, crosstalk and modal bandwidth follow the length of the fibre', () => {
    const m = LinkModel.operating(alc);
    expect(m.fibreLength).toBe(30);
    const rx30 = m.receivedPower()[210 - 1]!;
    m.setFibreLength(5);
    const rx5 = m.receivedPower()[210 - 1]!;
    // 25 m at 0.1 dB/m is 2.5 dB (received power also carries the neighbours' crosstalk, grown 6x at 30 m)
    expect(10 * Math.log10(rx5 / rx30)).toBeGreaterThan(2.3);
    expect(10 * Math.log10(rx5 / rx30)).toBeLessThan(2.6);
    expect(m.modalBandwidth()).toBeCloseTo(50e9 / 5, 0);
    const at = (L: number) => couplingMap(channelAtLength(alc.channel, m.profile.fibre, L));
    const ratioDb = (L: number) => 10 * Math.log10(at(L).neighbours[0]! / at(L).own);
    expect(ratioDb(30)).toBeCloseTo(-20, 6); // the profile's -20 dB holds at its 30 m reference
    expect(ratioDb(30) - ratioDb(5)).toBeCloseTo(10 * Math.log10(30 / 5), 6);
  });

  it('reach, not the emitter, limits alc-30m: 3 Gb/s fails at 30 m and passes at 5 m', () => {
    const m = LinkModel.operating(alc);
    m.setRate(3e9);
    expect(worst(m)).toBeGreaterThan(1e-11); // the class's target is 1e-12
    m.setFibreLength(5);
    expect(worst(m)).toBeLessThan(1e-20);
    m.setRate(2e9);
    m.setFibreLength(30);
    expect(worst(m)).toBeLessThan(1e-12); // its operating point still meets the class's 1e-12
  });

  it('per-lane delay: L·n_g/c plus a seeded spread of skewPsPerM·L, the same draws at any length', () => {
    const m = new LinkModel(alc, { seed: 7 });
    // each lane's arrival is its fibre's delay plus its own channel's (skew.ts): the fibre's part here
    const ch = channelDelays(m.lanes, 7);
    const fibre = () => m.laneDelays().map((d, i) => d - ch[i]!);
    const d30 = fibre();
    const all30 = m.laneDelays();
    const mean = d30.reduce((s, x) => s + x, 0) / d30.length;
    const sd = Math.sqrt(d30.reduce((s, x) => s + (x - mean) ** 2, 0) / d30.length);
    expect(mean).toBeCloseTo((30 * 1.47) / C_M_PER_S, 11);
    expect(sd).toBeGreaterThan(0.8 * 60e-12);
    expect(sd).toBeLessThan(1.2 * 60e-12);
    expect(new LinkModel(alc, { seed: 7 }).laneDelays()).toEqual(all30);
    expect(new LinkModel(alc, { seed: 8 }).laneDelays()).not.toEqual(all30);
    m.setFibreLength(15);
    const d15 = fibre();
    expect(d15[17]! - d15[3]!).toBeCloseTo((d30[17]! - d30[3]!) / 2, 15);
  });

  it('a profile without a fibre section has no length to set, and the bench says so', () => {
    const text = readFileSync('fixtures/profiles/mosaic-800g.yaml', 'utf8').replace(/\nfibre:[\s\S]*?\n\n/, '\n');
    const p = parseProfile(text);
    expect(p.fibre).toBeUndefined();
    const m = LinkModel.operating(p);
    expect(m.fibreLength).toBe(0);
    expect(m.modalBandwidth()).toBe(Number.POSITIVE_INFINITY);
    expect(() => m.setFibreLength(5)).toThrow(/has no fibre section/);
    expect(() => new LinkModel(alc, { fibreLengthM: -1 })).toThrow(/0\.\.10000 m/);
  });
});

describe('heat', () => {
  const em = { ...mosaic.emitter, wavelengthNm: 450 };
  const iOp = mosaic.operatingPoint.biasA + mosaic.operatingPoint.modA / 2;

  it('self-heating: the junction sits R_th × dissipation above the case', () => {
    const m = LinkModel.operating(mosaic);
    const tj = m.junctionTemperature()[0]!;
    // the LED's own I·V_f less its light (the rail also feeds the driver's drop: not the junction's heat)
    const diss = m.ledPower() / 400 - m.opticalPower()[0]!;
    expect(tj - 25).toBeCloseTo(mosaic.emitter.rthKPerW * diss, 1);
    expect(tj).toBeGreaterThan(26);
    m.setTemperature(85);
    expect(m.junctionTemperature()[0]! - 85).toBeCloseTo(tj - 25, 0);
    expect(m.emissionWavelength()[0]! - 450).toBeCloseTo(0.04 * (m.junctionTemperature()[0]! - 25), 6);
  });

  it('rollover: at 85 °C the L-I peaks inside the drive range, at 25 °C it does not', () => {
    const m = LinkModel.operating(mosaic);
    const iMax = mosaic.operatingPoint.maxA;
    const r85 = rolloverCurrent(85, em, iOp, 5 * iMax);
    const r25 = rolloverCurrent(25, em, iOp, 5 * iMax);
    expect(r85).toBeGreaterThan(mosaic.operatingPoint.biasA + mosaic.operatingPoint.modA); // above the '1' level
    expect(r85).toBeLessThan(iMax);
    expect(r25).toBeGreaterThan(iMax);
    m.setTemperature(85);
    const p = (i: number) => m.emittedPowerAt(1, i);
    expect(p(r85)).toBeGreaterThan(p(r85 * 0.95));
    expect(p(r85)).toBeGreaterThan(p(r85 * 1.05));
    m.setTemperature(25);
    expect(p(iMax)).toBeGreaterThan(p(iMax * 0.95)); // still rising at the top of the range
  });

  it('the receiver: dark current doubles per 10 K, noise grows as √T', () => {
    const m = LinkModel.operating(mosaic);
    m.setOutput(m.allLanes(), false);
    const dark25 = m.photocurrent()[0]!;
    m.setTemperature(45);
    expect(m.photocurrent()[0]! / dark25).toBeCloseTo(4, 6);
  });
});

describe('TEC plant (PID on a first-order mount)', () => {
  const params = { ambientC: 25, rampCPerS: 0.5, tauS: 600, kp: 0.3, ki: 0.045, kd: 0 };

  it('ramps at about the full-drive rate, overshoots, then settles exactly on the setpoint', () => {
    const p = new ThermalPlant(params);
    p.retarget(45, 0);
    expect(p.actual(10)).toBeGreaterThan(29);
    expect(p.actual(10)).toBeLessThanOrEqual(30);
    let peak = 0;
    let lastOut = 0;
    for (let t = 0; t <= 300; t += 0.5) {
      const v = p.actual(t);
      peak = Math.max(peak, v);
      if (Math.abs(v - 45) > 0.2) lastOut = t;
    }
    expect(peak).toBeGreaterThan(45.3);
    expect(peak).toBeLessThan(47);
    expect(lastOut).toBeGreaterThan(45); // settling takes longer than the 40 s of ramp
    expect(lastOut).toBeLessThan(120);
    expect(p.actual(400)).toBe(45);
  });

  it('reads the same whatever the reading cadence (a fixed integration grid)', () => {
    const a = new ThermalPlant(params);
    const b = new ThermalPlant(params);
    a.retarget(85, 0);
    b.retarget(85, 0);
    for (let t = 0; t < 100; t += 0.013) b.actual(t);
    expect(b.actual(100)).toBe(a.actual(100));
  });

  it('with the output off the mount relaxes to ambient with its time constant', () => {
    const p = new ThermalPlant(params);
    p.retarget(45, 0);
    p.actual(500);
    p.retarget(25, 500, false);
    expect(p.actual(560)).toBeCloseTo(25 + 20 * Math.exp(-60 / 600), 1);
  });
});
