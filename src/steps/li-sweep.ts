/**
 * Q3 L-I(-V) sweep, all lanes at once: at each bias point one setBias over every lane, one receivedPower and
 * one forwardVoltage channel-list query (3 round trips per point; 400 lanes × 20 points = 60, plus ~8 to save,
 * set up and restore the drive). DC sweep: modulation is 0 during the sweep; the operating point is restored.
 *
 * Per lane: slope (W/A) and threshold (x-intercept) from a straight-line fit over the points between
 * fitLow·I_op and fitHigh·I_op, received power at I_op (dBm, interpolated), V_f at I_op. A lane more than
 * `outlierDb` below the array median at I_op is an outlier and goes on ctx.lanes.failed. The lanes whose power at
 * I_op is unusual either way, robustly (outside median ± max(outlierMad·MAD, outlierFloorDb) of p_op_dbm: a few
 * bad lanes do not move the band), are recorded with their deviation (`li_outlier_db`) for the charts to mark.
 */

import { z } from 'zod';
import { outliers } from '../core/robust.ts';
import type { StepContext, StepDefinition } from '../orchestrator/step.ts';
import {
  callOpts,
  finite,
  fitLine,
  interpolate,
  markFailed,
  median,
  operatingPoint,
  restoreDrive,
  rxOf,
  SHARED,
  selectLanes,
  typicalOperatingCurrent,
  wattsToDbm,
} from './util.ts';

export const liSweepParams = z.strictObject({
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('all'),
  points: z.number().int().min(2).max(1000).default(20),
  spacing: z.enum(['log', 'linear']).default('log'),
  iMinA: z.number().positive().default(1e-6),
  /** Top of the sweep; default the light source's maxCurrentA. */
  iMaxA: z.number().positive().optional(),
  /** Operating current; default the median bias + modulation/2 of the operating point. */
  iOpA: z.number().positive().optional(),
  fitLow: z.number().positive().default(0.3),
  fitHigh: z.number().positive().default(1.5),
  /** Static floor for p_op_dbm. */
  pOpMinDbm: z.number().default(-30),
  /** Outlier rule: p_op below the array median by more than this fails the lane. */
  outlierDb: z.number().positive().default(3),
  /** Charted outliers (li_outlier_db): p_op_dbm outside median ± max(outlierMad·MAD, outlierFloorDb). */
  outlierMad: z.number().positive().default(5),
  outlierFloorDb: z.number().min(0).default(0.5),
  /** Forward voltage at I_op must stay below this. */
  vfMaxV: z.number().positive().default(4),
  /**
   * Allowed drop of p_op against this step's first sweep in the run (e.g. 25 °C in a temperature sweep):
   * P(85)/P(25) ≥ 0.90 is 0.46 dB (domain.md Q9).
   */
  driftMaxDb: z.number().positive().default(0.46),
  /** Stream a lanes frame per point (received power) so the dashboard fills in. */
  framePerPoint: z.boolean().default(true),
});
export type LiSweepParams = z.infer<typeof liSweepParams>;

export interface LiSweepResult {
  lanes: number[];
  currents: number[];
  /** power[point][lane index], W, at the lane's receiver. */
  power: number[][];
  /** vf[point][lane index], V. */
  vf: number[][];
  iOp: number;
  slope: number[];
  threshold: number[];
  pOpW: number[];
  vfOp: number[];
  medianLane: number;
  outliers: number[];
  roundTrips: number;
}

export function sweepCurrents(min: number, max: number, n: number, spacing: 'log' | 'linear'): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) {
    const t = n === 1 ? 1 : k / (n - 1);
    out.push(spacing === 'log' ? min * (max / min) ** t : min + (max - min) * t);
  }
  return out;
}

