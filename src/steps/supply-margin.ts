/**
 * Q10d supply margin (domain.md §4): each counted rail set to its nominal voltage ± marginPct (default 5 %), one
 * rail at a time, and at each corner a BER screen on the active lanes and the energy per bit over the counted rails.
 * Nominal voltages and the setpoint limits come from the station (`rails[].nominalV`, `minV`, `maxV`); a corner
 * outside the limits is refused before anything is set. Every corner's voltage is read back (setpoint and measured);
 * each rail goes back to nominal before the next one moves, and at the end, on failure and on abort every margined
 * rail is set to nominal and read back: a rail that does not confirm fails the step.
 */
import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { PATTERNS, type Pattern, type RailReading } from '../instruments/capabilities.ts';
import { benchClock, type StepContext, type StepDefinition } from '../orchestrator/step.ts';
import { runBerScreen } from './ber.ts';
import { countedRailChannels, energyPerBitPj } from './energy-per-bit.ts';
import { callOpts, errorText, finite, selectLanes } from './util.ts';

export const supplyMarginParams = z.strictObject({
  /** Rail names to margin; default the counted rails (the station's `rails[].counted`). */
  rails: z.array(z.string().min(1)).min(1).optional(),
  /** Corners: nominal × (1 ± marginPct/100). */
  marginPct: z.number().gt(0).max(20).default(5),
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  rate: z.number().positive().optional(),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  targetBer: z.number().gt(0).lt(1).default(1e-9),
  confidence: z.number().gt(0).lt(1).default(0.95),
  /** Limit on the energy per bit at each corner, pJ/bit (none by default). */
  maxPjPerBit: z.number().positive().optional(),
  /** Wait after each voltage change, instrument ms. */
  settleMs: timerMs().int().min(0).default(100),
  /** The measured voltage must be within this fraction of the setpoint to confirm it. */
  readBackTolerance: z.number().gt(0).max(0.2).default(0.01),
  pollMs: timerMs().int().min(1).max(10_000).default(200),
});
export type SupplyMarginParams = z.infer<typeof supplyMarginParams>;

interface MarginRail {
  channel: number;
  name: string;
  nominal: number;
}

export interface SupplyCorner {
  rail: string;
  channel: number;
  pct: number;
  volts: number;
  measuredV: number;
  failing: number[];
  pjPerBit: number;
}

/** The rails to margin, with their nominal voltages; refuses a corner outside the station's limits. */
async function marginRails(ctx: StepContext, p: SupplyMarginParams): Promise<MarginRail[]> {
  const supply = ctx.instruments.get('supply');
  const meter = ctx.instruments.get('rail-meter');
  const readings = await meter.measure(undefined, callOpts(ctx));
  const channels = p.rails
    ? p.rails.map((name) => {
        const r = readings.find((x) => x.name === name);
        if (!r)
          throw new Error(
            `supply-margin: params.rails names "${name}", not a rail of the station (rails: ${readings.map((x) => x.name).join(', ')})`,
          );
        return r.rail;
      })
    : countedRailChannels(meter, readings);
  const setpoints = await supply.voltage(channels, callOpts(ctx));
  return channels.map((channel, i) => {
    const cfg = supply.rails?.find((r) => r.channel === channel);
    const name = readings.find((r) => r.rail === channel)!.name;
    // the station's nominal, else the setpoint as read back before anything moved
    const nominal = cfg?.nominalV ?? setpoints[i]!;
    for (const sign of [-1, 1]) {
      const v = nominal * (1 + (sign * p.marginPct) / 100);
      if (cfg?.maxV !== undefined && v > cfg.maxV)
        throw new Error(
          `supply-margin: rail ${name} at +${p.marginPct} % is ${v.toFixed(4)} V, above its station limit maxV ${cfg.maxV} V`,
        );
      if (cfg?.minV !== undefined && v < cfg.minV)
        throw new Error(
          `supply-margin: rail ${name} at −${p.marginPct} % is ${v.toFixed(4)} V, below its station limit minV ${cfg.minV} V`,
        );
    }
    return { channel, name, nominal };
  });
}

/** Sets a rail and confirms it: the setpoint read back, the measured voltage within the tolerance. */
async function setRail(
  ctx: StepContext,
  rail: MarginRail,
  volts: number,
  p: SupplyMarginParams,
  opts = callOpts(ctx),
): Promise<RailReading> {
  const supply = ctx.instruments.get('supply');
  const meter = ctx.instruments.get('rail-meter');
  await supply.setVoltage([rail.channel], volts, opts);
  await benchClock(ctx.instruments).sleep(p.settleMs / 1000, opts.signal);
  const [set] = await supply.voltage([rail.channel], opts);
  const [read] = await meter.measure([rail.channel], opts);
  if (!(Math.abs(set! - volts) <= 1e-6 * Math.max(1, volts)))
    throw new Error(`supply-margin: rail ${rail.name} setpoint reads back ${set} V, not ${volts} V`);
  if (!(Math.abs(read!.volts - volts) <= p.readBackTolerance * volts))
    throw new Error(`supply-margin: rail ${rail.name} measures ${read!.volts} V, set to ${volts} V`);
  return read!;
}

