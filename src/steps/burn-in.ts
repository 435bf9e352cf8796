/**
 * Q11 burn-in (HTOL-style, JESD22-A108; screening at 85 °C, 96 h in GR-468 practice, domain.md §2.6): holds the DUT
 * at a temperature and a DC stress current for hours to weeks of instrument time, and at every checkpoint reads
 * each lane's optical power (and V_f) at a fixed measurement current. At the end, per lane: ΔP against the first
 * checkpoint, and L70/L50 extrapolated from a fit of ln P against stress time (src/core/lifetime.ts) with the
 * lower bound at the confidence; a lane without a significant decline is "better than" its bound, never a fitted
 * number. L70 is also given at use conditions (Arrhenius with Ea, and (I_stress/I_use)^m).
 *
 * Lanes that die during the burn-in (power below `deadFraction` of their first checkpoint) are switched off and
 * go into the run's lane state as dead: `burnin_dead` fails them, and a later `remap` step moves them to spares
 * (the existing remap rules). Spares are stressed too (lanes: all), so the spare that replaces a lane is burnt in.
 *
 * Checkpoints are measurements (at.hours, at.point), each committed to the store as it is taken. The step is
 * resumable: continued after the controller stopped (`cpobench resume`), it takes the checkpoints it finds in
 * ctx.resumed, brings the bench back to the burn-in state (temperature settled, stress current on) and goes on
 * from the last one. Stress hours are counted on the instrument clock while the stress is on; the time between
 * the last checkpoint and the resume is not counted (it cannot be observed).
 */

import { z } from 'zod';
import { timerMs, timerSeconds } from '../config/durations.ts';
import { arrheniusFactor, currentFactor, type DecayFit, fitDecay } from '../core/lifetime.ts';
import type { LaneMeasurement, Measurement } from '../core/record.ts';
import { benchClock, type StepContext, type StepDefinition } from '../orchestrator/step.ts';
import { settleAt } from './temperature-sweep.ts';
import {
  callOpts,
  finite,
  markFailed,
  operatingPoint,
  restoreDrive,
  rxOf,
  SHARED,
  selectLanes,
  typicalOperatingCurrent,
} from './util.ts';

export const burnInParams = z
  .strictObject({
    /** Stress time, hours of instrument time. */
    durationH: z.number().positive().max(1e5).default(96),
    /** Hours between checkpoints. */
    checkpointH: z.number().positive().default(8),
    /** Stress temperature, °C (the TEC holds it). */
    temperatureC: z.number().default(85),
    /** DC stress current per lane, A; default stressFactor × the operating point's mean current (bias + mod/2). */
    stressCurrentA: z.number().positive().optional(),
    stressFactor: z.number().positive().default(1),
    /** Current the power is read at in each checkpoint, A; default the stress current. */
    measureCurrentA: z.number().positive().optional(),
    lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('all'),
    toleranceC: z.number().positive().default(0.5),
    /** Instrument seconds the temperature must stay in tolerance before the stress counts. */
    dwellS: timerSeconds().min(0).default(30),
    settleTimeoutS: timerSeconds().positive().default(1800),
    pollMs: timerMs().int().min(1).default(1000),
    /** A lane whose power falls below this fraction of its first checkpoint has died. */
    deadFraction: z.number().gt(0).lt(1).default(0.1),
    /** ΔP limit, % (GR-468: more than 10 % change at fixed current is a failure). */
    deltaPMinPct: z.number().default(-10),
    /** Lower limit on the L70 lower bound at use conditions, hours. */
    l70UseMinH: z.number().min(0).default(50_000),
    confidence: z.number().gt(0).lt(1).default(0.95),
    /** Use conditions for L70 at use: temperature, current (default the operating point's mean), Ea and m. */
    useC: z.number().default(55),
    useCurrentA: z.number().positive().optional(),
    activationEv: z.number().min(0).default(0.65),
    currentExponent: z.number().min(0).default(2),
    /** Setpoint the TEC returns to at the end. */
    idleC: z.number().default(25),
  })
  .refine((p) => p.checkpointH <= p.durationH, {
    message: 'checkpointH must not exceed durationH',
    path: ['checkpointH'],
  });
export type BurnInParams = z.infer<typeof burnInParams>;

/** One checkpoint as recorded (or found in the store on resume). */
export interface Checkpoint {
  hours: number;
  lanes: number[];
  power: (number | null)[];
}

