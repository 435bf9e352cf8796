/**
 * Q10 margins on the active lanes:
 * - drive (optical) margin, `driveMethod: waterfall` (default): read from each lane's fitted waterfall at the target
 *   BER (src/steps/waterfall.ts): the worst fitted lane's margin; lanes too good to fit do not decide it, a floor
 *   fails it. `driveMethod: screen`: lower I_mod in `stepDb` steps until a zero-error screen fails; the margin is
 *   the last passing step (a lower bound of maxSteps·stepDb if it never fails) — note that a zero-error screen
 *   across many lanes finds the first error on any lane, not where the BER reaches the target;
 * - rate margin, `rateMethod: fit` (default): raise the lane rate from nominal in `rateStep` steps, counting errors at
 *   the operating drive in gates long enough to count `rateMinErrors` at the target BER, until the typical lane is
 *   past the knee or `maxRate`; each lane's Q is fitted against the rate (src/core/waterfall.ts fitQLine) and the
 *   rate where it reaches the target BER read from the line; the worst lane's rate is the margin. A lane whose
 *   errors jump past the fit's range between two steps gives its last clean rate (the last pass, never the first
 *   failure). `rateMethod: screen`: zero-error screens, the highest passing rate.
 * The operating point and the nominal rate are restored at the end.
 */

import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { fitQLine, type QPoint } from '../core/waterfall.ts';
import { PATTERNS, type Pattern } from '../instruments/capabilities.ts';
import type { StepContext, StepDefinition } from '../orchestrator/step.ts';
import { countErrors, runBerScreen } from './ber.ts';
import { callOpts, ensureOperatingDrive, finite, median, operatingPoint, restoreDrive, selectLanes } from './util.ts';
import { runWaterfall, waterfallParams } from './waterfall.ts';

export const marginsParams = z.strictObject({
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  targetBer: z.number().gt(0).lt(1).default(1e-9),
  confidence: z.number().gt(0).lt(1).default(0.95),
  pollMs: timerMs().int().min(1).default(200),
  gateMargin: z.number().min(1).max(2).default(1.02),
  drive: z.boolean().default(true),
  /** How the drive margin is measured: a fitted waterfall (error-counted), or zero-error screens (last pass). */
  driveMethod: z.enum(['waterfall', 'screen']).default('waterfall'),
  stepDb: z.number().positive().default(0.5),
  maxSteps: z.number().int().min(1).max(200).default(20),
  minMarginDb: z.number().default(3),
  rate: z.boolean().default(true),
  /** How the rate margin is measured: Q fitted against the rate (error-counted), or zero-error screens. */
  rateMethod: z.enum(['fit', 'screen']).default('fit'),
  /** Errors a rate point's gate is sized to count at the target BER (fit). */
  rateMinErrors: z.number().int().min(1).default(20),
  /** Longest gate per rate point, bits per lane (fit). */
  rateMaxBits: z.number().positive().default(1e11),
  /** Rate points whose typical lane is above this BER are past the knee: the walk stops there (fit). */
  rateMaxBer: z.number().gt(0).lt(0.5).default(1e-3),
  /** Nominal rate; default the light source's current rate. */
  rateNominal: z.number().positive().optional(),
  maxRate: z.number().positive().default(4e9),
  rateStep: z.number().positive().default(0.25e9),
  /** Limit: highest passing rate must reach this (e.g. 2.5e9 for MOSAIC, domain Q10c). */
  minRate: z.number().positive().default(2.5e9),
});
export type MarginsParams = z.infer<typeof marginsParams>;

