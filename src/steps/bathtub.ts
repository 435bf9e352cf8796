/**
 * Eye opening from a vertical bathtub (domain.md §2.3, Q10b): the error detector's decision threshold swept on
 * both sides of the eye's centre, BER error-counted on every lane at each threshold, each edge fitted on the Q scale
 * (src/core/bathtub.ts) and extrapolated to the target BER: the thresholds where each lane reaches it and the eye
 * opening between them (a fraction of the eye, the threshold's scale), with its confidence interval.
 *
 * Each side is walked from the outermost threshold the detector takes toward the centre in `step` steps: the first
 * gates are short probes (the edge errs a lot), then each gate is sized from the fits so far to count `minErrors` on
 * the lane that counts fewest (90th percentile of Q), until the next would need more than `maxBits` per lane. A lane with too few errors on an edge is
 * "better than" (its opening is at least the distance to that edge's last zero-error gate), one whose errors do not
 * fall toward the centre a floor. The threshold is put back where it was (read back) at the end, abort or not.
 *
 * Needs the `decision-threshold` capability: a bathtub on a station whose error detector has no threshold control is
 * refused at load, naming it. (The sampling phase is not swept: no driver here controls one.)
 */
import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { type BathtubFit, type BathtubPoint, fitBathtub } from '../core/bathtub.ts';
import { qToBer } from '../core/ber.ts';
import { fitQLine } from '../core/q-line.ts';
import { PATTERNS, type Pattern } from '../instruments/capabilities.ts';
import type { StepContext, StepDefinition } from '../orchestrator/step.ts';
import { countErrors } from './ber.ts';
import { callOpts, ensureOperatingDrive, finite, measureCountedBer, median, SHARED, selectLanes } from './util.ts';

export const bathtubParams = z.strictObject({
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  rate: z.number().positive().optional(),
  /** The BER the edges are extrapolated to. */
  targetBer: z.number().gt(0).lt(1).default(1e-12),
  confidence: z.number().gt(0).lt(1).default(0.95),
  /** Threshold step, fraction of the eye. */
  step: z.number().gt(0).max(0.25).default(0.01),
  /** Errors a point should count on the lane that counts fewest (the 90th percentile of the lanes' Q). */
  minErrors: z.number().int().min(1).default(20),
  /** Longest gate per point, bits per lane. */
  maxBits: z.number().positive().default(1e11),
  /** Probe gate at the outer thresholds, bits per lane. */
  probeBits: z.number().positive().default(1e7),
  /** Points above this BER are past the knee and not fitted. */
  maxBer: z.number().gt(0).lt(0.5).default(1e-3),
  /** Limit on each lane's eye opening at the target BER, fraction of the eye. */
  minOpening: z.number().min(0).max(1).default(0.2),
  pollMs: timerMs().int().min(1).max(10_000).default(200),
});
export type BathtubParams = z.infer<typeof bathtubParams>;

export interface LaneBathtub {
  lane: number;
  points: BathtubPoint[];
  fit: BathtubFit;
}

export interface BathtubResult {
  targetBer: number;
  lanes: LaneBathtub[];
  /** Thresholds gated, in the order measured. */
  thresholds: number[];
}

const CENTRE = 0.5;

