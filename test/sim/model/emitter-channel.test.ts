import { describe, expect, it } from 'vitest';
import { crosstalkPenaltyDb, dbToLinear } from '../../../src/core/ber.ts';
import { applyChannel, couplingMap, neighbourTable } from '../../../src/sim/model/channel.ts';
import { arrheniusFactor, drawDefects } from '../../../src/sim/model/defects.ts';
import {
  bandwidthAt,
  type EmitterParams,
  eqeAt,
  forwardVoltageAt,
  opticalPowerAt,
  temperatureFactor,
} from '../../../src/sim/model/emitter.ts';
import { loadProfile } from '../../../src/sim/model/profile.ts';
import { isiEyeOpening } from '../../../src/sim/model/receiver.ts';

const prof = loadProfile('mosaic-800g');
const em: EmitterParams = { ...prof.emitter, wavelengthNm: 450 };
/** The emitter without the heat laws (no rollover term, no wavelength shift, T1 = 569 K). */
const cold: EmitterParams = { ...em, leakageJAcm2: undefined, wavelengthShiftNmPerK: 0, t1K: 569 };

describe('emitter', () => {
  it('P_opt = 2.755·EQE·I at 450 nm', () => {
    const i = 100e-6;
    expect(opticalPowerAt(i, 25, cold)).toBeCloseTo((1239.84193 / 450) * eqeAt(i, em) * i, 15);
    expect(1239.84193 / 450).toBeCloseTo(2.755, 3);
  });

  it('EQE peaks at J_peak and droops above', () => {
    const area = Math.PI * 5e-4 ** 2;
    const iPeak = prof.emitter.jPeakAcm2 * area;
    expect(eqeAt(iPeak, em)).toBeCloseTo(prof.emitter.peakEqe, 9);
    expect(eqeAt(iPeak * 0.2, em)).toBeLessThan(eqeAt(iPeak, em));
    expect(eqeAt(iPeak * 50, em)).toBeLessThan(eqeAt(iPeak, em) * 0.8);
    expect(eqeAt(0, em)).toBe(0);
  });

  it('temperature factor is 0.90 at 85 °C with T1 = 569 K', () => {
    expect(temperatureFactor(85, 569)).toBeCloseTo(0.9, 3);
    expect(opticalPowerAt(1e-4, 85, cold) / opticalPowerAt(1e-4, 25, cold)).toBeCloseTo(0.9, 3);
  });

  it('V_f follows the diode model with a -3 mV/K shift', () => {
    expect(forwardVoltageAt(1e-4, 25, em)).toBeGreaterThan(2.5);
    expect(forwardVoltageAt(1e-4, 25, em)).toBeLessThan(3.5);
    expect(forwardVoltageAt(1e-4, 35, em) - forwardVoltageAt(1e-4, 25, em)).toBeCloseTo(-0.03, 9);
    expect(forwardVoltageAt(2e-4, 25, em)).toBeGreaterThan(forwardVoltageAt(1e-4, 25, em));
  });

  it('bandwidth grows as √J and is anchored at the operating point', () => {
    expect(bandwidthAt(prof.emitter.iRefA, em)).toBeCloseTo(prof.emitter.fRefHz, 3);
    expect(bandwidthAt(prof.emitter.iRefA / 4, em)).toBeCloseTo(prof.emitter.fRefHz / 2, 3);
    expect(bandwidthAt(1, em)).toBe(prof.emitter.fMaxHz);
  });
});

describe('channel', () => {
  it('aligned: default crosstalk penalty of the 8-neighbourhood is 0.22 dB', () => {
    const map = couplingMap(prof.channel);
    const eps = Array.from(map.neighbours).map((c) => c / map.own);
    expect(eps.slice(0, 4).every((e) => Math.abs(e - dbToLinear(-20)) < 1e-12)).toBe(true);
    expect(crosstalkPenaltyDb(eps)).toBeCloseTo(-10 * Math.log10(1 - 4 * 0.01 - 4 * dbToLinear(-26)), 9);
  });

  it('applies the sparse matrix in O(8N) for 400 lanes', () => {
    const idx = neighbourTable(20, 20);
    const map = couplingMap(prof.channel, 0.2, -0.1);
    const src = new Float64Array(400).fill(1);
    const out = applyChannel(src, map, idx);
    const corner = out[0];
    const inner = out[210];
    expect(inner).toBeGreaterThan(corner);
    const sumNb = Array.from(map.neighbours).reduce((s, x) => s + x, 0);
    expect(inner).toBeCloseTo(map.own + sumNb, 12);
  });
});

describe('defects and ISI', () => {
  it('Arrhenius factor with Ea = 0.65 eV', () => {
    expect(arrheniusFactor(55, 55, 0.65)).toBe(1);
    expect(arrheniusFactor(85, 55, 0.65)).toBeGreaterThan(6);
    expect(arrheniusFactor(85, 55, 0.65)).toBeLessThan(7.5);
  });

  it('dead-lane draws follow p and the seed', () => {
    const p = { ...prof.defects, deadLaneProbability: 0.01 };
    const a = drawDefects(100_000, 7, p, 0.03);
    const b = drawDefects(100_000, 7, p, 0.03);
    const dead = a.dead.reduce((s, x) => s + x, 0);
    expect(dead).toBeGreaterThan(900);
    expect(dead).toBeLessThan(1100);
    expect(Buffer.from(a.dead).equals(Buffer.from(b.dead))).toBe(true);
  });

  it('longer runs close the eye more', () => {
    const short = isiEyeOpening(3e9, 1.2e9, 0.05, 3e-9, { zeros: 6, ones: 7 });
    const long = isiEyeOpening(3e9, 1.2e9, 0.05, 3e-9, { zeros: 31, ones: 30 });
    expect(long).toBeLessThan(short);
    expect(isiEyeOpening(1e8, 1.2e9, 0, 3e-9, { zeros: 31, ones: 30 })).toBeCloseTo(1, 6);
  });
});