export interface BurnInResult {
  lanes: number[];
  checkpoints: Checkpoint[];
  fits: DecayFit[];
  deltaPct: (number | null)[];
  died: number[];
}

/** The checkpoints a resumed step recorded before, from its stored measurements. */
export function storedCheckpoints(ctx: StepContext): Checkpoint[] {
  return (ctx.resumed ?? [])
    .filter((m): m is LaneMeasurement => m.kind === 'lanes' && m.spec.name === 'burnin_power')
    .map((m) => ({ hours: m.at?.hours ?? Number.NaN, lanes: [...m.lanes], power: [...m.values] }))
    .filter((c) => Number.isFinite(c.hours));
}

/**
 * The stress a burn-in's stored measurements show: hours up to its last checkpoint at its temperature and stress
 * current. A simulated DUT started afresh on resume is given this history (a real one keeps its own).
 */
export function stressHistory(
  measurements: readonly Measurement[],
  params: Pick<BurnInParams, 'temperatureC'>,
): { hours: number; temperatureC: number; currentA: number } | undefined {
  const current = measurements.find((m) => m.kind === 'scalar' && m.spec.name === 'burnin_stress_current');
  const hours = measurements
    .filter((m) => m.spec.name === 'burnin_power')
    .map((m) => m.at?.hours ?? 0)
    .reduce((a, b) => Math.max(a, b), 0);
  if (current?.kind !== 'scalar' || current.value === null) return undefined;
  return { hours, temperatureC: params.temperatureC, currentA: current.value };
}

/** Per lane: its power at each checkpoint (NaN where not read). */
export function laneSeries(checkpoints: readonly Checkpoint[], lane: number): number[] {
  return checkpoints.map((c) => {
    const i = c.lanes.indexOf(lane);
    return i >= 0 ? (c.power[i] ?? Number.NaN) : Number.NaN;
  });
}

export const burnInStep: StepDefinition<BurnInParams> = {
  type: 'burn-in',
  requires: ['current-source', 'lane-power-monitor', 'thermal-controller'],
  resumable: true,
  description:
    'Burn-in at temperature and current for hours..weeks of instrument time: power per lane at checkpoints, ΔP, L70/L50 with confidence, lanes that die marked dead for remap; resumable',
  params: burnInParams as unknown as z.ZodType<BurnInParams>,
  laneParams: ['lanes'],
  temperatureParams: ['temperatureC', 'idleC'],
  measurements: (p) => [
    {
      name: 'burnin_power',
      unit: 'W',
      description: 'received power per lane at the measurement current, at each checkpoint (at.hours)',
      dimensions: ['lane', 'point'],
    },
    {
      name: 'burnin_vf',
      unit: 'V',
      description: 'forward voltage per lane at the measurement current, at each checkpoint (at.hours)',
      dimensions: ['lane', 'point'],
    },
    {
      name: 'burnin_temperature',
      unit: 'degC',
      description: 'TEC temperature read at each checkpoint (at.hours)',
      limits: { low: p.temperatureC - 2 * p.toleranceC, high: p.temperatureC + 2 * p.toleranceC },
      dimensions: ['point'],
    },
    {
      name: 'burnin_dead',
      unit: 'bool',
      description: '1 for a lane that died during the burn-in (marked dead: remap moves it to a spare)',
      limits: { high: 0 },
      dimensions: ['lane'],
    },
    {
      name: 'burnin_delta_p_pct',
      unit: '%',
      description: 'change of power from the first to the last checkpoint',
      limits: { low: p.deltaPMinPct },
      dimensions: ['lane'],
    },
    {
      name: 'burnin_l70_h',
      unit: 'h',
      description: 'fitted L70 at the stress (lanes with a decline)',
      dimensions: ['lane'],
    },
    {
      name: 'burnin_l70_lower_h',
      unit: 'h',
      description: `L70 at the stress, lower bound at ${p.confidence * 100} % confidence ("better than" for lanes without a decline)`,
      dimensions: ['lane'],
    },
    { name: 'burnin_l50_h', unit: 'h', description: 'fitted L50 at the stress', dimensions: ['lane'] },
    {
      name: 'burnin_l50_lower_h',
      unit: 'h',
      description: 'L50 at the stress, lower bound at the confidence',
      dimensions: ['lane'],
    },
    {
      name: 'burnin_l70_better_than_h',
      unit: 'h',
      description: 'lanes with no significant decline: L70 at the stress is better than this (no fitted number)',
      dimensions: ['lane'],
    },
    {
      name: 'burnin_l70_use_h',
      unit: 'h',
      description: `L70 lower bound at use conditions (${p.useC} °C, Ea ${p.activationEv} eV, current exponent ${p.currentExponent})`,
      limits: { low: p.l70UseMinH },
      dimensions: ['lane'],
    },
    {
      name: 'burnin_stress_current',
      unit: 'A',
      description: 'DC stress current per lane (recorded when the stress starts)',
      dimensions: [],
    },
    {
      name: 'burnin_hours',
      unit: 'h',
      description: 'stress hours completed',
      limits: { low: p.durationH },
      dimensions: [],
    },
    { name: 'burnin_lanes_died', unit: 'count', description: 'lanes that died during the burn-in', dimensions: [] },
  ],
  async run(ctx, params) {
    const r = await runBurnIn(ctx, params);
    ctx.shared.set(SHARED.burnIn, r);
  },
};