/** The sweep: each side from its outermost threshold toward the centre; the threshold restored (read back). */
export async function runBathtub(ctx: StepContext, p: BathtubParams): Promise<BathtubResult> {
  const lanes = selectLanes(ctx, p.lanes);
  if (lanes.length === 0) throw new Error('bathtub: no lanes to measure');
  const thr = ctx.instruments.get('decision-threshold');
  await ensureOperatingDrive(ctx);
  const original = await thr.threshold(callOpts(ctx));
  const points = new Map<number, BathtubPoint[]>(lanes.map((l) => [l, []]));
  const thresholds: number[] = [];
  const gate = async (t: number, bits: number): Promise<number> => {
    await thr.setThreshold(t, callOpts(ctx));
    const c = await countErrors(ctx, {
      lanes,
      gateBits: Math.ceil(bits),
      rate: p.rate,
      pattern: p.pattern,
      pollMs: p.pollMs,
    });
    thresholds.push(t);
    lanes.forEach((l, i) => {
      if (!c.lost.has(i)) points.get(l)!.push({ t, bits: c.bits[i]!, errors: c.errors[i]! });
    });
    const bers = lanes.map((_, i) => (c.lost.has(i) ? 0.5 : c.errors[i]! / Math.max(1, c.bits[i]!)));
    const m = median(bers);
    ctx.log(
      'info',
      `bathtub: threshold ${t.toFixed(3)}, ${bits.toExponential(2)} bits, median BER ${m.toExponential(2)}`,
    );
    return m;
  };
  const [lo, hi] = thr.thresholdRange;
  // the threshold goes back where it was, read back: after the sweep, and after a failed or aborted one too
  const restore = async () => {
    const opts = ctx.signal.aborted ? { timeoutMs: 2000 } : callOpts(ctx);
    await thr.setThreshold(original, opts);
    const back = await thr.threshold(opts);
    if (Math.abs(back - original) > 1e-6)
      throw new Error(`bathtub: the decision threshold reads back ${back}, not ${original} as before the sweep`);
  };
  try {
    for (const side of ['low', 'high'] as const) {
      const dir = side === 'low' ? 1 : -1;
      const edge = side === 'low' ? lo : hi;
      for (let k = 0; ; k++) {
        const t = round(edge + dir * k * p.step);
        if (side === 'low' ? t >= CENTRE - 1e-9 : t <= CENTRE + 1e-9) break;
        const predicted = predictSizingBer(points, t, side, p);
        const bits = predicted === undefined ? p.probeBits : Math.max(p.probeBits, p.minErrors / predicted);
        if (bits > p.maxBits) break;
        const ber = await gate(t, bits);
        // a probe that counts nothing on the typical lane: this edge is beyond what the gates can reach
        if (predicted === undefined && ber === 0) break;
      }
    }
  } catch (err) {
    await restore().catch((e: unknown) => ctx.log('error', `bathtub: ${e instanceof Error ? e.message : String(e)}`));
    throw err;
  }
  await restore();
  return {
    targetBer: p.targetBer,
    thresholds,
    lanes: lanes.map((lane) => ({
      lane,
      points: points.get(lane)!,
      fit: fitBathtub(points.get(lane)!, {
        targetBer: p.targetBer,
        confidence: p.confidence,
        maxBer: p.maxBer,
        minErrors: Math.min(5, p.minErrors),
        centre: CENTRE,
      }),
    })),
  };
}

function round(t: number): number {
  return Math.round(t * 1e6) / 1e6;
}

/**
 * The BER at threshold t on one side of the lane that would count fewest errors there (the 90th percentile of the
 * lanes' Q), from that side's points so far; undefined while fewer than half the lanes have a line on that side.
 */
function predictSizingBer(
  points: Map<number, BathtubPoint[]>,
  t: number,
  side: 'low' | 'high',
  p: BathtubParams,
): number | undefined {
  const u = (x: number) => (side === 'low' ? x : 1 - x);
  const qs: number[] = [];
  for (const pts of points.values()) {
    const usable = pts.filter(
      (q) => (side === 'low' ? q.t < CENTRE : q.t > CENTRE) && q.errors >= 1 && q.errors / q.bits <= p.maxBer,
    );
    if (usable.length < 2) continue;
    const line = fitQLine(
      usable.map((q) => ({ u: u(q.t), bits: q.bits, errors: q.errors })),
      2,
    );
    if (line) qs.push(line.a + line.b * u(t));
  }
  // fewer than half the lanes have a line on this side yet: another probe-sized gate
  if (qs.length < points.size / 2) return undefined;
  qs.sort((a, b) => a - b);
  const q = qs[Math.min(qs.length - 1, Math.floor(0.9 * qs.length))]!;
  return q > 0 ? qToBer(q) / 2 : 0.5;
}

