/**
 * Sensitivity from a waterfall (domain.md §6): BER against signal level, every point error-counted with a gate long
 * enough to count `minErrors` errors on the typical lane, a per-lane fit on the Q scale (src/core/waterfall.ts), and
 * each lane's level at the target BER extrapolated with its confidence interval. The signal is lowered with the
 * modulation current (the eye opening scales with I_mod at a fixed bias): the level is 10·log10(I_mod/I_mod,op) dB,
 * so a lane's sensitivity is how far below its operating drive it reaches the target: its drive margin.
 *
 * The sweep first walks down in `stepDb` steps with short probe gates until the typical lane counts errors, then
 * comes back up toward the operating point, each gate sized from the fit so far, until the next point would need
 * more than `maxBits` per lane to count errors. A lane with too few errors is reported "better than" (its margin
 * is then at least the level of its last gate with errors), a lane whose errors do not fall with more signal as a
 * floor; neither gets an extrapolated number. The operating point is restored at the end.
 */
import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { berToQ } from '../core/ber.ts';
import { fitWaterfall, type WaterfallFit, type WaterfallPoint } from '../core/waterfall.ts';
import { PATTERNS, type Pattern } from '../instruments/capabilities.ts';
import type { StepContext, StepDefinition } from '../orchestrator/step.ts';
import { countErrors } from './ber.ts';
import {
  callOpts,
  ensureOperatingDrive,
  finite,
  measureCountedBer,
  median,
  restoreDrive,
  SHARED,
  selectLanes,
} from './util.ts';

export const waterfallParams = z.strictObject({
  /**
   * What sets the received signal: the variable optical attenuator (received power), or the modulation current
   * (the emitted OMA); `auto`: the attenuator where the station has one.
   */
  axis: z.enum(['auto', 'attenuator', 'modulation']).default('auto'),
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  rate: z.number().positive().optional(),
  /** The BER the sensitivity is extrapolated to. */
  targetBer: z.number().gt(0).lt(1).default(1e-12),
  confidence: z.number().gt(0).lt(1).default(0.95),
  /** Level steps, dB (of received power through the attenuator, or of modulation current). */
  stepDb: z.number().positive().max(6).default(0.5),
  /** Lowest level tried, dB below the operating point. */
  maxDb: z.number().positive().max(30).default(12),
  /** Errors a point should count on the typical lane (the Poisson error of the fit's weights). */
  minErrors: z.number().int().min(1).default(20),
  /** Longest gate per point, bits per lane. */
  maxBits: z.number().positive().default(1e11),
  /** Probe gate while walking down, bits per lane. */
  probeBits: z.number().positive().default(1e7),
  /** Points above this BER are past the knee and not fitted. */
  maxBer: z.number().gt(0).lt(0.5).default(1e-3),
  /** Limit on each lane's margin to the target BER, dB. */
  minMarginDb: z.number().default(3),
  pollMs: timerMs().int().min(1).max(10_000).default(200),
});
export type WaterfallParams = z.infer<typeof waterfallParams>;

export interface LaneWaterfall {
  lane: number;
  points: WaterfallPoint[];
  fit: WaterfallFit;
}

export interface WaterfallResult {
  targetBer: number;
  /** What set the level: the attenuator (x is received power, dB) or the modulation current (x is I_mod, dB). */
  axis: 'attenuator' | 'modulation';
  lanes: LaneWaterfall[];
  /** Levels swept, dB (negative: below the operating point), in the order measured. */
  levels: number[];
}

