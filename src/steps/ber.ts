/**
 * Q5 per-lane BER at a confidence level. Configures every tested lane with channel lists (rate, PRBS pattern
 * with decorrelated seeds, outputs on, checker pattern), sizes one gate for zero errors at the target BER
 * (n = −ln(1−CL)/BER bits, 3/BER at 95 %), runs it on all lanes at once, polls it, then reads every lane's
 * counters in one query and reports the Poisson upper bound per lane. Lanes without signal or sync fail fast:
 * they are reported with an upper bound of 1, and when no lane is left the gate is stopped.
 * The poll follows the instrument's own clock: the first look comes after 1 ms, and each next one when the
 * bits counted so far say the gate will end (at most pollMs later), so a gate ends the wait as soon as it
 * ends, whatever the instrument's time scale.
 */

import { performance } from 'node:perf_hooks';
import { z } from 'zod';
import { timerMs } from '../config/durations.ts';
import { berUpperBound, bitsForConfidence } from '../core/ber.ts';
import { type ErrorDetector, PATTERNS, type Pattern } from '../instruments/capabilities.ts';
import type { StepContext, StepDefinition } from '../orchestrator/step.ts';
import { setPrbs } from './patterns.ts';
import { callOpts, ensureOperatingDrive, finite, markFailed, rxOf, SHARED, selectLanes } from './util.ts';

export const berParams = z.strictObject({
  /** Lane rate, bit/s; default the light source's current rate. */
  rate: z.number().positive().optional(),
  pattern: z.enum(PATTERNS as [Pattern, ...Pattern[]]).default('PRBS31'),
  targetBer: z.number().gt(0).lt(1).default(1e-9),
  confidence: z.number().gt(0).lt(1).default(0.95),
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('active'),
  /**
   * Extra bits on top of −ln(1−CL)/BER, so that an instrument counting a few bits short of the nominal gate
   * (timing granularity) cannot push a zero-error bound above the target.
   */
  gateMargin: z.number().min(1).max(2).default(1.02),
  /** Longest real-time interval between two polls of the gate, ms. */
  pollMs: timerMs().int().min(1).max(10_000).default(200),
  /** Mark failing lanes in ctx.lanes.failed (for remap). */
  markFailed: z.boolean().default(true),
});
export type BerParams = z.infer<typeof berParams>;

export interface BerScreenOptions {
  lanes: readonly number[];
  rate?: number;
  pattern: Pattern;
  targetBer: number;
  confidence: number;
  pollMs: number;
  gateMargin?: number;
}

export interface BerResult {
  lanes: number[];
  rate: number;
  pattern: Pattern;
  targetBer: number;
  confidence: number;
  gateBits: number;
  gateSeconds: number;
  bits: number[];
  errors: number[];
  upperBound: number[];
  /** Lanes (transmitter numbering) that had no signal or lost pattern sync. */
  syncLost: number[];
  failing: number[];
}

/** The first look at a running gate, real ms. */
const FIRST_POLL_MS = 1;

/**
 * When to look at a gate next, real ms: when the bits counted so far, at the pace they came, reach the gate's
 * (the instrument's clock, whatever its time scale), within [1, maxMs]; without a count yet, twice the last wait.
 */
export function nextPollMs(
  counted: number,
  gateBits: number,
  elapsedMs: number,
  lastMs: number,
  maxMs: number,
): number {
  if (!(counted > 0)) return Math.min(maxMs, lastMs * 2);
  const remainingMs = (elapsedMs * (gateBits - counted)) / counted;
  return Math.min(maxMs, Math.max(1, remainingMs));
}

/** Bits and gate time for a zero-error result at the target BER and confidence. */
export function gateFor(
  targetBer: number,
  confidence: number,
  rate: number,
  margin = 1,
): { bits: number; seconds: number } {
  const bits = Math.ceil(bitsForConfidence(targetBer, confidence, 0) * margin);
  return { bits, seconds: bits / rate };
}

/** Bits and errors counted on each lane of a gate (transmitter lanes, in the order asked), and the lanes that lost sync. */
export interface ErrorCounts {
  lanes: number[];
  rate: number;
  bits: number[];
  errors: number[];
  /** Indexes (into `lanes`) of lanes without signal or pattern sync. */
  lost: Set<number>;
}

/**
 * Counts errors on the given transmitter lanes (read at their mapped receiver lanes) over a gate of `gateBits` bits
 * each, with the pattern on: the drive as it stands (the caller sets it), outputs on. An error detector that counts
 * fewer lanes in a gate than asked (a BERT with a few channels behind a switch) takes the lanes in batches of its
 * `maxLanesPerGate`, one gate each; a receiver with a counter per lane takes them in one.
 */
