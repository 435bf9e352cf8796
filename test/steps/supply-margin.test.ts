/**
 * Supply margin through the engine's step context on the simulated bench: the rails the link model sees are the
 * ones the N6705C sim sets, so every corner, and the return to nominal, is checked on the model itself.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Capability, CapabilityMap } from '../../src/instruments/capabilities.ts';
import type { N6705cSettings } from '../../src/instruments/keysight-n6705c/driver.ts';
import { supplyMarginStep } from '../../src/steps/supply-margin.ts';
import type { HarnessBench } from './helpers.ts';
import { runStep } from './helpers.ts';
import { openSimBench, type SimHarnessBench } from './sim-bench.ts';

const NOMINAL = [3.3, 0.9, 1.0, 3.3];

describe('supply-margin on the simulated MOSAIC bench', () => {
  let bench: SimHarnessBench;
  beforeAll(async () => {
    bench = await openSimBench('mosaic-800g', {
      edit: (c) => {
        // a tight limit on aux (not counted, so never margined: the limit must not stop the step)
        const pa = c.instruments['power-analyzer']!.settings as unknown as N6705cSettings;
        pa.rails[3]!.maxV = 3.31;
      },
    });
  }, 60_000);
  afterAll(async () => bench?.close());

  it('each counted rail at ±5 %: BER screen and energy at every corner, every rail back at nominal', async () => {
    const m = bench.sim.model;
    for (let run = 0; run < 2; run++) {
      const ctx = await runStep(bench, supplyMarginStep, { targetBer: 1e-9 });
      const v = ctx.all('supply_rail_v');
      expect(v.map((x) => [x.at.rail, x.at.supply_pct])).toEqual([
        [1, -5],
        [1, 5],
        [2, -5],
        [2, 5],
        [3, -5],
        [3, 5],
      ]);
      for (const x of v) expect(x.value).toBeCloseTo(NOMINAL[x.at.rail! - 1]! * (1 + x.at.supply_pct! / 100), 6);
      // healthy at every corner (the model browns out only below 90 %)
      for (const b of ctx.all('supply_ber_upper_bound')) expect(b.verdict).toBe('PASS');
      for (const f of ctx.all('supply_lanes_failing')) expect(f.value).toBe(0);
      // the LED rail delivers V × ΣI: +5 % on it costs 5 % of its power, visible in the energy per bit
      const e = (pct: number) => ctx.get('supply_energy_per_bit', { rail: 1, supply_pct: pct }).value as number;
      const ledW = 3.3 * 400 * 200e-6 + 0.02;
      expect(e(5) - e(-5)).toBeCloseTo(((0.1 * ledW) / (400 * 2e9)) * 1e12, 2);
      expect(ctx.get('supply_rails_restored').value).toBe(1);
      // the model's rails: back at nominal
      expect([1, 2, 3, 4].map((r) => m.getRailVoltage(r))).toEqual(NOMINAL);
    }
  }, 120_000);

  it('a corner outside the station limits is refused before any rail moves, naming the rail and the limit', async () => {
    const m = bench.sim.model;
    await expect(runStep(bench, supplyMarginStep, { rails: ['aux'] })).rejects.toThrow(
      /rail aux at \+5 % is 3\.4650 V, above its station limit maxV 3\.31 V/,
    );
    await expect(runStep(bench, supplyMarginStep, { rails: ['core'] })).rejects.toThrow(
      /params.rails names "core", not a rail of the station \(rails: tx-led, tx-driver, rx-tia, aux\)/,
    );
    expect([1, 2, 3, 4].map((r) => m.getRailVoltage(r))).toEqual(NOMINAL);
  }, 60_000);

  it('an error detector failing mid-margin: the step fails and every rail is back at nominal, read back', async () => {
    let gates = 0;
    const failing: HarnessBench = {
      ...bench,
      instruments: {
        ...bench.station,
        has: (c: Capability) => bench.station.has(c),
        find: <C extends Capability>(c: C) => bench.station.find(c),
        all: () => bench.station.all(),
        clock: bench.station.clock,
        get: <C extends Capability>(c: C): CapabilityMap[C] => {
          const inst = bench.station.get(c);
          if (c !== 'error-detector') return inst;
          return new Proxy(inst, {
            get(target, prop, recv) {
              if (prop === 'startGate')
                return async (...a: unknown[]) => {
                  if (++gates === 3) throw new Error('the error detector stopped answering');
                  return (target as CapabilityMap['error-detector']).startGate(...(a as [number]));
                };
              const v = Reflect.get(target, prop, recv);
              return typeof v === 'function' ? v.bind(target) : v;
            },
          });
        },
      },
    };
    await expect(runStep(failing, supplyMarginStep, {})).rejects.toThrow(/stopped answering/);
    expect(gates).toBe(3); // it failed at the third corner (rail 2 at −5 %)
    expect([1, 2, 3, 4].map((r) => bench.sim.model.getRailVoltage(r))).toEqual(NOMINAL);
  }, 60_000);
});