/** The sweep: walk down with probes, then up with sized gates; every point on every lane. */
export async function runWaterfall(ctx: StepContext, p: WaterfallParams): Promise<WaterfallResult> {
  const lanes = selectLanes(ctx, p.lanes);
  if (lanes.length === 0) throw new Error('waterfall: no lanes to measure');
  const src = ctx.instruments.get('current-source');
  const { op } = await ensureOperatingDrive(ctx);
  const modOp = lanes.map((l) => op.mod[op.lanes.indexOf(l)]!);
  const axis = p.axis === 'auto' ? (ctx.instruments.has('attenuator') ? 'attenuator' : 'modulation') : p.axis;
  const voa = axis === 'attenuator' ? ctx.instruments.get('attenuator') : undefined;
  // the attenuator's operating setting, channel by channel: level x dB is x dB less light than that
  const voaOp = voa ? await voa.attenuation(undefined, callOpts(ctx)) : [];
  const setLevel = async (x: number) => {
    if (voa) {
      for (const [db, channels] of groupChannels(voaOp)) await voa.setAttenuation(db - x, channels, callOpts(ctx));
      return;
    }
    const scale = 10 ** (x / 10);
    await src.setModulation(
      lanes,
      modOp.map((m) => m * scale),
      callOpts(ctx),
    );
  };
  const points = new Map<number, WaterfallPoint[]>(lanes.map((l) => [l, []]));
  const levels: number[] = [];
  ctx.log(
    'info',
    voa
      ? `waterfall: received power set with the attenuator (operating ${voaOp.join(', ')} dB)`
      : 'waterfall: signal set with the modulation current',
  );
  const gate = async (x: number, bits: number) => {
    await setLevel(x);
    const c = await countErrors(ctx, {
      lanes,
      gateBits: Math.ceil(bits),
      rate: p.rate,
      pattern: p.pattern,
      pollMs: p.pollMs,
    });
    levels.push(x);
    lanes.forEach((l, i) => {
      // a lane that lost sync counted nothing meaningful at this level
      if (!c.lost.has(i)) points.get(l)!.push({ x, bits: c.bits[i]!, errors: c.errors[i]! });
    });
    const bers = lanes.map((_, i) => (c.lost.has(i) ? 0.5 : c.errors[i]! / Math.max(1, c.bits[i]!)));
    ctx.log(
      'info',
      `waterfall: ${x.toFixed(2)} dB, ${bits.toExponential(2)} bits, median BER ${median(bers).toExponential(2)}`,
    );
    return median(bers);
  };
  try {
    // 1. down, with probes, until the typical lane counts errors (or the knee, or the floor of the sweep)
    let x = -p.stepDb;
    let top: number | undefined;
    for (; x >= -p.maxDb - 1e-9; x -= p.stepDb) {
      const ber = await gate(x, p.probeBits);
      if (ber * p.probeBits >= p.minErrors) {
        top = x;
        break;
      }
    }
    if (top === undefined)
      throw new Error(`waterfall: no errors down to −${p.maxDb} dB: lower params.probeBits' floor or raise maxDb`);
    // 2. back up toward the operating point, each gate sized to count minErrors at the BER the fit predicts
    for (x = top + p.stepDb; x < -1e-9; x += p.stepDb) {
      const predicted = predictMedianBer(points, x, p);
      if (!(predicted > 0)) break;
      const bits = Math.max(p.probeBits, p.minErrors / predicted);
      if (bits > p.maxBits) break;
      await gate(x, bits);
    }
  } finally {
    if (!ctx.signal.aborted) {
      if (voa) await setLevel(0);
      await restoreDrive(ctx, op);
    }
  }
  return {
    targetBer: p.targetBer,
    axis,
    levels,
    lanes: lanes.map((lane) => ({
      lane,
      points: points.get(lane)!,
      fit: fitWaterfall(points.get(lane)!, {
        targetBer: p.targetBer,
        confidence: p.confidence,
        maxBer: p.maxBer,
        minErrors: Math.min(5, p.minErrors),
      }),
    })),
  };
}

/** Channels that share an operating attenuation, so each level is one command per distinct setting. */
function groupChannels(dbs: readonly number[]): Map<number, number[]> {
  const out = new Map<number, number[]>();
  dbs.forEach((db, i) => {
    out.set(db, [...(out.get(db) ?? []), i + 1]);
  });
  return out;
}

/** The typical lane's BER at level x from the points so far (a two-point Q-line through the last two medians). */
function predictMedianBer(points: Map<number, WaterfallPoint[]>, x: number, p: WaterfallParams): number {
  const fits = [...points.values()].map((pts) =>
    fitWaterfall(pts, { targetBer: 1e-12, confidence: 0.5, maxBer: p.maxBer, minErrors: 1 }),
  );
  const qs = fits.filter((f) => f.status === 'fit').map((f) => f.a + f.b * 10 ** (x / 10));
  if (qs.length === 0) {
    // one level so far: assume Q in proportion to the signal from the last median BER
    const last = [...points.values()].map((pts) => pts.at(-1)).filter((v) => v !== undefined);
    const ber = median(last.map((v) => v!.errors / Math.max(1, v!.bits)));
    const lx = last[0]?.x ?? x;
    const q = berToQ(Math.min(0.49, Math.max(ber, 1e-300))) * 10 ** ((x - lx) / 10);
    return (0.5 * Math.exp(-(q * q) / 2)) / (q * Math.sqrt(Math.PI / 2)); // the tail's leading term: fine for sizing
  }
  const q = median(qs);
  return q > 0 ? (0.5 * Math.exp(-(q * q) / 2)) / (q * Math.sqrt(Math.PI / 2)) : 0.5;
}

