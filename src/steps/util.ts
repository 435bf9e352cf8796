/**
 * Small helpers shared by the steps: call options, statistics, unit conversions, lane bookkeeping and the
 * keys under which steps leave results for later ones in ctx.shared.
 */

import { median } from '../core/robust.ts';
import type { CallOptions } from '../instruments/capabilities.ts';
import type { StepContext } from '../orchestrator/step.ts';

/** Keys in ctx.shared. Values are written by one step and read by later ones. */
export const SHARED = {
  /** DriveState: the operating point (bias and modulation per lane) as first read in the run. */
  operatingPoint: 'steps.operatingPoint',
  /** LaneMapResult from lane-map. */
  laneMap: 'steps.laneMap',
  /** LiSweepResult from li-sweep. */
  liSweep: 'steps.liSweep',
  /** CrosstalkResult from crosstalk. */
  crosstalk: 'steps.crosstalk',
  /** BerResult from the latest ber step. */
  ber: 'steps.ber',
  /** Energy-per-bit figures. */
  energy: 'steps.energy',
  /** WaterfallResult from the latest waterfall step. */
  waterfall: 'steps.waterfall',
  /** BathtubResult from the latest bathtub step. */
  bathtub: 'steps.bathtub',
  /** OpenShortResult from the open-short step. */
  openShort: 'steps.openShort',
  /** BurnInResult from the latest burn-in step. */
  burnIn: 'steps.burnIn',
  /** True once the operating point has been applied to the light source in this run. */
  driveApplied: 'steps.driveApplied',
} as const;

export function callOpts(ctx: StepContext): CallOptions {
  return { signal: ctx.signal };
}

export { median };

export function wattsToDbm(w: number): number {
  return w > 0 ? 10 * Math.log10(w / 1e-3) : Number.NEGATIVE_INFINITY;
}

/** dB of a power ratio; -Infinity for zero. */
export function ratioDb(r: number): number {
  return r > 0 ? 10 * Math.log10(r) : Number.NEGATIVE_INFINITY;
}

/** A number for the record: non-finite values become null. */
export function finite(x: number | undefined): number | null {
  return x !== undefined && Number.isFinite(x) ? x : null;
}

export function sortedUnique(lanes: Iterable<number>): number[] {
  return [...new Set(lanes)].sort((a, b) => a - b);
}

/** Receiver lane that sees the light of a transmitter lane (identity until lane-map says otherwise). */
export function rxOf(ctx: StepContext, tx: number): number {
  const map = ctx.shared.get(SHARED.laneMap) as { rxOf?: Map<number, number> } | undefined;
  return map?.rxOf?.get(tx) ?? tx;
}

/** Active transmitter lanes that are not known dead (the ones a step should exercise). */
export function liveActiveLanes(ctx: StepContext): number[] {
  return ctx.lanes.active().filter((l) => !ctx.lanes.dead.has(l));
}

/** Lane selector used by several steps' params. */
export function selectLanes(ctx: StepContext, which: 'active' | 'all' | readonly number[]): number[] {
  if (Array.isArray(which)) return sortedUnique(which as number[]);
  if (which === 'all') return ctx.geometry.all.filter((l) => !ctx.lanes.dead.has(l));
  return sortedUnique(liveActiveLanes(ctx));
}

export function markFailed(ctx: StepContext, lanes: Iterable<number>, reason: string): void {
  for (const l of lanes) if (!ctx.lanes.failed.has(l)) ctx.lanes.failed.set(l, reason);
}

/** The drive state of the light source: bias, modulation and output per lane. */
export interface DriveState {
  lanes: number[];
  bias: number[];
  mod: number[];
}

/**
 * The run's operating point: read from the light source the first time a step needs it and kept in ctx.shared,
 * so steps that change the drive (L-I, margins) can restore it and later steps still know it.
 */
export async function operatingPoint(ctx: StepContext): Promise<DriveState> {
  const known = ctx.shared.get(SHARED.operatingPoint) as DriveState | undefined;
  if (known) return known;
  const src = ctx.instruments.get('current-source');
  const lanes = [...ctx.geometry.all];
  let op: DriveState;
  if (src.operatingPoint) {
    // configuration (station file): the board itself sits at 0 A after the previous run's safe state
    const { biasA, modA } = src.operatingPoint;
    op = { lanes, bias: lanes.map(() => biasA), mod: lanes.map(() => modA) };
  } else {
    const bias = await src.getBias(lanes, callOpts(ctx));
    const mod = await src.getModulation(lanes, callOpts(ctx));
    if (bias.every((b) => b === 0) && mod.every((m) => m === 0)) {
      throw new Error(
        'the LED driver reports 0 A on every lane and the station gives no operating point: ' +
          'set instruments.led-driver.operating { biasA, modA } in the station file',
      );
    }
    op = { lanes, bias, mod };
  }
  ctx.shared.set(SHARED.operatingPoint, op);
  return op;
}

