/**
 * Q8 energy per bit by the book (domain.md §2.5): every rail's V, I and power as the rail meter measures them (a
 * rail's power is V_rail × I_rail, never Σ I·V_f of the LEDs), at full load (every active lane on PRBS31 at the
 * rate, outputs on) and at idle (outputs off, receivers still powered). E_b = Σ counted rails / (active lanes × rate).
 *
 * The record states its boundary: what each rail feeds (params.rails: the µLED anodes, the drivers and gearbox, the
 * receiver TIAs, control and clocks, the host SerDes), hence which end it belongs to (TX, RX, shared) and which part
 * (optical engine, module, host SerDes); the boundary (params.boundary) decides which rails count, and every rail
 * is recorded with whether it counted and why (in its measurement's description). Figures: per link (this bench's
 * rails feed the TX end and the RX end of one link direction) and per end (TX, RX), static (idle) and dynamic
 * (load − idle), and the three boundaries (optical engine, module, module + host SerDes), each per delivered bit
 * with the lane count and rate it used. A lane whose forward voltage at the '1' level is above the LED rail's
 * measured voltage is flagged (its current cannot be what the board claims).
 */

import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import type { MeasurementSpec } from '../core/record.ts';
import { PATTERNS, type Pattern, type RailMeter, type RailReading } from '../instruments/capabilities.ts';
import { benchClock, type StepDefinition } from '../orchestrator/step.ts';
import { setPrbs } from './patterns.ts';
import { callOpts, ensureOperatingDrive, finite, SHARED, selectLanes } from './util.ts';

/** What a rail feeds; it decides the rail's end and part. */
export const RAIL_KINDS = {
  led: { end: 'tx', part: 'optical-engine', feeds: 'the µLED anodes' },
  driver: { end: 'tx', part: 'optical-engine', feeds: 'the µLED drivers, serializers and gearbox' },
  receiver: { end: 'rx', part: 'optical-engine', feeds: 'the receiver photodiodes, TIAs and slicers' },
  control: { end: 'shared', part: 'module', feeds: 'control, clocks and housekeeping' },
  'host-serdes': { end: 'shared', part: 'host-serdes', feeds: 'the electrical host interface (SerDes)' },
} as const;
export type RailKind = keyof typeof RAIL_KINDS;

/** Boundaries, each containing the parts before it. */
export const BOUNDARIES = ['optical-engine', 'module', 'module+host-serdes'] as const;
export type Boundary = (typeof BOUNDARIES)[number];
const PARTS_IN: Record<Boundary, readonly string[]> = {
  'optical-engine': ['optical-engine'],
  module: ['optical-engine', 'module'],
  'module+host-serdes': ['optical-engine', 'module', 'host-serdes'],
};

const railName = () => z.string().regex(/^[A-Za-z0-9_-]+$/);

export const energyParams = z.strictObject({
  rate: z.number().positive().optional(),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  /**
   * What each of the station's rails (by name) feeds. Default: the shipped stations' rails. A rail the meter reads
   * that is not listed here counts as the station says (`rails[].counted`) and is only logged.
   */
  rails: z
    .array(z.strictObject({ name: railName(), kind: z.enum(Object.keys(RAIL_KINDS) as [RailKind, ...RailKind[]]) }))
    .default([
      { name: 'tx-led', kind: 'led' },
      { name: 'tx-driver', kind: 'driver' },
      { name: 'rx-tia', kind: 'receiver' },
      { name: 'aux', kind: 'control' },
    ]),
  /** Which rails count toward energy_per_bit: those whose part lies inside this boundary. */
  boundary: z.enum(BOUNDARIES).default('optical-engine'),
  /** Rail names that count, overriding the boundary (the record then says so). */
  countedRails: z.array(z.string()).optional(),
  /** Default limit on energy_per_bit, pJ/bit (6.6 MOSAIC-class, 2.0 LightBundle-class). */
  maxPjPerBit: z.number().positive().default(6.6),
  /** Wait after switching load before reading the rails, instrument ms (real ms on real hardware). */
  settleMs: timerMs().int().min(0).default(100),
});
export type EnergyParams = z.infer<typeof energyParams>;

