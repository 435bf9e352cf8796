/**
 * Q8 energy per bit (domain.md §2.5): rail powers at full load (every active lane on PRBS31 at the rate, outputs
 * on) and at idle (outputs off). E_b = Σ counted rails at load / (active lanes × rate). Which rails count comes
 * from params.countedRails (rail names), else the power meter's countedRails (station file), else every rail
 * but `aux`.
 */

import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { PATTERNS, type Pattern, type RailMeter, type RailReading } from '../instruments/capabilities.ts';
import { benchClock, type StepDefinition } from '../orchestrator/step.ts';
import { setPrbs } from './patterns.ts';
import { callOpts, ensureOperatingDrive, SHARED, selectLanes } from './util.ts';

export const energyParams = z.strictObject({
  rate: z.number().positive().optional(),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  /** Rail names that count toward energy per bit; default the station's choice, else all but aux. */
  countedRails: z.array(z.string()).optional(),
  /**
   * Rail names declared as per-rail measurements rail_<name>_w ('-' becomes '_'); default the shipped stations'
   * rails. Measurements are declared before the step runs, so rails not listed here are only logged.
   */
  railNames: z.array(z.string().regex(/^[A-Za-z0-9_-]+$/)).default(['tx-led', 'tx-driver', 'rx-tia', 'aux']),
  /** Default limit on energy_per_bit, pJ/bit (6.6 MOSAIC-class per end, 2.0 LightBundle-class). */
  maxPjPerBit: z.number().positive().default(6.6),
  /** Wait after switching load before reading the rails, instrument ms (real ms on real hardware). */
  settleMs: timerMs().int().min(0).default(100),
});
export type EnergyParams = z.infer<typeof energyParams>;

export interface EnergyResult {
  lanes: number;
  rate: number;
  counted: string[];
  load: RailReading[];
  idle: RailReading[];
  countedLoadW: number;
  countedIdleW: number;
  pjPerBit: number;
}

/** Rail channels that count: by name from params, else the meter's countedRails, else all but aux. */
export function countedRailChannels(pm: RailMeter, readings: readonly RailReading[], names?: readonly string[]) {
  if (names) return readings.filter((r) => names.includes(r.name)).map((r) => r.rail);
  if (pm.countedRails) return [...pm.countedRails];
  return readings.filter((r) => r.name.toLowerCase() !== 'aux').map((r) => r.rail);
}

/** Measurement name of a rail's power. */
export function railMeasurement(name: string): string {
  return `rail_${name.replace(/[^A-Za-z0-9_]/g, '_')}_w`;
}

export function energyPerBitPj(watts: number, lanes: number, rate: number): number {
  return lanes > 0 && rate > 0 ? (watts / (lanes * rate)) * 1e12 : Number.POSITIVE_INFINITY;
}

export const energyPerBitStep: StepDefinition<EnergyParams> = {
  type: 'energy-per-bit',
  requires: ['current-source', 'pattern-generator', 'rail-meter'],
  description: 'Rail powers at full load and idle; energy per bit over the counted rails',
  params: energyParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'energy_per_bit',
      unit: 'pJ/bit',
      description: 'counted rail power at full load / (active lanes × rate)',
      limits: { high: p.maxPjPerBit },
      dimensions: [],
      summary: 'energy-per-bit',
    },
    { name: 'energy_per_bit_dynamic', unit: 'pJ/bit', description: '(load − idle) / (lanes × rate)', dimensions: [] },
    { name: 'load_power_w', unit: 'W', description: 'counted rails at full load', dimensions: [] },
    { name: 'idle_power_w', unit: 'W', description: 'counted rails with the outputs off', dimensions: [] },
    { name: 'total_power_w', unit: 'W', description: 'every rail at full load', dimensions: [] },
    ...p.railNames.map((n) => ({
      name: railMeasurement(n),
      unit: 'W',
      description: `rail ${n} at full load`,
      dimensions: [],
    })),
  ],
  async run(ctx, params) {
    const src = ctx.instruments.get('current-source');
    const gen = ctx.instruments.get('pattern-generator');
    const pm = ctx.instruments.get('rail-meter');
    const opts = callOpts(ctx);
    const lanes = selectLanes(ctx, params.lanes);
    if (lanes.length === 0) throw new Error('energy-per-bit: no active lanes');
    await ensureOperatingDrive(ctx);
    const before = await src.getOutput(lanes, opts);
    const rate = params.rate ?? (await gen.getRate(opts));
    if (params.rate !== undefined) await gen.setRate(rate, opts);
    await setPrbs(gen, lanes, params.pattern, ctx.geometry, opts);
    await src.setOutput(lanes, true, opts);
    const clock = benchClock(ctx.instruments);
    await clock.sleep(params.settleMs / 1000, ctx.signal);
    const load = await pm.measure(undefined, opts);
    ctx.progress(1, 2);
    await src.setOutput(lanes, false, opts);
    await clock.sleep(params.settleMs / 1000, ctx.signal);
    const idle = await pm.measure(undefined, opts);
    ctx.progress(2, 2);
    const wasOn = lanes.filter((_, i) => before[i]);
    if (wasOn.length) await src.setOutput(wasOn, true, opts);

    const channels = countedRailChannels(pm, load, params.countedRails);
    const counted = load.filter((r) => channels.includes(r.rail));
    const sum = (rs: readonly RailReading[]) =>
      rs.filter((r) => channels.includes(r.rail)).reduce((s, r) => s + r.watts, 0);
    const countedLoadW = sum(load);
    const countedIdleW = sum(idle);
    const result: EnergyResult = {
      lanes: lanes.length,
      rate,
      counted: counted.map((r) => r.name),
      load,
      idle,
      countedLoadW,
      countedIdleW,
      pjPerBit: energyPerBitPj(countedLoadW, lanes.length, rate),
    };
    ctx.shared.set(SHARED.energy, result);
    ctx.log(
      'info',
      `energy per bit: ${result.pjPerBit.toFixed(3)} pJ/bit over ${result.counted.join('+')} ` +
        `(${countedLoadW.toFixed(3)} W, ${lanes.length} lanes × ${rate} bit/s)`,
    );
    ctx.measure('energy_per_bit', result.pjPerBit);
    ctx.measure('energy_per_bit_dynamic', energyPerBitPj(countedLoadW - countedIdleW, lanes.length, rate));
    ctx.measure('load_power_w', countedLoadW);
    ctx.measure('idle_power_w', countedIdleW);
    ctx.measure(
      'total_power_w',
      load.reduce((s, r) => s + r.watts, 0),
    );
    for (const r of load) {
      if (params.railNames.includes(r.name)) ctx.measure(railMeasurement(r.name), r.watts);
      else ctx.log('info', `rail ${r.name} is not in params.railNames; not recorded as a measurement`);
    }
  },
};