export const marginsStep: StepDefinition<MarginsParams> = {
  type: 'margins',
  requires: ['current-source', 'pattern-generator', 'error-detector'],
  description: 'Drive-current (optical) margin and rate margin with a BER screen on the active lanes',
  params: marginsParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    ...(p.drive
      ? [
          {
            name: 'drive_margin_db',
            unit: 'dB',
            description:
              p.driveMethod === 'waterfall'
                ? `worst lane's fitted margin to BER ${p.targetBer}: 10·log10(I_mod_op / I_mod at the target)`
                : '10·log10(I_mod_op / I_mod) at the last passing screen (the one before the first failure)',
            limits: { low: p.minMarginDb },
            dimensions: [],
          },
          ...(p.driveMethod === 'waterfall'
            ? [
                {
                  name: 'drive_margin_lane_db',
                  unit: 'dB',
                  description: `each fitted lane's margin to BER ${p.targetBer}`,
                  limits: { low: p.minMarginDb },
                  dimensions: ['lane' as const],
                },
              ]
            : []),
          ...(p.driveMethod === 'screen'
            ? [
                {
                  name: 'drive_worst_ber',
                  unit: '',
                  description: 'worst lane BER upper bound at each drive reduction (at.drive_db)',
                  dimensions: ['point' as const],
                },
              ]
            : []),
        ]
      : []),
    ...(p.rate
      ? [
          {
            name: 'rate_max_passing',
            unit: 'bit/s',
            description:
              p.rateMethod === 'fit'
                ? `the worst lane's rate at BER ${p.targetBer}, read from its Q fitted against the rate`
                : 'highest lane rate at which the BER screen passes',
            limits: { low: p.minRate },
            dimensions: [],
          },
          ...(p.rateMethod === 'fit'
            ? [
                {
                  name: 'rate_lane_bps',
                  unit: 'bit/s',
                  description: `each lane's rate at BER ${p.targetBer} (fitted; its last clean rate where not fitted)`,
                  limits: { low: p.minRate },
                  dimensions: ['lane' as const],
                },
              ]
            : []),
          {
            name: 'rate_worst_ber',
            unit: '',
            description:
              p.rateMethod === 'fit'
                ? 'worst lane BER at each rate (counted; a zero-error lane by its upper bound) (at.rate)'
                : 'worst lane BER upper bound at each rate (at.rate)',
            dimensions: ['rate' as const],
          },
        ]
      : []),
  ],
  async run(ctx, params) {
    const src = ctx.instruments.get('current-source');
    const gen = ctx.instruments.get('pattern-generator');
    const lanes = selectLanes(ctx, params.lanes);
    if (lanes.length === 0) throw new Error('margins: no lanes to test');
    const screen = (rate?: number) =>
      runBerScreen(ctx, {
        lanes,
        rate,
        pattern: params.pattern,
        targetBer: params.targetBer,
        confidence: params.confidence,
        pollMs: params.pollMs,
        gateMargin: params.gateMargin,
      });
    const worst = (ub: number[]) => ub.reduce((m, v) => Math.max(m, v), 0);

    if (params.drive && params.driveMethod === 'waterfall') {
      const w = await runWaterfall(ctx, {
        ...waterfallParams.parse({}),
        // the drive margin is a margin of the modulation current, whatever else the station could attenuate
        axis: 'modulation',
        lanes,
        pattern: params.pattern,
        targetBer: params.targetBer,
        confidence: params.confidence,
        stepDb: params.stepDb,
        maxDb: params.maxSteps * params.stepDb,
        pollMs: params.pollMs,
      });
      const fitted = w.lanes.filter((l) => l.fit.status !== 'better-than');
      const margins = fitted.map((l) => (l.fit.status === 'fit' ? -l.fit.xAtTarget! : null));
      ctx.measure('drive_margin_lane_db', {
        lanes: fitted.map((l) => l.lane),
        values: margins.map((m) => finite(m ?? undefined)),
      });
      const worstMargin =
        margins.some((m) => m === null) || margins.length === 0 ? null : Math.min(...(margins as number[]));
      ctx.log(
        'info',
        `drive margin to ${params.targetBer}: ${worstMargin === null ? 'none (a lane has an error floor)' : `${worstMargin.toFixed(2)} dB (worst fitted lane)`}`,
      );
      ctx.measure('drive_margin_db', worstMargin);
    } else if (params.drive) {
      const op = await operatingPoint(ctx);
      const modOp = lanes.map((l) => op.mod[op.lanes.indexOf(l)]);
      let margin: number | undefined;
      try {
        for (let k = 1; k <= params.maxSteps; k++) {
          const db = k * params.stepDb;
          const scale = 10 ** (-db / 10);
          await src.setModulation(
            lanes,
            modOp.map((m) => m * scale),
            callOpts(ctx),
          );
          const r = await screen();
          ctx.measure('drive_worst_ber', finite(worst(r.upperBound)), { drive_db: -db, point: k });
          if (r.failing.length) {
            // the margin is the last point that passed, never the first that failed
            margin = db - params.stepDb;
            ctx.log(
              'info',
              `drive margin: screen fails at −${db.toFixed(2)} dB I_mod (lanes ${r.failing.slice(0, 10).join(', ')}${r.failing.length > 10 ? ', …' : ''}); last pass at −${(db - params.stepDb).toFixed(2)} dB`,
            );
            break;
          }
        }
      } finally {
        if (!ctx.signal.aborted) await restoreDrive(ctx, op);
      }
      if (margin === undefined) {
        margin = params.maxSteps * params.stepDb;
        ctx.log('info', `drive margin: no failure down to −${margin} dB; reporting that as a lower bound`);
      }
      ctx.measure('drive_margin_db', margin);
    }

    if (params.rate && params.rateMethod === 'fit') {
      await rateMarginByFit(ctx, params, lanes);
    } else if (params.rate) {
      const nominal = params.rateNominal ?? (await gen.getRate(callOpts(ctx)));
      let best: number | null = null;
      try {
        for (let k = 0; ; k++) {
          const rate = nominal + k * params.rateStep;
          if (rate > params.maxRate * (1 + 1e-9)) break;
          const r = await screen(rate);
          ctx.measure('rate_worst_ber', finite(worst(r.upperBound)), { rate });
          if (r.failing.length) {
            ctx.log('info', `rate margin: screen fails at ${rate} bit/s`);
            break;
          }
          best = rate;
        }
      } finally {
        if (!ctx.signal.aborted) await gen.setRate(nominal, callOpts(ctx));
      }
      ctx.measure('rate_max_passing', best);
    }
  },
};