export interface EnergyRail extends RailReading {
  kind?: RailKind;
  end?: 'tx' | 'rx' | 'shared';
  part?: string;
  counted: boolean;
  why: string;
  idle: RailReading;
}

export interface EnergyResult {
  lanes: number;
  rate: number;
  boundary: Boundary;
  counted: string[];
  rails: EnergyRail[];
  load: RailReading[];
  idle: RailReading[];
  countedLoadW: number;
  countedIdleW: number;
  pjPerBit: number;
  /** Lanes whose forward voltage at the '1' level is above the LED rail's voltage. */
  vfAboveRail: number[];
}

/** Whether a rail described in params counts, and why (the record's words). */
export function railCounting(
  p: Pick<EnergyParams, 'boundary' | 'countedRails'>,
  rail: { name: string; kind: RailKind },
): { counted: boolean; why: string } {
  const k = RAIL_KINDS[rail.kind];
  if (p.countedRails) {
    const counted = p.countedRails.includes(rail.name);
    return { counted, why: `${counted ? '' : 'not '}listed in params.countedRails (it feeds ${k.feeds})` };
  }
  const counted = PARTS_IN[p.boundary].includes(k.part);
  return {
    counted,
    why: `${k.part} rail (${k.feeds}, ${k.end} end), ${counted ? 'inside' : 'outside'} the ${p.boundary} boundary`,
  };
}

/** Rail channels that count: by name from params, else the meter's countedRails, else all but aux. */
export function countedRailChannels(pm: RailMeter, readings: readonly RailReading[], names?: readonly string[]) {
  if (names) return readings.filter((r) => names.includes(r.name)).map((r) => r.rail);
  if (pm.countedRails) return [...pm.countedRails];
  return readings.filter((r) => r.name.toLowerCase() !== 'aux').map((r) => r.rail);
}

/** Measurement name of a rail's quantity: rail_<name>_w ('-' becomes '_'). */
export function railMeasurement(name: string, what: 'w' | 'idle_w' | 'v' | 'a' | 'counted' = 'w'): string {
  return `rail_${name.replace(/[^A-Za-z0-9_]/g, '_')}_${what}`;
}

export function energyPerBitPj(watts: number, lanes: number, rate: number): number {
  return lanes > 0 && rate > 0 ? (watts / (lanes * rate)) * 1e12 : Number.POSITIVE_INFINITY;
}

const BOUNDARY_TEXT: Record<Boundary, string> = {
  'optical-engine': 'optical engine only',
  module: 'module (optical engine + control)',
  'module+host-serdes': 'module including the host SerDes',
};

function railSpecs(p: EnergyParams): MeasurementSpec[] {
  return p.rails.flatMap((r) => {
    const { counted, why } = railCounting(p, r);
    const label = `rail ${r.name} (${RAIL_KINDS[r.kind].feeds})`;
    return [
      {
        name: railMeasurement(r.name),
        unit: 'W',
        description: `${label} at full load, V × I as the rail meter measures; ${counted ? 'COUNTED' : 'NOT counted'}: ${why}`,
        dimensions: [],
      },
      { name: railMeasurement(r.name, 'idle_w'), unit: 'W', description: `${label} at idle`, dimensions: [] },
      { name: railMeasurement(r.name, 'v'), unit: 'V', description: `${label} voltage at full load`, dimensions: [] },
      { name: railMeasurement(r.name, 'a'), unit: 'A', description: `${label} current at full load`, dimensions: [] },
      {
        name: railMeasurement(r.name, 'counted'),
        unit: '',
        description: `1: ${label} counts toward energy_per_bit, 0: it does not (${why})`,
        dimensions: [],
      },
    ] satisfies MeasurementSpec[];
  });
}