/** Slope and threshold of one lane from the points inside [lo, hi]; falls back to the upper half. */
export function fitLi(
  currents: readonly number[],
  power: readonly number[],
  lo: number,
  hi: number,
): { slope: number; threshold: number } {
  let xs: number[] = [];
  let ys: number[] = [];
  currents.forEach((i, k) => {
    if (i >= lo && i <= hi && Number.isFinite(power[k])) {
      xs.push(i);
      ys.push(power[k]);
    }
  });
  if (xs.length < 2) {
    const h = Math.floor(currents.length / 2);
    xs = currents.slice(h) as number[];
    ys = power.slice(h) as number[];
  }
  const { slope, intercept } = fitLine(xs, ys);
  const threshold = slope > 0 ? Math.max(0, -intercept / slope) : Number.NaN;
  return { slope, threshold };
}

export async function runLiSweep(
  ctx: StepContext,
  lanes: readonly number[],
  currents: readonly number[],
  iOp: number,
  opts: { fitLow: number; fitHigh: number; framePerPoint: boolean },
): Promise<LiSweepResult> {
  const src = ctx.instruments.get('current-source');
  const rx = ctx.instruments.get('lane-power-monitor');
  const op = await operatingPoint(ctx);
  const before = await src.getOutput(lanes, callOpts(ctx));
  const rxLanes = lanes.map((l) => rxOf(ctx, l));
  let trips = 1;
  const power: number[][] = [];
  const vf: number[][] = [];
  try {
    await src.setModulation(lanes, 0, callOpts(ctx));
    await src.setBias(lanes, currents[0], callOpts(ctx));
    await src.setOutput(lanes, true, callOpts(ctx));
    trips += 3;
    for (const [k, i] of currents.entries()) {
      if (k > 0) {
        await src.setBias(lanes, i, callOpts(ctx));
        trips++;
      }
      const p = await rx.receivedPower(rxLanes, callOpts(ctx));
      const v = await src.forwardVoltage(lanes, callOpts(ctx));
      trips += 2;
      power.push(p);
      vf.push(v);
      if (opts.framePerPoint) {
        ctx.lanesFrame('received_power', 'W', { lanes, values: p.map((x) => finite(x)) }, { current: i, point: k });
      }
      ctx.progress(k + 1, currents.length, 'points');
    }
  } finally {
    if (!ctx.signal.aborted) {
      await restoreDrive(ctx, op);
      const off = lanes.filter((_, k) => !before[k]);
      if (off.length) await src.setOutput(off, false, callOpts(ctx));
      trips += 3 + (off.length ? 1 : 0);
    }
  }
  const n = lanes.length;
  const slope: number[] = [];
  const threshold: number[] = [];
  const pOpW: number[] = [];
  const vfOp: number[] = [];
  for (let j = 0; j < n; j++) {
    const pj = power.map((row) => row[j]);
    const vj = vf.map((row) => row[j]);
    const fit = fitLi(currents, pj, opts.fitLow * iOp, opts.fitHigh * iOp);
    slope.push(fit.slope);
    threshold.push(fit.threshold);
    pOpW.push(interpolate(currents, pj, iOp));
    vfOp.push(interpolate(currents, vj, iOp));
  }
  const med = median(pOpW);
  let medianIdx = 0;
  for (let j = 1; j < n; j++) if (Math.abs(pOpW[j] - med) < Math.abs(pOpW[medianIdx] - med)) medianIdx = j;
  return {
    lanes: [...lanes],
    currents: [...currents],
    power,
    vf,
    iOp,
    slope,
    threshold,
    pOpW,
    vfOp,
    medianLane: lanes[medianIdx],
    outliers: [],
    roundTrips: trips,
  };
}

