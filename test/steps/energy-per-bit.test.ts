import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { energyPerBitStep } from '../../src/steps/energy-per-bit.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';
import { openSimBench, type SimHarnessBench } from './sim-bench.ts';

const FAKE_RAILS = [
  { name: 'led', kind: 'led' },
  { name: 'driver', kind: 'driver' },
  { name: 'rx', kind: 'receiver' },
  { name: 'aux', kind: 'control' },
];

describe('energy-per-bit (fake bench)', () => {
  it('is counted power / (active lanes × rate), with aux outside the optical-engine boundary', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(bench, energyPerBitStep, { rate: 2e9, maxPjPerBit: 10, rails: FAKE_RAILS });
    // the fake's rails with 16 lanes on at 2 Gb/s
    bench.model.out.fill(true);
    const [led, driver, rx] = bench.powerMeter.truePowers();
    bench.model.out.fill(false);
    const expected = ((led + driver + rx) / (16 * 2e9)) * 1e12;
    expect(ctx.get('energy_per_bit').value).toBeCloseTo(expected, 9);
    expect(ctx.get('energy_per_bit').verdict).toBe('PASS');
    expect(ctx.get('energy_per_bit').spec.description).toMatch(/per link .*optical engine only/);
    expect(ctx.get('load_power_w').value).toBeCloseTo(led + driver + rx, 12);
    expect(ctx.get('idle_power_w').value).toBeCloseTo(0.01 + 0.1 + 0.05, 12);
    expect(ctx.get('rail_aux_w').value).toBeCloseTo(0.5, 12);
    expect(ctx.get('rail_aux_counted').value).toBe(0);
    expect(ctx.get('rail_aux_w').spec.description).toMatch(
      /NOT counted: module rail \(control.*outside the optical-engine/,
    );
    expect(ctx.get('rail_led_counted').value).toBe(1);
    expect(ctx.get('energy_per_bit_module').value).toBeCloseTo(((led + driver + rx + 0.5) / (16 * 2e9)) * 1e12, 9);
    expect(ctx.get('energy_per_bit_host').value).toBeNull(); // no rail feeds a host SerDes
    expect(ctx.get('total_power_w').value).toBeCloseTo(led + driver + rx + 0.5, 12);
    expect(ctx.get('energy_lanes').value).toBe(16);
    expect(ctx.get('energy_rate').value).toBe(2e9);
    // full load on PRBS31 at the rate, idle with the outputs off; outputs back as they were
    expect(bench.log.calls.find((c) => c.method === 'setPattern')?.args[1]).toBe('PRBS31');
    expect(bench.model.out.every((o) => !o)).toBe(true);
    // the rails settle for settleMs of instrument time after each load change
    expect(bench.clock.slept).toBeCloseTo(0.2, 9);
  });

  it('fails above the limit and honours countedRails, saying so', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(bench, energyPerBitStep, {
      maxPjPerBit: 2,
      countedRails: ['driver'],
      rails: FAKE_RAILS,
    });
    const driver = 16 * 1e-12 * 2e9 + 0.1;
    expect(ctx.get('energy_per_bit').value).toBeCloseTo((driver / (16 * 2e9)) * 1e12, 9);
    expect(ctx.get('energy_per_bit').verdict).toBe('FAIL');
    expect(ctx.get('rail_led_w').spec.description).toMatch(/NOT counted: not listed in params.countedRails/);
  });

  it('a rail params.rails does not describe counts as the station says', async () => {
    const bench = createFakeBench();
    Object.assign(bench.powerMeter, { countedRails: [1] });
    const ctx = await runStep(bench, energyPerBitStep, { rails: [] }, { limits: { energy_per_bit: { high: 1 } } });
    bench.model.out.fill(true);
    const [led] = bench.powerMeter.truePowers();
    expect(ctx.get('energy_per_bit').value).toBeCloseTo((led / (16 * 2e9)) * 1e12, 9);
    expect(ctx.get('energy_per_bit').spec.limits?.high).toBe(1);
  });
});

describe('energy-per-bit on the simulated MOSAIC bench', () => {
  let bench: SimHarnessBench;
  beforeAll(async () => {
    bench = await openSimBench('mosaic-800g');
  }, 60_000);
  afterAll(async () => bench?.close());

  it("records every rail as V × I of the rail meter, the aux rail labelled, receivers' power in static", async () => {
    const ctx = await runStep(bench, energyPerBitStep, { rate: 2e9 });
    const model = bench.sim.model;
    // the rails add up to the meter's V × I, rail by rail (the model's rail states are what the meter reads)
    const names = ['tx-led', 'tx-driver', 'rx-tia', 'aux'];
    let counted = 0;
    for (const n of names) {
      const w = ctx.get(`rail_${n.replace('-', '_')}_w`).value as number;
      const v = ctx.get(`rail_${n.replace('-', '_')}_v`).value as number;
      const a = ctx.get(`rail_${n.replace('-', '_')}_a`).value as number;
      expect(w).toBeCloseTo(v * a, 4);
      if (ctx.get(`rail_${n.replace('-', '_')}_counted`).value === 1) counted += w;
    }
    expect(ctx.get('load_power_w').value).toBeCloseTo(counted, 9);
    // the aux rail: 0.8 W, visible, not counted, and the record says why
    expect(ctx.get('rail_aux_w').value).toBeCloseTo(0.8, 3);
    expect(ctx.get('rail_aux_counted').value).toBe(0);
    expect(ctx.get('rail_aux_w').spec.description).toMatch(/control, clocks.*outside the optical-engine boundary/);
    // the LED rail is V_rail × ΣI of the lit lanes: 400 × (40 µA + 320 µA / 2) at 3.3 V, plus its static draw
    expect(ctx.get('rail_tx_led_w').value).toBeCloseTo(3.3 * 400 * 200e-6 + 0.02, 3);
    // the receivers draw at idle as at load: the dynamic part is the transmitters' only
    expect(ctx.get('rail_rx_tia_idle_w').value).toBeCloseTo(ctx.get('rail_rx_tia_w').value as number, 4);
    const e = ctx.get('energy_per_bit').value as number;
    const module = ctx.get('energy_per_bit_module').value as number;
    expect(module - e).toBeCloseTo((0.8 / (400 * 2e9)) * 1e12, 3); // 1 pJ/bit of aux between the two boundaries
    expect(
      (ctx.get('energy_per_bit_static').value as number) + (ctx.get('energy_per_bit_dynamic').value as number),
    ).toBeCloseTo(e, 9);
    expect(
      (ctx.get('energy_per_bit_tx_end').value as number) + (ctx.get('energy_per_bit_rx_end').value as number),
    ).toBeCloseTo(e, 9);
    // V_f at the '1' level (360 µA) is above the 3.3 V LED rail on every lane: flagged, against the model's V_f
    const truthVf = model.forwardVoltageAt(1, 360e-6);
    expect(truthVf).toBeGreaterThan(3.3);
    expect(ctx.get('led_vf_max_v').value).toBeGreaterThan(3.3);
    expect(ctx.get('lanes_vf_above_rail').value).toBe(400);
    expect(ctx.logs.some((l) => /forward voltage above the LED rail on 400 lanes/.test(l.msg))).toBe(true);
  }, 60_000);
});