export const energyPerBitStep: StepDefinition<EnergyParams> = {
  type: 'energy-per-bit',
  requires: ['current-source', 'pattern-generator', 'rail-meter'],
  description:
    'Rail V, I and power at full load and idle; energy per delivered bit per link and per end, static and dynamic, over the rails inside a stated boundary',
  params: energyParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'energy_per_bit',
      unit: 'pJ/bit',
      description: `per link (TX end + RX end), ${BOUNDARY_TEXT[p.boundary]}${p.countedRails ? ` (rails: ${p.countedRails.join(', ')})` : ''}: counted rails at full load / (energy_lanes × energy_rate)`,
      limits: { high: p.maxPjPerBit },
      dimensions: [],
      summary: 'energy-per-bit',
    },
    {
      name: 'energy_per_bit_static',
      unit: 'pJ/bit',
      description: 'counted rails at idle (outputs off, receivers powered) / (lanes × rate)',
      dimensions: [],
    },
    {
      name: 'energy_per_bit_dynamic',
      unit: 'pJ/bit',
      description: 'counted rails, full load − idle / (lanes × rate): what the traffic costs',
      dimensions: [],
    },
    {
      name: 'energy_per_bit_tx_end',
      unit: 'pJ/bit',
      description: 'per end: the counted rails of the TX end at full load / (lanes × rate)',
      dimensions: [],
    },
    {
      name: 'energy_per_bit_rx_end',
      unit: 'pJ/bit',
      description: 'per end: the counted rails of the RX end at full load / (lanes × rate)',
      dimensions: [],
    },
    ...BOUNDARIES.map((b) => ({
      name: `energy_per_bit_${b === 'optical-engine' ? 'engine' : b === 'module' ? 'module' : 'host'}`,
      unit: 'pJ/bit',
      description: `per link, ${BOUNDARY_TEXT[b]}: every rail of params.rails inside it at full load / (lanes × rate)${b === 'module+host-serdes' ? '; null when no rail feeds the host SerDes' : ''}`,
      dimensions: [],
    })),
    { name: 'energy_lanes', unit: 'count', description: 'active lanes the figures divide by', dimensions: [] },
    { name: 'energy_rate', unit: 'bit/s', description: 'lane rate the figures divide by', dimensions: [] },
    { name: 'load_power_w', unit: 'W', description: 'counted rails at full load', dimensions: [] },
    { name: 'idle_power_w', unit: 'W', description: 'counted rails with the outputs off', dimensions: [] },
    { name: 'total_power_w', unit: 'W', description: 'every rail at full load', dimensions: [] },
    {
      name: 'led_vf_max_v',
      unit: 'V',
      description: "highest forward voltage at the '1' level (pattern ONES) over the lanes",
      dimensions: [],
    },
    {
      name: 'lanes_vf_above_rail',
      unit: 'count',
      description: "lanes whose forward voltage at the '1' level is above the LED rail's measured voltage",
      dimensions: [],
    },
    ...railSpecs(p),
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
    ctx.progress(1, 3);
    // forward voltage at the '1' level (bias + modulation), against the LED rail's measured voltage
    await gen.setPattern(lanes, 'ONES', opts);
    const vf = await src.forwardVoltage(lanes, opts);
    await setPrbs(gen, lanes, params.pattern, ctx.geometry, opts);
    ctx.progress(2, 3);
    await src.setOutput(lanes, false, opts);
    await clock.sleep(params.settleMs / 1000, ctx.signal);
    const idle = await pm.measure(undefined, opts);
    ctx.progress(3, 3);
    const wasOn = lanes.filter((_, i) => before[i]);
    if (wasOn.length) await src.setOutput(wasOn, true, opts);

    const result = energyRecord(pm, params, lanes, rate, load, idle, vf);
    ctx.shared.set(SHARED.energy, result);
    const perBit = (w: number) => energyPerBitPj(w, lanes.length, rate);
    const sumWhere = (f: (r: EnergyRail) => boolean) => result.rails.filter(f).reduce((s, r) => s + r.watts, 0);
    for (const r of result.rails) {
      ctx.log(
        'info',
        `energy: rail ${r.name} ${r.volts.toFixed(3)} V × ${r.amps.toExponential(3)} A = ${r.watts.toFixed(4)} W ` +
          `(idle ${r.idle.watts.toFixed(4)} W): ${r.counted ? 'counted' : 'not counted'}, ${r.why}`,
      );
    }
    ctx.log(
      'info',
      `energy per bit: ${result.pjPerBit.toFixed(3)} pJ/bit per link, ${BOUNDARY_TEXT[params.boundary]}, over ` +
        `${result.counted.join('+')} (${result.countedLoadW.toFixed(3)} W, ${lanes.length} lanes × ${rate} bit/s)`,
    );
    if (result.vfAboveRail.length) {
      // flagged in the record (lanes_vf_above_rail, led_vf_max_v); logged, not warned: it is the DUT's design
      ctx.log(
        'info',
        `energy: forward voltage above the LED rail on ${result.vfAboveRail.length} lanes ` +
          `(max ${Math.max(...vf).toFixed(3)} V): the drive the board reports cannot be trusted there`,
      );
    }
    ctx.measure('energy_per_bit', result.pjPerBit);
    ctx.measure('energy_per_bit_static', perBit(result.countedIdleW));
    ctx.measure('energy_per_bit_dynamic', perBit(result.countedLoadW - result.countedIdleW));
    ctx.measure('energy_per_bit_tx_end', perBit(sumWhere((r) => r.counted && r.end === 'tx')));
    ctx.measure('energy_per_bit_rx_end', perBit(sumWhere((r) => r.counted && r.end === 'rx')));
    for (const b of BOUNDARIES) {
      const inside = (r: EnergyRail) => r.part !== undefined && PARTS_IN[b].includes(r.part);
      const hasHost = result.rails.some((r) => r.part === 'host-serdes');
      const name = `energy_per_bit_${b === 'optical-engine' ? 'engine' : b === 'module' ? 'module' : 'host'}`;
      ctx.measure(name, b === 'module+host-serdes' && !hasHost ? null : perBit(sumWhere(inside)));
    }
    ctx.measure('energy_lanes', lanes.length);
    ctx.measure('energy_rate', rate);
    ctx.measure('load_power_w', result.countedLoadW);
    ctx.measure('idle_power_w', result.countedIdleW);
    ctx.measure(
      'total_power_w',
      load.reduce((s, r) => s + r.watts, 0),
    );
    ctx.measure('led_vf_max_v', finite(Math.max(...vf)));
    ctx.measure('lanes_vf_above_rail', result.vfAboveRail.length);
    for (const r of result.rails) {
      if (r.kind === undefined) {
        ctx.log('info', `rail ${r.name} is not described in params.rails: not recorded as a measurement`);
        continue;
      }
      ctx.measure(railMeasurement(r.name), r.watts);
      ctx.measure(railMeasurement(r.name, 'idle_w'), r.idle.watts);
      ctx.measure(railMeasurement(r.name, 'v'), r.volts);
      ctx.measure(railMeasurement(r.name, 'a'), r.amps);
      ctx.measure(railMeasurement(r.name, 'counted'), r.counted ? 1 : 0);
    }
  },
};

