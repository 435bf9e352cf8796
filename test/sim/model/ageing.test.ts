import { describe, expect, it } from 'vitest';
import { SimClock } from '../../../src/sim/clock.ts';
import { BenchLink } from '../../../src/sim/instruments/link.ts';
import {
  accelerationFactor,
  arrheniusFactor,
  currentDensity,
  currentFactor,
  L70,
  lifetimeHours,
} from '../../../src/sim/model/ageing.ts';
import { LinkModel } from '../../../src/sim/model/link-model.ts';
import { type LinkProfile, loadProfile } from '../../../src/sim/model/profile.ts';

const mosaic = loadProfile('mosaic-800g');
/** Every lane at the median rate, no sudden death: the figures below are exact. */
const uniform: LinkProfile = { ...mosaic, defects: { ...mosaic.defects, agingSigma: 0, suddenDeathPerHour: 0 } };

// Hand-computed (k = 8.617333262e-5 eV/K, Ea = 0.65 eV, T_ref = 55 °C = 328.15 K):
//   AF(85 °C) = exp(0.65/k · (1/328.15 − 1/358.15)) = 6.857994
//   AF(25 °C) = exp(0.65/k · (1/328.15 − 1/298.15)) = 0.098975
//   400 µA against the 200 µA reference (40 µA bias + 320 µA/2 modulation), m = 2: (2)^2 = 4
//   96 h at 85 °C and 400 µA: t_eff = 96 × 6.857994 × 4 = 2633.470 h; P/P0 = exp(−1.054e-6 × 2633.47) = 0.9972282
//   L70 at that stress: ln(1/0.7) / (1.054e-6 × 6.857994 × 4) = 12336.0 h
describe('ageing model (src/sim/model/ageing.ts)', () => {
  it('gives the hand-computed acceleration factors and lifetimes', () => {
    expect(arrheniusFactor(85, 55, 0.65)).toBeCloseTo(6.857994, 5);
    expect(arrheniusFactor(25, 55, 0.65)).toBeCloseTo(0.098975, 5);
    expect(arrheniusFactor(55, 55, 0.65)).toBe(1);
    const jRef = currentDensity(200e-6, 10);
    expect(jRef).toBeCloseTo(200e-6 / (Math.PI * 5e-4 ** 2), 6); // 254.6 A/cm² through a 10 µm emitter
    expect(currentFactor(currentDensity(400e-6, 10), jRef, 2)).toBeCloseTo(4, 12);
    expect(currentFactor(0, jRef, 2)).toBe(0);
    const p = { agingRefC: 55, activationEv: 0.65, currentExponent: 2 };
    expect(accelerationFactor(85, 2 * jRef, jRef, p)).toBeCloseTo(27.43198, 4);
    expect(lifetimeHours(1.054e-6, 6.857994 * 4, L70)).toBeCloseTo(12336.0, 0);
    expect(lifetimeHours(1e-6, 0, L70)).toBe(Number.POSITIVE_INFINITY);
  });

  it('ages a lane by temperature and current density as hand-computed; a dark lane does not age', () => {
    const m = LinkModel.operating(uniform);
    const all = m.allLanes();
    m.setModulation(all, 0);
    m.setBias(all, 400e-6);
    m.setOutput([5], false);
    m.setTemperature(85);
    const fresh = LinkModel.operating(uniform);
    fresh.setModulation(all, 0);
    fresh.setBias(all, 400e-6);
    fresh.setTemperature(85);
    expect(m.ageingAcceleration()[0]).toBeCloseTo(27.43198, 4);
    m.advance(96 * 3600);
    const eff = m.effectiveHours();
    expect(eff[0]).toBeCloseTo(2633.47, 1);
    expect(eff[4]).toBe(0); // lane 5 dark
    const ratio = m.opticalPower()[0] / fresh.opticalPower()[0];
    expect(ratio).toBeCloseTo(0.9972282, 6);
    // at the operating point (mean current = reference) only temperature accelerates: 96 h × 6.858
    const op = LinkModel.operating(uniform);
    op.setTemperature(85);
    op.advance(96 * 3600);
    expect(op.effectiveHours()[0]).toBeCloseTo(658.367, 2);
  });

  it('many small steps age as one long one: same effective hours, same power within 1e-9, same deaths', () => {
    const dying = { ...mosaic, defects: { ...mosaic.defects, suddenDeathPerHour: 2e-4 } };
    const small = LinkModel.operating(dying, 3);
    const big = LinkModel.operating(dying, 3);
    for (const m of [small, big]) m.setTemperature(85);
    for (let k = 0; k < 2000; k++) small.advance(36); // 20 h in 2000 steps
    big.advance(20 * 3600);
    expect(small.deadLanes().length).toBeGreaterThan(0);
    expect(small.deadLanes()).toEqual(big.deadLanes());
    // a lane that died stops ageing (dark) in the small steps; the others agree
    const dead = new Set(small.deadLanes());
    const es = small.effectiveHours();
    const eb = big.effectiveHours();
    for (let i = 0; i < 400; i++) if (!dead.has(i + 1)) expect(Math.abs(es[i]! / eb[i]! - 1)).toBeLessThan(1e-9);
    const ps = small.opticalPower();
    const pb = big.opticalPower();
    for (let i = 0; i < 400; i++) if (pb[i]! > 0) expect(Math.abs(ps[i]! / pb[i]! - 1)).toBeLessThan(1e-9);
  });

  it('addStress ages at a given current, dark lanes too with allLanes', () => {
    const m = new LinkModel(uniform);
    m.addStress(96, 85, true, 400e-6);
    expect(m.effectiveHours()[10]).toBeCloseTo(2633.47, 1);
    const dark = new LinkModel(uniform);
    dark.addStress(96, 85, false, 400e-6);
    expect(dark.effectiveHours()[10]).toBe(0);
  });

  it('spreads the rate per lane (lognormal, sigma 0.5), the same for a seed, different for another', () => {
    const run = (seed: number) => {
      const m = LinkModel.operating({ ...mosaic, defects: { ...mosaic.defects, suddenDeathPerHour: 0 } }, seed);
      const p0 = m.opticalPower();
      m.addStress(1e5, 55);
      const p1 = m.opticalPower();
      return m.payloadLanes().map((l) => Math.log(-Math.log(p1[l - 1] / p0[l - 1]) / 1e5));
    };
    const a = run(1);
    expect(run(1)).toEqual(a);
    expect(run(2)).not.toEqual(a);
    const mean = a.reduce((s, x) => s + x, 0) / a.length;
    const sd = Math.sqrt(a.reduce((s, x) => s + (x - mean) ** 2, 0) / (a.length - 1));
    expect(Math.exp(mean)).toBeGreaterThan(1.054e-6 * 0.93); // median rate of the profile
    expect(Math.exp(mean)).toBeLessThan(1.054e-6 * 1.07);
    expect(sd).toBeGreaterThan(0.45);
    expect(sd).toBeLessThan(0.55);
  });

  it('the simulated bench ages the model by instrument time at the temperature the TEC reached', () => {
    class ManualClock extends SimClock {
      t = 0;
      override now(): number {
        return this.t;
      }
    }
    const clock = new ManualClock(1);
    const model = LinkModel.operating(uniform);
    const link = new BenchLink(model, uniform, clock, 1);
    link.sync();
    link.thermal.retarget(85, 0);
    clock.t = 600; // settled at 85 °C long before (ramp at the profile's rate)
    link.sync();
    const before = model.effectiveHours()[0];
    expect(model.temperature).toBe(85);
    clock.t = 600 + 96 * 3600;
    link.sync();
    expect(model.effectiveHours()[0] - before).toBeCloseTo(96 * 6.857994, 2);
    expect(model.time).toBeCloseTo(600 + 96 * 3600, 6);
    // a profile that turns it off (the 20000x BERT bench): the clock moves, the DUT does not age
    const off: LinkProfile = { ...uniform, defects: { ...uniform.defects, ageWithClock: false } };
    const still = LinkModel.operating(off);
    const link2 = new BenchLink(still, off, clock, 1);
    link2.sync();
    clock.t += 96 * 3600;
    link2.sync();
    expect(still.effectiveHours()[0]).toBe(0);
  });
});