export async function countErrors(
  ctx: StepContext,
  o: { lanes: readonly number[]; gateBits: number; rate?: number; pattern: Pattern; pollMs: number },
): Promise<ErrorCounts> {
  const src = ctx.instruments.get('current-source');
  const gen = ctx.instruments.get('pattern-generator');
  const rx = ctx.instruments.get('error-detector');
  const lanes = [...o.lanes];
  const opts = callOpts(ctx);
  const rate = o.rate ?? (await gen.getRate(opts));
  const out: ErrorCounts = { lanes, rate, bits: [], errors: [], lost: new Set() };
  if (lanes.length === 0) return out;
  if (o.rate !== undefined) await gen.setRate(rate, opts);
  await setPrbs(gen, lanes, o.pattern, ctx.geometry, opts);
  await src.setOutput(lanes, true, opts);
  const seconds = o.gateBits / rate;
  const batch = Math.min(lanes.length, Math.max(1, rx.maxLanesPerGate));
  const batches = Math.ceil(lanes.length / batch);
  ctx.log(
    'info',
    `BER gate: ${o.gateBits.toExponential(3)} bits per lane = ${seconds.toFixed(3)} s at ${rate} bit/s` +
      (batches > 1 ? `, ${batches} gates of up to ${batch} lanes` : ''),
  );
  let errorsBefore = 0;
  for (let k = 0; k < batches; k++) {
    const idx = lanes.map((_, i) => i).slice(k * batch, (k + 1) * batch);
    const counts = await gateOnce(ctx, rx, o, {
      lanes: idx.map((i) => lanes[i]!),
      rxLanes: idx.map((i) => rxOf(ctx, lanes[i]!)),
      gateBits: o.gateBits,
      seconds,
      progress: { done: k * o.gateBits, total: batches * o.gateBits, errors: errorsBefore },
    });
    idx.forEach((i, j) => {
      out.bits[i] = counts.bits[j]!;
      out.errors[i] = counts.errors[j]!;
      if (counts.lost.has(j)) out.lost.add(i);
    });
    errorsBefore += errorsWithSync(counts.errors, counts.lost);
  }
  ctx.progress(batches * o.gateBits, batches * o.gateBits, 'bits', { errors: errorsBefore, etaS: 0 });
  return out;
}

/**
 * One BER screen on the given transmitter lanes at the operating drive: a gate sized for zero errors at the target
 * BER and confidence, each lane's Poisson upper bound at the confidence level.
 */
export async function runBerScreen(ctx: StepContext, o: BerScreenOptions): Promise<BerResult> {
  const lanes = [...o.lanes];
  const rate = o.rate ?? (await ctx.instruments.get('pattern-generator').getRate(callOpts(ctx)));
  const { bits: gateBits, seconds } = gateFor(o.targetBer, o.confidence, rate, o.gateMargin ?? 1);
  const result: BerResult = {
    lanes,
    rate,
    pattern: o.pattern,
    targetBer: o.targetBer,
    confidence: o.confidence,
    gateBits,
    gateSeconds: seconds,
    bits: [],
    errors: [],
    upperBound: [],
    syncLost: [],
    failing: [],
  };
  if (lanes.length === 0) return result;
  await ensureOperatingDrive(ctx);
  const c = await countErrors(ctx, { lanes, gateBits, rate: o.rate, pattern: o.pattern, pollMs: o.pollMs });
  result.bits = c.bits;
  result.errors = c.errors;
  result.upperBound = lanes.map((_, i) =>
    c.lost.has(i) ? 1 : berUpperBound(result.bits[i]!, result.errors[i]!, o.confidence),
  );
  result.syncLost = [...c.lost].sort((a, b) => a - b).map((i) => lanes[i]!);
  result.failing = lanes.filter((_, i) => !(result.upperBound[i]! <= o.targetBer));
  return result;
}

/** Errors summed over the lanes that kept sync (a lane without sync counts noise, not errors of the link). */
function errorsWithSync(errors: readonly number[], lost: ReadonlySet<number>): number {
  let n = 0;
  errors.forEach((e, i) => {
    if (!lost.has(i) && Number.isFinite(e)) n += e;
  });
  return n;
}

/**
 * One gate on lanes the detector counts at once: returns bits, errors and the lanes (by index) without sync.
 * Each poll reads every lane's counters (one query) and reports the gate's progress: bits counted against the
 * gate, errors so far (the earlier gates' and this one's, lanes with sync) and the time left at the pace counted.
 */