/** The rate margin from Q fitted against the rate, lane by lane, at the operating drive. */
async function rateMarginByFit(ctx: StepContext, params: MarginsParams, lanes: number[]): Promise<void> {
  const gen = ctx.instruments.get('pattern-generator');
  const nominal = params.rateNominal ?? (await gen.getRate(callOpts(ctx)));
  const { op } = await ensureOperatingDrive(ctx);
  const points = new Map<number, QPoint[]>(lanes.map((l) => [l, []]));
  const bits = Math.min(params.rateMaxBits, params.rateMinErrors / params.targetBer);
  const bound = -Math.log(1 - params.confidence) / bits; // a zero-error gate's upper bound
  let highest = nominal;
  try {
    for (let k = 0; ; k++) {
      const rate = nominal + k * params.rateStep;
      if (rate > params.maxRate * (1 + 1e-9)) break;
      const c = await countErrors(ctx, { lanes, gateBits: bits, rate, pattern: params.pattern, pollMs: params.pollMs });
      highest = rate;
      const bers = lanes.map((l, i) => {
        if (c.lost.has(i)) return 0.5; // a lane out of sync counted nothing meaningful at this rate
        points.get(l)!.push({ u: rate, bits: c.bits[i]!, errors: c.errors[i]!, at: rate });
        return c.errors[i]! > 0 ? c.errors[i]! / Math.max(1, c.bits[i]!) : bound;
      });
      ctx.measure('rate_worst_ber', finite(Math.max(...bers)), { rate });
      const typical = median(bers);
      ctx.log(
        'info',
        `rate margin: ${rate} bit/s, ${bits.toExponential(2)} bits, median BER ${typical.toExponential(2)}`,
      );
      if (typical > params.rateMaxBer) break;
    }
  } finally {
    if (!ctx.signal.aborted) {
      await gen.setRate(nominal, callOpts(ctx));
      await restoreDrive(ctx, op);
    }
  }
  const perLane = lanes.map((lane) => {
    const pts = points.get(lane)!;
    const fit = fitQLine(
      pts,
      { targetBer: params.targetBer, confidence: params.confidence, maxBer: params.rateMaxBer, minErrors: 5 },
      'falling',
    );
    if (fit.status === 'fit') return { lane, rate: fit.uAtTarget, fitted: true };
    const firstBad = pts.find((p) => p.errors / p.bits > params.targetBer);
    if (fit.status === 'better-than' && !firstBad) return { lane, rate: null, fitted: false }; // clean throughout
    // errors that jumped past the fit's range between two steps, or a floor: the last clean rate, if any
    const clean = pts.filter((p) => p.errors === 0 && (!firstBad || p.u < firstBad.u)).map((p) => p.u);
    return { lane, rate: clean.length ? Math.max(...clean) : null, fitted: false, floor: fit.status === 'floor' };
  });
  const decided = perLane.filter((l) => l.rate !== null || l.floor || l.fitted);
  ctx.measure('rate_lane_bps', {
    lanes: decided.map((l) => l.lane),
    values: decided.map((l) => finite(l.rate ?? undefined)),
  });
  let margin: number | null;
  if (decided.length === 0) {
    margin = highest;
    ctx.log('info', `rate margin: no lane reached BER ${params.targetBer} up to ${highest} bit/s; a lower bound`);
  } else if (decided.some((l) => l.rate === null)) {
    margin = null;
    ctx.log(
      'info',
      `rate margin: none (lanes ${decided
        .filter((l) => l.rate === null)
        .map((l) => l.lane)
        .slice(0, 10)
        .join(', ')} fail at the nominal rate)`,
    );
  } else {
    const worstLane = decided.reduce((m, l) => (l.rate! < m.rate! ? l : m));
    margin = worstLane.rate;
    ctx.log(
      'info',
      `rate margin: ${(margin! / 1e9).toFixed(3)} Gb/s at BER ${params.targetBer} (lane ${worstLane.lane}, ${worstLane.fitted ? 'fitted' : 'its last clean rate'})`,
    );
  }
  ctx.measure('rate_max_passing', margin);
}