export const waterfallStep: StepDefinition<WaterfallParams> = {
  type: 'waterfall',
  requires: ['current-source', 'pattern-generator', 'error-detector'],
  requiresFor: (p) => (p.axis === 'attenuator' ? [{ param: 'axis', capability: 'attenuator' }] : []),
  description:
    'Sensitivity per lane: BER against received power (attenuator) or drive level (I_mod), error-counted points, a Q-scale fit extrapolated to the target BER with its confidence',
  params: waterfallParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'sensitivity_margin_db',
      unit: 'dB',
      description: `how far below the operating point (received power through the attenuator, else I_mod) the lane reaches BER ${p.targetBer} (fitted, Q scale)`,
      limits: { low: p.minMarginDb },
      dimensions: ['lane'],
    },
    {
      name: 'sensitivity_interval_db',
      unit: 'dB',
      description: `half-width of the margin's ${Math.round(p.confidence * 100)} % confidence interval`,
      dimensions: ['lane'],
    },
    {
      name: 'sensitivity_better_than_db',
      unit: 'dB',
      description:
        'lanes with too few errors to fit ("better than"): dB below the operating drive of their lowest zero-error gate',
      dimensions: ['lane'],
    },
    {
      name: 'waterfall_points',
      unit: 'count',
      description: 'error-counted points fitted per lane',
      dimensions: ['lane'],
    },
    {
      name: 'waterfall_ber',
      unit: '',
      description: 'BER counted per lane at each level (at.power_db through the attenuator, else at.drive_db)',
      dimensions: ['lane'],
    },
    {
      name: 'lanes_floor',
      unit: 'count',
      description: 'lanes whose errors do not fall with more signal',
      dimensions: [],
      limits: { high: 0 },
    },
    {
      name: 'worst_margin_db',
      unit: 'dB',
      description: 'the smallest fitted margin over the lanes',
      dimensions: [],
      limits: { low: p.minMarginDb },
    },
  ],
  async run(ctx, p) {
    const r = await runWaterfall(ctx, p);
    ctx.shared.set(SHARED.waterfall, r);
    const lanes = r.lanes.map((l) => l.lane);
    measureCountedBer(
      ctx,
      'waterfall_ber',
      r.lanes,
      (q) => q.x,
      r.levels,
      (x): Record<string, number> => (r.axis === 'attenuator' ? { power_db: x } : { drive_db: x }),
    );
    // fitted lanes get their margin (a floor lane: no value, so it fails); lanes with too few errors to fit are
    // reported apart, "better than", never as a fitted number
    const judged = r.lanes.filter((l) => l.fit.status !== 'better-than');
    const margin = judged.map((l) => (l.fit.status === 'fit' ? -l.fit.xAtTarget! : null));
    const half = judged.map((l) => {
      const iv = l.fit.interval;
      return iv && Number.isFinite(iv[0]) ? (iv[1] - iv[0]) / 2 : null;
    });
    const clean = r.lanes.filter((l) => l.fit.status === 'better-than');
    const floors = r.lanes.filter((l) => l.fit.status === 'floor').map((l) => l.lane);
    if (floors.length) ctx.log('warn', `waterfall: error floor on lanes ${floors.join(', ')}`);
    const unfitted = r.lanes.filter((l) => l.fit.status === 'better-than').map((l) => l.lane);
    if (unfitted.length)
      ctx.log('info', `waterfall: too few errors to fit on lanes ${unfitted.join(', ')} (better than)`);
    const judgedLanes = judged.map((l) => l.lane);
    ctx.measure('sensitivity_margin_db', { lanes: judgedLanes, values: margin.map((m) => finite(m ?? undefined)) });
    ctx.lanesFrame('sensitivity_margin_db', 'dB', {
      lanes: judgedLanes,
      values: margin.map((m) => finite(m ?? undefined)),
    });
    ctx.measure('sensitivity_interval_db', { lanes: judgedLanes, values: half.map((h) => finite(h ?? undefined)) });
    ctx.measure('sensitivity_better_than_db', {
      lanes: clean.map((l) => l.lane),
      values: clean.map((l) => (l.fit.betterThan ? -l.fit.betterThan.x : null)),
    });
    ctx.measure('waterfall_points', { lanes, values: r.lanes.map((l) => l.fit.used) });
    ctx.measure('lanes_floor', floors.length);
    const fitted = margin.filter((m): m is number => m !== null);
    ctx.measure('worst_margin_db', fitted.length ? Math.min(...fitted) : null);
  },
};
