import { describe, expect, it } from 'vitest';
import { energyPerBitStep } from '../../src/steps/energy-per-bit.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';

describe('energy-per-bit', () => {
  it('is counted power / (active lanes × rate), with aux left out by default', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(bench, energyPerBitStep, { rate: 2e9, maxPjPerBit: 10 });
    // the fake's rails with 16 lanes on at 2 Gb/s
    bench.model.out.fill(true);
    const [led, driver, rx] = bench.powerMeter.rails();
    bench.model.out.fill(false);
    const expected = ((led + driver + rx) / (16 * 2e9)) * 1e12;
    expect(ctx.get('energy_per_bit').value).toBeCloseTo(expected, 9);
    expect(ctx.get('energy_per_bit').verdict).toBe('PASS');
    expect(ctx.get('load_power_w').value).toBeCloseTo(led + driver + rx, 12);
    expect(ctx.get('idle_power_w').value).toBeCloseTo(0.01 + 0.1 + 0.05, 12);
    expect(ctx.get('rail_aux_w').value).toBeCloseTo(0.5, 12);
    expect(ctx.get('total_power_w').value).toBeCloseTo(led + driver + rx + 0.5, 12);
    // full load on PRBS31 at the rate, idle with the outputs off; outputs back as they were
    expect(bench.log.calls.find((c) => c.method === 'setPattern')?.args[1]).toBe('PRBS31');
    expect(bench.model.out.every((o) => !o)).toBe(true);
    // the rails settle for settleMs of instrument time after each load change
    expect(bench.clock.slept).toBeCloseTo(0.2, 9);
  });

  it('fails above the limit and honours countedRails', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(bench, energyPerBitStep, { maxPjPerBit: 2, countedRails: ['driver'] });
    const driver = 16 * 1e-12 * 2e9 + 0.1;
    expect(ctx.get('energy_per_bit').value).toBeCloseTo((driver / (16 * 2e9)) * 1e12, 9);
    expect(ctx.get('energy_per_bit').verdict).toBe('FAIL');
  });

  it('uses the meter countedRails when the station defines them', async () => {
    const bench = createFakeBench();
    Object.assign(bench.powerMeter, { countedRails: [1] });
    const ctx = await runStep(bench, energyPerBitStep, {}, { limits: { energy_per_bit: { high: 1 } } });
    bench.model.out.fill(true);
    const [led] = bench.powerMeter.rails();
    expect(ctx.get('energy_per_bit').value).toBeCloseTo((led / (16 * 2e9)) * 1e12, 9);
    expect(ctx.get('energy_per_bit').spec.limits?.high).toBe(1);
  });
});