export const supplyMarginStep: StepDefinition<SupplyMarginParams> = {
  type: 'supply-margin',
  requires: ['current-source', 'pattern-generator', 'error-detector', 'supply', 'rail-meter'],
  description:
    'Each counted rail at nominal ± 5 % (station limits), a BER screen and the energy per bit at each corner; rails back at nominal, read back',
  params: supplyMarginParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'supply_rail_v',
      unit: 'V',
      description: 'the margined rail measured at the corner (at.rail channel, at.supply_pct)',
      dimensions: [],
    },
    {
      name: 'supply_ber_upper_bound',
      unit: '',
      description: `BER upper bound at ${p.confidence * 100} % per lane at the corner`,
      limits: { high: p.targetBer },
      dimensions: ['lane'],
    },
    {
      name: 'supply_lanes_failing',
      unit: 'count',
      description: `lanes above ${p.targetBer} at the corner`,
      limits: { high: 0 },
      dimensions: [],
    },
    {
      name: 'supply_energy_per_bit',
      unit: 'pJ/bit',
      description: 'counted rails at the corner (traffic on) / (lanes × rate)',
      ...(p.maxPjPerBit !== undefined ? { limits: { high: p.maxPjPerBit } } : {}),
      dimensions: [],
    },
    {
      name: 'supply_rails_restored',
      unit: '',
      description: '1 when every margined rail read back at its nominal voltage afterwards',
      limits: { low: 1 },
      dimensions: [],
    },
  ],
  async run(ctx, p) {
    const lanes = selectLanes(ctx, p.lanes);
    if (lanes.length === 0) throw new Error('supply-margin: no active lanes');
    const rails = await marginRails(ctx, p);
    const meter = ctx.instruments.get('rail-meter');
    const corners: SupplyCorner[] = [];
    const restoreAll = async (opts = callOpts(ctx)) => {
      for (const r of rails) await setRail(ctx, r, r.nominal, p, opts);
    };
    try {
      let k = 0;
      for (const rail of rails) {
        for (const sign of [-1, 1]) {
          const pct = sign * p.marginPct;
          const volts = rail.nominal * (1 + pct / 100);
          const at = { rail: rail.channel, supply_pct: pct };
          const read = await setRail(ctx, rail, volts, p);
          ctx.measure('supply_rail_v', read.volts, at);
          const ber = await runBerScreen(ctx, { ...p, lanes });
          const load = await meter.measure(undefined, callOpts(ctx));
          const counted = countedRailChannels(meter, load);
          const watts = load.filter((r) => counted.includes(r.rail)).reduce((s, r) => s + r.watts, 0);
          const pj = energyPerBitPj(watts, lanes.length, ber.rate);
          ctx.measure('supply_ber_upper_bound', { lanes, values: ber.upperBound.map((v) => finite(v)) }, at);
          ctx.measure('supply_lanes_failing', ber.failing.length, at);
          ctx.measure('supply_energy_per_bit', pj, at);
          corners.push({
            rail: rail.name,
            channel: rail.channel,
            pct,
            volts,
            measuredV: read.volts,
            failing: ber.failing,
            pjPerBit: pj,
          });
          ctx.log(
            'info',
            `supply-margin: ${rail.name} at ${pct > 0 ? '+' : ''}${pct} % (${read.volts.toFixed(4)} V): ` +
              `${ber.failing.length} lanes above ${p.targetBer}, ${pj.toFixed(3)} pJ/bit`,
          );
          ctx.progress(++k, rails.length * 2);
        }
        await setRail(ctx, rail, rail.nominal, p);
      }
    } catch (err) {
      // back to nominal on failure and on abort (a fresh bound: the step's signal may be the reason we are here)
      const opts = ctx.signal.aborted ? { timeoutMs: 5000 } : callOpts(ctx);
      try {
        await restoreAll(opts);
        ctx.log('warn', `supply-margin: rails back at nominal (read back) after: ${errorText(err)}`);
      } catch (e) {
        ctx.log('error', `supply-margin: rails NOT confirmed at nominal: ${errorText(e)}`);
      }
      throw err;
    }
    let restored = 1;
    try {
      await restoreAll();
    } catch (e) {
      restored = 0;
      ctx.log('error', `supply-margin: rails NOT confirmed at nominal: ${errorText(e)}`);
    }
    ctx.measure('supply_rails_restored', restored);
  },
};