export const liSweepStep: StepDefinition<LiSweepParams> = {
  type: 'li-sweep',
  requires: ['current-source', 'lane-power-monitor'],
  description: 'L-I-V sweep of every lane at once; slope, threshold, power and V_f at I_op; outliers',
  params: liSweepParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'li_slope',
      unit: 'W/A',
      description: 'slope of received power vs current near I_op',
      dimensions: ['lane'],
    },
    { name: 'li_threshold', unit: 'A', description: 'x-intercept of the linear fit', dimensions: ['lane'] },
    {
      name: 'p_op_dbm',
      unit: 'dBm',
      description: 'received power at I_op',
      limits: { low: p.pOpMinDbm },
      dimensions: ['lane'],
    },
    {
      name: 'p_op_delta_db',
      unit: 'dB',
      description: 'p_op relative to the array median (outlier rule)',
      limits: { low: -p.outlierDb },
      dimensions: ['lane'],
    },
    {
      name: 'vf_op',
      unit: 'V',
      description: 'forward voltage at I_op',
      limits: { high: p.vfMaxV },
      dimensions: ['lane'],
    },
    {
      name: 'p_op_drift_db',
      unit: 'dB',
      description: "p_op relative to this step's first sweep in the run (0 on the first)",
      limits: { low: -p.driftMaxDb },
      dimensions: ['lane'],
    },
    { name: 'i_op', unit: 'A', description: 'operating current used', dimensions: [] },
    {
      name: 'li_outlier_db',
      unit: 'dB',
      description: `lanes whose p_op is outside median ± max(${p.outlierMad} MAD, ${p.outlierFloorDb} dB), and by how much (information: the charts mark them)`,
      dimensions: ['lane'],
    },
    { name: 'li_outliers', unit: 'count', description: 'lanes below median − outlierDb', dimensions: [] },
    {
      name: 'li_curve',
      unit: 'W',
      description: 'received power of the median lane vs current (at.current)',
      dimensions: ['point'],
    },
  ],
  async run(ctx, params) {
    const lanes = selectLanes(ctx, params.lanes);
    if (lanes.length === 0) throw new Error('li-sweep: no lanes to sweep');
    const op = await operatingPoint(ctx);
    const src = ctx.instruments.get('current-source');
    const iOp = params.iOpA ?? typicalOperatingCurrent(op);
    if (!(iOp > 0)) throw new Error('li-sweep: the light source has no operating point; set params.iOpA');
    const iMax = Math.min(params.iMaxA ?? src.maxCurrentA, src.maxCurrentA);
    const currents = sweepCurrents(params.iMinA, iMax, params.points, params.spacing);
    const r = await runLiSweep(ctx, lanes, currents, iOp, params);
    const pOpDbm = r.pOpW.map(wattsToDbm);
    const med = median(pOpDbm);
    const delta = pOpDbm.map((x) => x - med);
    r.outliers = lanes.filter((_, j) => !(delta[j] >= -params.outlierDb));
    markFailed(ctx, r.outliers, `L-I: p_op more than ${params.outlierDb} dB below the array median`);
    if (r.outliers.length) ctx.log('warn', `L-I outliers: ${r.outliers.join(', ')}`);
    ctx.shared.set(SHARED.liSweep, r);
    const lv = (values: readonly number[]) => ({ lanes, values: values.map((v) => finite(v)) });
    ctx.measure('i_op', iOp);
    ctx.measure('li_slope', lv(r.slope));
    ctx.measure('li_threshold', lv(r.threshold));
    ctx.measure('p_op_dbm', lv(pOpDbm));
    ctx.lanesFrame('p_op_dbm', 'dBm', lv(pOpDbm));
    ctx.measure('p_op_delta_db', lv(delta));
    ctx.measure('vf_op', lv(r.vfOp));
    const refKey = `${SHARED.liSweep}.reference.${ctx.stepId}`;
    const ref = ctx.shared.get(refKey) as Map<number, number> | undefined;
    if (!ref) ctx.shared.set(refKey, new Map(lanes.map((l, j) => [l, pOpDbm[j]])));
    ctx.measure('p_op_drift_db', lv(lanes.map((l, j) => (ref ? pOpDbm[j] - (ref.get(l) ?? Number.NaN) : 0))));
    ctx.measure('li_outliers', r.outliers.length);
    const unusual = outliers(pOpDbm, params.outlierMad, params.outlierFloorDb).outside;
    ctx.measure('li_outlier_db', {
      lanes: unusual.map((j) => lanes[j]!),
      values: unusual.map((j) => finite(delta[j])),
    });
    const m = lanes.indexOf(r.medianLane);
    currents.forEach((i, k) => {
      ctx.measure('li_curve', finite(r.power[k][m]), { current: i, point: k });
    });
  },
};