async function gateOnce(
  ctx: StepContext,
  rx: ErrorDetector,
  o: { pattern: Pattern; pollMs: number },
  g: {
    lanes: number[];
    rxLanes: number[];
    gateBits: number;
    seconds: number;
    progress: { done: number; total: number; errors: number };
  },
): Promise<{ bits: number[]; errors: number[]; lost: Set<number> }> {
  const opts = callOpts(ctx);
  const { lanes, rxLanes, gateBits } = g;
  await rx.setCheckerPattern(rxLanes, o.pattern, opts);
  const lost = new Set<number>();
  const los = await rx.lossOfSignal(rxLanes, opts);
  los.forEach((x, i) => {
    if (x) lost.add(i);
  });
  if (lost.size) ctx.log('warn', `BER: loss of signal on ${[...lost].map((i) => lanes[i]).join(', ')}`);
  await rx.startGate(g.seconds, opts);
  const gateStarted = performance.now();
  let waitMs = FIRST_POLL_MS;
  try {
    for (;;) {
      await ctx.sleep(waitMs);
      const running = await rx.gateRunning(opts);
      const sync = await rx.syncStatus(rxLanes, opts);
      sync.forEach((s, i) => {
        if (!s && !lost.has(i)) {
          lost.add(i);
          ctx.log('warn', `BER: lane ${lanes[i]} lost pattern sync`);
        }
      });
      if (!running) break;
      if (lost.size === lanes.length) {
        ctx.log('error', 'BER: every lane lost sync; stopping the gate');
        await rx.stopGate(opts);
        break;
      }
      const probe = lanes.findIndex((_, i) => !lost.has(i));
      const c = await rx.readCounters(rxLanes, opts);
      const counted = Math.min(gateBits, c.bits[probe] ?? 0);
      const elapsedMs = performance.now() - gateStarted;
      const done = g.progress.done + counted;
      ctx.progress(done, g.progress.total, 'bits', {
        errors: g.progress.errors + errorsWithSync(c.errors.slice(0, lanes.length), lost),
        ...(counted > 0 ? { etaS: (elapsedMs / 1000 / counted) * (g.progress.total - done) } : {}),
      });
      waitMs = nextPollMs(counted, gateBits, elapsedMs, waitMs, o.pollMs);
    }
  } catch (err) {
    if (ctx.signal.aborted) await rx.stopGate({ timeoutMs: 1000 }).catch(() => undefined);
    throw err;
  }
  const c = await rx.readCounters(rxLanes, opts);
  return { bits: c.bits.slice(0, lanes.length), errors: c.errors.slice(0, lanes.length), lost };
}

export function berMeasurements(targetBer: number) {
  return [
    {
      name: 'ber_upper_bound',
      unit: '',
      description: 'BER upper bound at the confidence level',
      summary: 'ber-bound' as const,
      limits: { high: targetBer },
      dimensions: ['lane' as const],
    },
    { name: 'ber_bits', unit: 'bits', description: 'bits counted per lane', dimensions: ['lane' as const] },
    { name: 'ber_errors', unit: 'count', description: 'errors counted per lane', dimensions: ['lane' as const] },
    { name: 'gate_bits', unit: 'bits', description: 'gate length for zero errors at the target', dimensions: [] },
    {
      name: 'lanes_sync_lost',
      unit: 'count',
      description: 'lanes without signal or pattern sync (each fails per lane with an upper bound of 1)',
      dimensions: [],
    },
  ];
}

/** Records a BER result as the ber step's measurements and streams the per-lane frame. */
export function recordBer(ctx: StepContext, r: BerResult): void {
  const lanes = r.lanes;
  ctx.lanesFrame('ber_upper_bound', '', { lanes, values: r.upperBound.map((v) => finite(v)) });
  ctx.measure('gate_bits', r.gateBits);
  ctx.measure('ber_upper_bound', { lanes, values: r.upperBound.map((v) => finite(v)) });
  ctx.measure('ber_bits', { lanes, values: r.bits.map((v) => finite(v)) });
  ctx.measure('ber_errors', { lanes, values: r.errors.map((v) => finite(v)) });
  ctx.measure('lanes_sync_lost', r.syncLost.length);
}

export const berStep: StepDefinition<BerParams> = {
  type: 'ber',
  requires: ['current-source', 'pattern-generator', 'error-detector'],
  description: 'Per-lane BER upper bound at a confidence level, as many lanes per gate as the error detector counts',
  params: berParams,
  laneParams: ['lanes'],
  measurements: (p) => berMeasurements(p.targetBer),
  async run(ctx, params) {
    const lanes = selectLanes(ctx, params.lanes);
    const r = await runBerScreen(ctx, { ...params, lanes });
    ctx.shared.set(SHARED.ber, r);
    recordBer(ctx, r);
    if (r.failing.length) {
      ctx.log('warn', `BER above ${params.targetBer} at ${params.confidence * 100} %: lanes ${r.failing.join(', ')}`);
      if (params.markFailed) {
        markFailed(
          ctx,
          r.failing.filter((l) => !r.syncLost.includes(l)),
          `BER above ${params.targetBer}`,
        );
        markFailed(ctx, r.syncLost, 'BER: no signal or pattern sync');
      }
    }
  },
};