export async function runBurnIn(ctx: StepContext, p: BurnInParams): Promise<BurnInResult> {
  const src = ctx.instruments.get('current-source');
  const rx = ctx.instruments.get('lane-power-monitor');
  const tec = ctx.instruments.get('thermal-controller');
  const clock = benchClock(ctx.instruments);
  const op = await operatingPoint(ctx);
  const iStress = p.stressCurrentA ?? p.stressFactor * typicalOperatingCurrent(op);
  const iMeasure = p.measureCurrentA ?? iStress;
  for (const [name, i] of [
    ['stressCurrentA', iStress],
    ['measureCurrentA', iMeasure],
  ] as const) {
    if (!(i > 0)) throw new Error(`burn-in: params.${name}: no current (the station gives no operating point)`);
    if (i > src.maxCurrentA)
      throw new Error(
        `burn-in: params.${name} ${i} A is above the light source's limit of ${src.maxCurrentA} A per lane`,
      );
  }
  const before = storedCheckpoints(ctx);
  const lanes = before.length > 0 ? before[0].lanes : selectLanes(ctx, p.lanes);
  if (lanes.length === 0) throw new Error('burn-in: no lanes to stress');
  const checkpoints: Checkpoint[] = [...before];
  const died = new Set<number>(lanes.filter((l) => ctx.lanes.dead.has(l)));
  const lit = () => lanes.filter((l) => !died.has(l));
  const baseH = before.length > 0 ? before[before.length - 1].hours : 0;
  if (before.length > 0)
    ctx.log('info', `burn-in resumed after ${baseH} h (${before.length} checkpoints kept); bringing the bench back`);

  // the burn-in state: temperature settled, stress current on every lane being stressed
  await tec.setOutput(true, callOpts(ctx));
  await settleAt(ctx, p.temperatureC, p);
  await src.setModulation(lanes, 0, callOpts(ctx));
  await src.setBias(lit(), iStress, callOpts(ctx));
  await src.setOutput(lit(), true, callOpts(ctx));
  ctx.shared.set(SHARED.driveApplied, false); // the operating point is no longer applied
  let stressFromS = clock.now();
  const hoursNow = () => baseH + (clock.now() - stressFromS) / 3600;

  const take = async (hours: number) => {
    const point = checkpoints.length;
    const on = lit();
    if (iMeasure !== iStress) await src.setBias(on, iMeasure, callOpts(ctx));
    const power = await rx.receivedPower(
      on.map((l) => rxOf(ctx, l)),
      callOpts(ctx),
    );
    const vf = await src.forwardVoltage(on, callOpts(ctx));
    const t = await tec.temperature(callOpts(ctx));
    if (iMeasure !== iStress) await src.setBias(on, iStress, callOpts(ctx));
    const byLane = new Map(on.map((l, i) => [l, power[i]]));
    const vfByLane = new Map(on.map((l, i) => [l, vf[i]]));
    const cp: Checkpoint = { hours, lanes, power: lanes.map((l) => finite(byLane.get(l))) };
    const at = { hours, point };
    ctx.measure('burnin_power', { lanes, values: cp.power }, at);
    ctx.measure('burnin_vf', { lanes, values: lanes.map((l) => finite(vfByLane.get(l))) }, at);
    ctx.measure('burnin_temperature', t, at);
    ctx.lanesFrame('burnin_power', 'W', { lanes, values: cp.power });
    checkpoints.push(cp);
    // lanes that died: switched off (a short must not carry the stress current), dead for the remap rules
    const first = checkpoints[0];
    const dying = on.filter((l) => {
      const p0 = first.power[first.lanes.indexOf(l)];
      const now = byLane.get(l);
      return !(p0 !== null && p0 > 0 && now !== undefined && now >= p.deadFraction * p0);
    });
    if (dying.length > 0) {
      for (const l of dying) {
        died.add(l);
        ctx.lanes.dead.add(l);
      }
      markFailed(ctx, dying, `died during the burn-in (before ${hours.toFixed(1)} h)`);
      await src.setOutput(dying, false, callOpts(ctx));
      ctx.log('warn', `burn-in: lanes ${dying.join(', ')} died before ${hours.toFixed(1)} h: off, marked dead`);
    }
    ctx.progress(Math.min(hours, p.durationH), p.durationH);
  };

  try {
    if (checkpoints.length === 0) {
      ctx.measure('burnin_stress_current', iStress);
      await take(0);
      stressFromS = clock.now(); // the stress counts from the first checkpoint
    }
    for (;;) {
      const last = checkpoints[checkpoints.length - 1].hours;
      if (last >= p.durationH - 1e-9) break;
      const target = Math.min(last + p.checkpointH, p.durationH);
      // sleep on the instrument clock until the stress hours reach the target (a timer may fire a little early)
      while (hoursNow() < target - 1e-9) await clock.sleep((target - hoursNow()) * 3600, ctx.signal);
      await take(target);
    }
  } finally {
    if (!ctx.signal.aborted) {
      await restoreDrive(ctx, op);
      await tec.setSetpoint(p.idleC, callOpts(ctx));
    }
  }
  return finish(ctx, p, lanes, checkpoints, died, iStress, p.useCurrentA ?? typicalOperatingCurrent(op));
}