/**
 * Puts every lane at the operating point once per run, before the first step that needs light: a run starts
 * from the previous run's safe state (outputs off, 0 A).
 */
export async function ensureOperatingDrive(ctx: StepContext): Promise<{ op: DriveState; roundTrips: number }> {
  // reading the operating point from the board (no station operating point) takes two queries
  const reads = ctx.shared.has(SHARED.operatingPoint) || ctx.instruments.get('current-source').operatingPoint ? 0 : 2;
  const op = await operatingPoint(ctx);
  let roundTrips = reads;
  if (!ctx.shared.get(SHARED.driveApplied)) {
    roundTrips += await restoreDrive(ctx, op);
    ctx.shared.set(SHARED.driveApplied, true);
  }
  return { op, roundTrips };
}

/** Mean drive current (bias + mod/2) at the operating point: the typical lane's I_op. */
export function typicalOperatingCurrent(op: DriveState): number {
  const i = op.lanes.map((_, k) => op.bias[k] + 0.5 * op.mod[k]).filter((x) => x > 0);
  return median(i);
}

/**
 * Restores bias then modulation (bias first, so bias + modulation never passes the limit on the way). Returns the
 * number of instrument round trips it took.
 */
export async function restoreDrive(ctx: StepContext, op: DriveState): Promise<number> {
  const src = ctx.instruments.get('current-source');
  await src.setModulation(op.lanes, 0, callOpts(ctx));
  await src.setBias(op.lanes, op.bias, callOpts(ctx));
  await src.setModulation(op.lanes, op.mod, callOpts(ctx));
  return 3;
}

export function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** Least-squares line y = a + b·x. */
export function fitLine(xs: readonly number[], ys: readonly number[]): { slope: number; intercept: number } {
  const n = xs.length;
  if (n < 2) return { slope: Number.NaN, intercept: Number.NaN };
  let sx = 0;
  let sy = 0;
  for (let i = 0; i < n; i++) {
    sx += xs[i];
    sy += ys[i];
  }
  const mx = sx / n;
  const my = sy / n;
  let sxx = 0;
  let sxy = 0;
  for (let i = 0; i < n; i++) {
    sxx += (xs[i] - mx) ** 2;
    sxy += (xs[i] - mx) * (ys[i] - my);
  }
  const slope = sxx > 0 ? sxy / sxx : Number.NaN;
  return { slope, intercept: my - slope * mx };
}

/** Linear interpolation of y at x over a sorted x grid (clamped at the ends). */
export function interpolate(xs: readonly number[], ys: readonly number[], x: number): number {
  if (xs.length === 0) return Number.NaN;
  if (x <= xs[0]) return ys[0];
  for (let i = 1; i < xs.length; i++) {
    if (x <= xs[i]) {
      const t = (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
      return ys[i - 1] + t * (ys[i] - ys[i - 1]);
    }
  }
  return ys[ys.length - 1];
}

/**
 * The BER counted at each level of a sweep (waterfall levels, bathtub thresholds), one lane measurement per level
 * at its coordinate: each lane's errors/bits there, null where the lane has no point at that level.
 */
export function measureCountedBer<P extends { bits: number; errors: number }>(
  ctx: StepContext,
  name: string,
  lanes: readonly { lane: number; points: readonly P[] }[],
  levelOf: (p: P) => number,
  levels: readonly number[],
  coordinate: (level: number) => Record<string, number>,
): void {
  const laneNumbers = lanes.map((l) => l.lane);
  for (const level of [...new Set(levels)].sort((a, b) => a - b)) {
    ctx.measure(
      name,
      {
        lanes: laneNumbers,
        values: lanes.map((l) => {
          const pt = l.points.find((q) => levelOf(q) === level);
          return pt ? pt.errors / Math.max(1, pt.bits) : null;
        }),
      },
      coordinate(level),
    );
  }
}