/** The energy record from the two rail readings: every rail with what it feeds, whether it counts and why. */
export function energyRecord(
  pm: RailMeter,
  p: EnergyParams,
  lanes: readonly number[],
  rate: number,
  load: readonly RailReading[],
  idle: readonly RailReading[],
  vf: readonly number[],
): EnergyResult {
  const stationCounted = new Set(countedRailChannels(pm, load, p.countedRails));
  const rails: EnergyRail[] = load.map((r) => {
    const idleR = idle.find((i) => i.rail === r.rail) ?? { ...r, volts: 0, amps: 0, watts: 0 };
    const described = p.rails.find((d) => d.name === r.name);
    if (!described) {
      const counted = stationCounted.has(r.rail);
      const why = p.countedRails
        ? `${counted ? '' : 'not '}listed in params.countedRails`
        : `not described in params.rails: the station's rails[].counted (${counted})`;
      return { ...r, counted, why, idle: idleR };
    }
    const k = RAIL_KINDS[described.kind];
    return { ...r, kind: described.kind, end: k.end, part: k.part, ...railCounting(p, described), idle: idleR };
  });
  const counted = rails.filter((r) => r.counted);
  const countedLoadW = counted.reduce((s, r) => s + r.watts, 0);
  const countedIdleW = counted.reduce((s, r) => s + r.idle.watts, 0);
  const led = rails.find((r) => r.kind === 'led');
  const vfAboveRail = led ? lanes.filter((_, i) => vf[i]! > led.volts) : [];
  return {
    lanes: lanes.length,
    rate,
    boundary: p.boundary,
    counted: counted.map((r) => r.name),
    rails,
    load: [...load],
    idle: [...idle],
    countedLoadW,
    countedIdleW,
    pjPerBit: energyPerBitPj(countedLoadW, lanes.length, rate),
    vfAboveRail,
  };
}