function finish(
  ctx: StepContext,
  p: BurnInParams,
  lanes: number[],
  checkpoints: Checkpoint[],
  died: Set<number>,
  iStress: number,
  iUse: number,
): BurnInResult {
  const hours = checkpoints.map((c) => c.hours);
  // stress against use: Arrhenius at the stress temperature referred to the use temperature, times (I/I_use)^m
  const af = arrheniusFactor(p.temperatureC, p.useC, p.activationEv) * currentFactor(iStress, iUse, p.currentExponent);
  const fits: DecayFit[] = [];
  const deltaPct: (number | null)[] = [];
  for (const l of lanes) {
    const series = laneSeries(checkpoints, l);
    const dead = died.has(l);
    fits.push(fitDecay(hours, dead ? series.map(() => Number.NaN) : series, p.confidence));
    const p0 = series[0];
    const pn = series[series.length - 1];
    deltaPct.push(!dead && p0 > 0 && pn > 0 ? (pn / p0 - 1) * 100 : null);
  }
  const v = (f: (fit: DecayFit, i: number) => number | null) => ({
    lanes,
    values: fits.map((fit, i) => (died.has(lanes[i]) ? null : f(fit, i))),
  });
  ctx.measure('burnin_dead', { lanes, values: lanes.map((l) => (died.has(l) ? 1 : 0)) });
  ctx.measure('burnin_delta_p_pct', { lanes, values: deltaPct });
  ctx.measure(
    'burnin_l70_h',
    v((f) => (f.status === 'fitted' ? finite(f.l70) : null)),
  );
  ctx.measure(
    'burnin_l70_lower_h',
    v((f) => finite(f.l70Lower)),
  );
  ctx.measure(
    'burnin_l50_h',
    v((f) => (f.status === 'fitted' ? finite(f.l50) : null)),
  );
  ctx.measure(
    'burnin_l50_lower_h',
    v((f) => finite(f.l50Lower)),
  );
  const betterThan = lanes.filter((l, i) => !died.has(l) && fits[i].status !== 'fitted');
  ctx.measure('burnin_l70_better_than_h', {
    lanes: betterThan,
    values: betterThan.map((l) => finite(fits[lanes.indexOf(l)].l70Lower)),
  });
  ctx.measure(
    'burnin_l70_use_h',
    v((f) => finite(f.l70Lower * af)),
  );
  ctx.measure('burnin_hours', hours[hours.length - 1] ?? 0);
  ctx.measure('burnin_lanes_died', died.size);
  if (betterThan.length > 0)
    ctx.log('info', `burn-in: no significant decline on ${betterThan.length} lanes: L70 reported as "better than"`);
  return { lanes, checkpoints, fits, deltaPct, died: [...died].sort((a, b) => a - b) };
}