export const bathtubStep: StepDefinition<BathtubParams> = {
  type: 'bathtub',
  requires: ['current-source', 'pattern-generator', 'error-detector', 'decision-threshold'],
  description:
    'Eye opening per lane: the decision threshold swept across the eye, error-counted points, each edge fitted on the Q scale and extrapolated to the target BER',
  params: bathtubParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'eye_opening',
      unit: 'eye',
      description: `threshold range (fraction of the eye) over which the lane's BER is below ${p.targetBer} (fitted, Q scale)`,
      limits: { low: p.minOpening },
      dimensions: ['lane'],
    },
    {
      name: 'eye_opening_interval',
      unit: 'eye',
      description: `half-width of the opening's ${Math.round(p.confidence * 100)} % confidence interval`,
      dimensions: ['lane'],
    },
    {
      name: 'eye_opening_at_least',
      unit: 'eye',
      description: 'lanes with too few errors on an edge to fit ("better than"): the opening is at least this',
      dimensions: ['lane'],
    },
    {
      name: 'threshold_low_edge',
      unit: 'eye',
      description: `threshold below the centre where the lane reaches ${p.targetBer}`,
      dimensions: ['lane'],
    },
    {
      name: 'threshold_high_edge',
      unit: 'eye',
      description: `threshold above the centre where the lane reaches ${p.targetBer}`,
      dimensions: ['lane'],
    },
    {
      name: 'bathtub_ber',
      unit: '',
      description: 'BER counted per lane at each decision threshold (at.threshold)',
      dimensions: ['lane'],
    },
    {
      name: 'bathtub_lanes_floor',
      unit: 'count',
      description: 'lanes whose errors do not fall toward the centre of the eye',
      dimensions: [],
      limits: { high: 0 },
    },
    {
      name: 'worst_eye_opening',
      unit: 'eye',
      description: 'the smallest fitted opening over the lanes',
      dimensions: [],
      limits: { low: p.minOpening },
    },
  ],
  async run(ctx, p) {
    const r = await runBathtub(ctx, p);
    ctx.shared.set(SHARED.bathtub, r);
    const lanes = r.lanes.map((l) => l.lane);
    measureCountedBer(
      ctx,
      'bathtub_ber',
      r.lanes,
      (q) => q.t,
      r.thresholds,
      (t) => ({ threshold: t }),
    );
    // fitted lanes and floors are judged (a floor has no value, so it fails); "better than" lanes apart
    const judged = r.lanes.filter((l) => l.fit.status !== 'better-than');
    const judgedLanes = judged.map((l) => l.lane);
    const opening = judged.map((l) => finite(l.fit.opening ?? undefined));
    ctx.measure('eye_opening', { lanes: judgedLanes, values: opening });
    ctx.lanesFrame('eye_opening', 'eye', { lanes: judgedLanes, values: opening });
    ctx.measure('eye_opening_interval', {
      lanes: judgedLanes,
      values: judged.map((l) => finite(l.fit.halfWidth ?? undefined)),
    });
    const clean = r.lanes.filter((l) => l.fit.status === 'better-than');
    ctx.measure('eye_opening_at_least', {
      lanes: clean.map((l) => l.lane),
      values: clean.map((l) => finite(l.fit.atLeast)),
    });
    ctx.measure('threshold_low_edge', {
      lanes,
      values: r.lanes.map((l) => finite(l.fit.low.threshold ?? undefined)),
    });
    ctx.measure('threshold_high_edge', {
      lanes,
      values: r.lanes.map((l) => finite(l.fit.high.threshold ?? undefined)),
    });
    const floors = r.lanes.filter((l) => l.fit.status === 'floor').map((l) => l.lane);
    if (floors.length) ctx.log('warn', `bathtub: error floor on lanes ${floors.join(', ')}`);
    if (clean.length)
      ctx.log('info', `bathtub: too few errors to fit an edge on lanes ${clean.map((l) => l.lane).join(', ')}`);
    ctx.measure('bathtub_lanes_floor', floors.length);
    const fitted = opening.filter((v): v is number => v !== null);
    ctx.measure('worst_eye_opening', fitted.length ? Math.min(...fitted) : null);
  },
};
