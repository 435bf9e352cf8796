/**
 * Q1 open/short screen (domain.md §4): every lane's forward voltage read back at two low currents (bias only, no
 * modulation), before anything relies on the lanes. Healthy emitters share a V_f; a lane outside median ± k·MAD of
 * its array (src/core/robust.ts; at least ±floorV, the readback's tolerance) is an outlier: below the band a short
 * (millivolts: the current bypasses the junction), above it an open (the driver runs out of headroom and reads its
 * rail). Shorts and opens go into the lane state as dead before the lane map, so no later step drives them and no
 * remap picks them; an active one fails the screen (a spare left is then the remap's to use).
 *
 * Reverse leakage needs a reverse bias on each lane: the lane current source only sinks forward current, so it is
 * recorded as not measured unless a later driver adds the capability. The drive is put back at the operating point
 * and the outputs as they were.
 */
import { z } from 'zod';
import { outliers } from '../core/robust.ts';
import type { StepDefinition } from '../orchestrator/step.ts';
import { callOpts, finite, operatingPoint, restoreDrive, SHARED, selectLanes } from './util.ts';

export const openShortParams = z.strictObject({
  /** Lanes screened; default every lane of the array, spares included (a dead spare is no spare). */
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('all'),
  /** The two low currents, A (domain.md Q1: 1 µA and 10 µA). */
  currentsA: z
    .tuple([z.number().positive(), z.number().positive()])
    .default([1e-6, 1e-5])
    .refine(([a, b]) => a < b, { message: 'expected two currents, the first lower than the second' }),
  /** Half-width of the band in scaled MADs (σ for normal data). */
  k: z.number().positive().default(5),
  /** Smallest half-width of the band, V: the readback's tolerance when every healthy lane reads alike. */
  floorV: z.number().min(0).default(0.05),
});
export type OpenShortParams = z.infer<typeof openShortParams>;

export type LaneElectrical = 'ok' | 'open' | 'short';

export interface OpenShortResult {
  lanes: number[];
  currentsA: [number, number];
  vf: [number[], number[]];
  band: { median: number; mad: number; low: number; high: number }[];
  verdict: LaneElectrical[];
  opens: number[];
  shorts: number[];
}

/** 0 ok, 1 open, 2 short (the per-lane measurement's code). */
const CODE: Record<LaneElectrical, number> = { ok: 0, open: 1, short: 2 };

export const openShortStep: StepDefinition<OpenShortParams> = {
  type: 'open-short',
  requires: ['current-source'],
  description:
    'Forward voltage of every lane at two low currents; opens and shorts by median ± k·MAD go into the lane state as dead',
  params: openShortParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'vf',
      unit: 'V',
      description: 'forward voltage read back per lane at each screening current (at.current)',
      dimensions: ['lane'],
    },
    { name: 'vf_median', unit: 'V', description: 'median V_f over the lanes (at.current)', dimensions: [] },
    {
      name: 'vf_mad',
      unit: 'V',
      description: 'median absolute deviation of V_f, scaled to σ (at.current)',
      dimensions: [],
    },
    {
      name: 'vf_band_low',
      unit: 'V',
      description: `median − max(${p.k}·MAD, ${p.floorV} V) (at.current)`,
      dimensions: [],
    },
    {
      name: 'vf_band_high',
      unit: 'V',
      description: `median + max(${p.k}·MAD, ${p.floorV} V) (at.current)`,
      dimensions: [],
    },
    {
      name: 'open_short',
      unit: 'code',
      description: '0 healthy, 1 open (V_f above the band), 2 short (V_f below the band)',
      limits: { high: 0 },
      dimensions: ['lane'],
    },
    { name: 'lanes_open', unit: 'count', description: 'lanes screened open', dimensions: [] },
    { name: 'lanes_short', unit: 'count', description: 'lanes screened shorted', dimensions: [] },
    {
      name: 'reverse_leakage_measured',
      unit: '',
      description: '1 when reverse leakage was measured per lane; 0: no instrument reverse-biases every lane',
      dimensions: [],
    },
  ],
  async run(ctx, p) {
    const src = ctx.instruments.get('current-source');
    const opts = callOpts(ctx);
    const lanes = selectLanes(ctx, p.lanes);
    if (lanes.length === 0) throw new Error('open-short: no lanes to screen');
    const op = await operatingPoint(ctx);
    const before = await src.getOutput(lanes, opts);
    const vf: [number[], number[]] = [[], []];
    try {
      await src.setModulation(lanes, 0, opts);
      await src.setBias(lanes, p.currentsA[0], opts);
      await src.setOutput(lanes, true, opts);
      for (const k of [0, 1] as const) {
        if (k === 1) await src.setBias(lanes, p.currentsA[1], opts);
        vf[k] = await src.forwardVoltage(lanes, opts);
        ctx.progress(k + 1, 2);
      }
    } finally {
      if (!ctx.signal.aborted) {
        await restoreDrive(ctx, op);
        ctx.shared.set(SHARED.driveApplied, true);
        const off = lanes.filter((_, i) => !before[i]);
        if (off.length) await src.setOutput(off, false, opts);
      }
    }
    const screens = vf.map((v) => outliers(v, p.k, p.floorV));
    const verdict: LaneElectrical[] = lanes.map((_, i) => {
      // the higher current decides (the lower one's readback sits nearer the noise); either one can flag a lane
      for (const k of [1, 0]) {
        const v = vf[k]![i]!;
        const b = screens[k]!.band;
        if (v < b.low) return 'short';
        if (!(v <= b.high)) return 'open';
      }
      return 'ok';
    });
    const result: OpenShortResult = {
      lanes,
      currentsA: [p.currentsA[0], p.currentsA[1]],
      vf,
      band: screens.map((s) => s.band),
      verdict,
      opens: lanes.filter((_, i) => verdict[i] === 'open'),
      shorts: lanes.filter((_, i) => verdict[i] === 'short'),
    };
    ctx.shared.set(SHARED.openShort, result);
    for (const k of [0, 1] as const) {
      const at = { current: p.currentsA[k] };
      ctx.measure('vf', { lanes, values: vf[k].map((v) => finite(v)) }, at);
      const b = screens[k]!.band;
      ctx.measure('vf_median', finite(b.median), at);
      ctx.measure('vf_mad', finite(b.mad), at);
      ctx.measure('vf_band_low', finite(b.low), at);
      ctx.measure('vf_band_high', finite(b.high), at);
    }
    // dead before the lane map: no later step drives them, no remap picks them
    for (const l of [...result.opens, ...result.shorts]) ctx.lanes.dead.add(l);
    ctx.lanes.sparesLeft = ctx.lanes.sparesLeft.filter((s) => !ctx.lanes.dead.has(s));
    ctx.measure('open_short', { lanes, values: verdict.map((v) => CODE[v]) });
    ctx.lanesFrame('open_short', 'code', { lanes, values: verdict.map((v) => CODE[v]) });
    ctx.measure('lanes_open', result.opens.length);
    ctx.measure('lanes_short', result.shorts.length);
    if (result.opens.length) ctx.log('warn', `open-short: open lanes ${result.opens.join(', ')} (marked dead)`);
    if (result.shorts.length) ctx.log('warn', `open-short: shorted lanes ${result.shorts.join(', ')} (marked dead)`);
    ctx.log('info', 'open-short: reverse leakage not measured (the lane current source cannot reverse-bias a lane)');
    ctx.measure('reverse_leakage_measured', 0);
  },
};
