/**
 * Q2 lane map. Which receiver lane sees each transmitter lane; dead lanes (no light), swapped lanes.
 *
 * Two methods:
 * - `coded` (default, few round trips): binary-coded lane sets (structured light). For each bit b of the lane
 *   index, light the lanes whose bit is 1, read every receiver lane in one query, then the complement. A receiver
 *   lane decodes its source from the signs of (set − complement) over the bits; it has a source when the
 *   smallest |set − complement| is above `deadFraction` of the typical peak. That finds swaps anywhere in the
 *   array in 2·⌈log2 n⌉ frames (18 for 400 lanes). Then a sparse grid (every `spacing`-th row and column lit
 *   together, spacing² frames) gives each lane's peak and the neighbour rows crosstalk needs, with the lit lanes
 *   far enough apart that their neighbourhoods do not overlap. Transmitter lanes the code does not resolve
 *   (dead, or a conflict) are walked one by one to confirm. 400 lanes: about 110 round trips instead of 1200.
 * - `walking`: one lane at a time, argmax of the receiver row (3 round trips per lane). The reference method.
 *
 * PD receivers are read with one photocurrent channel-list query per frame; CMOS receivers with one frame per
 * pattern, reduced to one spot per grid cell (sum above the dark frame, and the spot centroid).
 */

import { z } from 'zod';
import type { Frame } from '../instruments/capabilities.ts';
import type { LaneGeometry, StepContext, StepDefinition } from '../orchestrator/step.ts';
import { binaryCodedSets, sparseGrid } from './patterns.ts';
import { callOpts, ensureOperatingDrive, median, restoreDrive, SHARED, sortedUnique } from './util.ts';

export const laneMapParams = z.strictObject({
  /** Transmitter lanes to map: 'all' or a list of physical lanes. */
  lanes: z.union([z.literal('all'), z.array(z.number().int().min(1))]).default('all'),
  method: z.enum(['coded', 'walking']).default('coded'),
  /** Sparse-grid spacing for the crosstalk rows (coded method): lanes lit together are this far apart. */
  spacing: z.number().int().min(3).default(4),
  /** A lane whose light is below this fraction of the typical lane's is dead. */
  deadFraction: z.number().gt(0).lt(1).default(0.2),
  /** Absolute floor for "light", in receiver units (A for a PD receiver, counts for a CMOS frame). */
  minSignal: z.number().min(0).default(0),
  /** Light lanes with this DC bias (modulation 0) instead of the operating point; restored afterwards. */
  iOpA: z.number().positive().optional(),
});
export type LaneMapParams = z.infer<typeof laneMapParams>;

/** One lit pattern and what every receiver lane saw (above the dark reading), indexed by receiver lane − 1. */
export interface LitRow {
  lit: number[];
  row: number[];
}

export interface SpotCentroid {
  lane: number;
  x: number;
  y: number;
  sum: number;
  /** A pixel of the cell reads the 16-bit frame's top: the sensor clipped (full well or ADC), the sum is low. */
  saturated: boolean;
}

/** The top of a 16-bit frame pixel: a pixel there has clipped. */
export const FRAME_PIXEL_MAX = 0xffff;

export interface LaneMapResult {
  method: 'coded' | 'walking';
  /** Units of the rows: 'A' (photocurrent) or 'counts' (CMOS spot sums). */
  unit: 'A' | 'counts';
  /** Transmitter lane -> receiver lane, for every lane with light. */
  rxOf: Map<number, number>;
  /** Receiver lane -> transmitter lane. */
  sourceOf: Map<number, number>;
  mapped: number[];
  dead: number[];
  ambiguous: number[];
  swapped: [number, number][];
  /** Peak (own-lane) signal per transmitter lane, in `unit`, from a pattern where its neighbours were dark. */
  peak: Map<number, number>;
  /** Photocurrent at the mapped receiver per transmitter lane, A. */
  peakPhotocurrent: Map<number, number>;
  /** Sparse-grid (or walking-one) rows for crosstalk. */
  rows: LitRow[];
  /** Spot centroids (CMOS receiver) for the last sparse pass, in pixels. */
  centroids?: SpotCentroid[];
  /** Receiver lanes whose spot clipped (CMOS receiver): their sums, and the crosstalk from them, read low. */
  saturated: number[];
  roundTrips: number;
}

/** Sums and centroids of the spot in each grid cell of a frame, above a dark frame. */
export function frameSpots(frame: Frame, geometry: LaneGeometry, dark?: Frame): SpotCentroid[] {
  const { width, height, pixels } = frame;
  const px = width / geometry.cols;
  const py = height / geometry.rows;
  const n = geometry.rows * geometry.cols;
  const sum = new Float64Array(n);
  const sx = new Float64Array(n);
  const sy = new Float64Array(n);
  const clipped = new Uint8Array(n);
  for (let y = 0; y < height; y++) {
    const r = Math.min(geometry.rows - 1, Math.floor(y / py));
    for (let x = 0; x < width; x++) {
      const c = Math.min(geometry.cols - 1, Math.floor(x / px));
      const k = y * width + x;
      const cell = r * geometry.cols + c;
      if (pixels[k] >= FRAME_PIXEL_MAX) clipped[cell] = 1;
      const v = pixels[k] - (dark ? dark.pixels[k] : 0);
      if (v <= 0) continue;
      sum[cell] += v;
      sx[cell] += v * x;
      sy[cell] += v * y;
    }
  }
  const out: SpotCentroid[] = [];
  for (let r = 0; r < geometry.rows; r++) {
    for (let c = 0; c < geometry.cols; c++) {
      const cell = r * geometry.cols + c;
      const lane = geometry.laneAt(r, c);
      if (lane === undefined) continue;
      const s = sum[cell];
      out.push({
        lane,
        sum: s,
        x: s > 0 ? sx[cell] / s : Number.NaN,
        y: s > 0 ? sy[cell] / s : Number.NaN,
        saturated: clipped[cell] === 1,
      });
    }
  }
  return out;
}

/** Reads one receiver row: photocurrent (PD) or CMOS spot sums, over every receiver lane. */
class RowReader {
  roundTrips = 0;
  private darkRow: number[] | undefined;
  private darkFrame: Frame | undefined;
  private darkCurrent: number[] | undefined;
  lastCentroids: SpotCentroid[] | undefined;
  /** Receiver lanes whose spot clipped in any frame read. */
  readonly saturated = new Set<number>();
  readonly unit: 'A' | 'counts';

  constructor(
    private readonly ctx: StepContext,
    readonly rxLanes: number[],
  ) {
    this.unit = ctx.instruments.has('frame-camera') ? 'counts' : 'A';
  }

  async dark(): Promise<void> {
    this.darkRow = undefined;
    this.darkFrame = undefined;
    const camera = this.ctx.instruments.find('frame-camera');
    if (camera) {
      this.darkFrame = await camera.captureFrame(callOpts(this.ctx));
      this.roundTrips++;
      this.darkCurrent = await this.ctx.instruments
        .get('lane-power-monitor')
        .photocurrent(this.rxLanes, callOpts(this.ctx));
      this.roundTrips++;
    } else {
      this.darkRow = await this.rawPhotocurrent();
      this.darkCurrent = this.darkRow;
    }
  }

  private async rawPhotocurrent(): Promise<number[]> {
    const v = await this.ctx.instruments.get('lane-power-monitor').photocurrent(this.rxLanes, callOpts(this.ctx));
    this.roundTrips++;
    const row = new Array<number>(this.ctx.geometry.all.length).fill(0);
    this.rxLanes.forEach((l, i) => {
      row[l - 1] = v[i];
    });
    return row;
  }

  /** Row above dark, indexed by receiver lane − 1. */
  async read(): Promise<number[]> {
    const camera = this.ctx.instruments.find('frame-camera');
    if (camera) {
      const frame = await camera.captureFrame(callOpts(this.ctx));
      this.roundTrips++;
      const spots = frameSpots(frame, this.ctx.geometry, this.darkFrame);
      this.lastCentroids = spots;
      for (const sp of spots) if (sp.saturated) this.saturated.add(sp.lane);
      const row = new Array<number>(this.ctx.geometry.all.length).fill(0);
      for (const s of spots) row[s.lane - 1] = s.sum;
      return row;
    }
    const raw = await this.rawPhotocurrent();
    return raw.map((v, i) => Math.max(0, v - (this.darkRow?.[i] ?? 0)));
  }

  /** Photocurrent above dark: the row itself for a PD receiver, one extra query for a CMOS one. */
  async photocurrent(row: number[]): Promise<number[]> {
    if (this.unit === 'A') return row;
    const raw = await this.rawPhotocurrent();
    return raw.map((v, i) => {
      const k = this.rxLanes.indexOf(i + 1);
      return Math.max(0, v - (k >= 0 ? (this.darkCurrent?.[k] ?? 0) : 0));
    });
  }
}

/** Switches from the lit set `prev` to `next` with at most two channel-list commands. */
async function light(ctx: StepContext, prev: readonly number[], next: readonly number[]): Promise<number> {
  const src = ctx.instruments.get('current-source');
  const nextSet = new Set(next);
  const off = prev.filter((l) => !nextSet.has(l));
  const prevSet = new Set(prev);
  const on = next.filter((l) => !prevSet.has(l));
  let trips = 0;
  if (off.length) {
    await src.setOutput(off, false, callOpts(ctx));
    trips++;
  }
  if (on.length) {
    await src.setOutput(on, true, callOpts(ctx));
    trips++;
  }
  return trips;
}

function argmax(row: readonly number[]): number {
  let best = 0;
  for (let i = 1; i < row.length; i++) if (row[i] > row[best]) best = i;
  return best;
}

export async function mapLanes(ctx: StepContext, params: LaneMapParams): Promise<LaneMapResult> {
  const src = ctx.instruments.get('current-source');
  const geometry = ctx.geometry;
  const txLanes = params.lanes === 'all' ? [...geometry.all] : sortedUnique(params.lanes);
  const reader = new RowReader(ctx, [...geometry.all]);
  // The lanes need their drive: a run starts from the safe state (outputs off, 0 A), whatever ran before.
  const drive = await ensureOperatingDrive(ctx);
  const op = drive.op;
  const before = await src.getOutput(geometry.all, callOpts(ctx));
  let trips = 1 + drive.roundTrips;
  if (params.iOpA !== undefined) {
    await src.setModulation(txLanes, 0, callOpts(ctx));
    await src.setBias(txLanes, params.iOpA, callOpts(ctx));
    trips += 2;
  }
  await src.setOutput(geometry.all, false, callOpts(ctx));
  trips++;
  await reader.dark();

  const rxOf = new Map<number, number>();
  const sourceOf = new Map<number, number>();
  const ambiguous = new Set<number>();
  const peak = new Map<number, number>();
  const peakPhotocurrent = new Map<number, number>();
  const rows: LitRow[] = [];
  let lit: number[] = [];
  let frames = 0;
  const totalFrames =
    params.method === 'walking'
      ? txLanes.length
      : 2 * binaryCodedSets(txLanes).length + sparseGrid(geometry, txLanes, params.spacing).length;

  const show = async (next: number[]): Promise<number[]> => {
    trips += await light(ctx, lit, next);
    lit = next;
    const row = await reader.read();
    ctx.progress(++frames, Math.max(totalFrames, frames), 'frames');
    return row;
  };

  // Walks the given lanes one by one; maps each to the argmax of its row.
  const walk = async (lanes: readonly number[], ref: number | undefined): Promise<void> => {
    const walked: { lane: number; row: number[]; cur: number[] }[] = [];
    for (const lane of lanes) {
      const row = await show([lane]);
      walked.push({ lane, row, cur: await reader.photocurrent(row) });
    }
    const level = ref ?? median(walked.map((w) => w.row[argmax(w.row)]));
    for (const { lane, row, cur } of walked) {
      rows.push({ lit: [lane], row });
      const k = argmax(row);
      const p = row[k];
      if (!(p >= params.deadFraction * level) || p <= params.minSignal) continue;
      const rxLane = k + 1;
      const other = sourceOf.get(rxLane);
      if (other !== undefined && other !== lane) {
        ambiguous.add(lane);
        continue;
      }
      rxOf.set(lane, rxLane);
      sourceOf.set(rxLane, lane);
      peak.set(lane, p);
      peakPhotocurrent.set(lane, cur[k]);
    }
  };

  if (params.method === 'walking') {
    await walk(txLanes, undefined);
  } else {
    const sets = binaryCodedSets(txLanes);
    const diffs: number[][] = [];
    const totals = new Array<number>(geometry.all.length).fill(0);
    const brightest = new Array<number>(geometry.all.length).fill(0);
    for (const set of sets) {
      const on = await show(set.on);
      const off = await show(set.off);
      diffs.push(on.map((v, i) => v - off[i]));
      for (let i = 0; i < on.length; i++) {
        totals[i] += (on[i] + off[i]) / sets.length;
        brightest[i] = Math.max(brightest[i], on[i], off[i]);
      }
    }
    const ref = median(brightest.filter((v) => v > params.minSignal));
    const claims = new Map<number, { rx: number; contrast: number }[]>();
    for (let j = 0; j < geometry.all.length; j++) {
      let contrast = Number.POSITIVE_INFINITY;
      let code = 0;
      diffs.forEach((d, b) => {
        contrast = Math.min(contrast, Math.abs(d[j]));
        if (d[j] > 0) code |= 1 << b;
      });
      if (!(contrast >= params.deadFraction * ref) || contrast <= params.minSignal) continue;
      if (code >= txLanes.length) continue;
      const tx = txLanes[code];
      const c = claims.get(tx) ?? [];
      c.push({ rx: j + 1, contrast });
      claims.set(tx, c);
    }
    for (const [tx, c] of claims) {
      if (c.length !== 1) continue; // a conflict: walk it below
      rxOf.set(tx, c[0].rx);
      sourceOf.set(c[0].rx, tx);
    }
    // Sparse grid over the resolved lanes: peaks and crosstalk rows.
    const resolved = txLanes.filter((l) => rxOf.has(l));
    const groups = sparseGrid(geometry, resolved, params.spacing);
    for (const group of groups) {
      const row = await show(group);
      const cur = await reader.photocurrent(row);
      rows.push({ lit: group, row });
      for (const tx of group) {
        const r = rxOf.get(tx)!;
        peak.set(tx, row[r - 1]);
        peakPhotocurrent.set(tx, cur[r - 1]);
      }
    }
    // A decoded lane that is dark when lit alone is dead after all (the code saw its neighbours' light).
    const level = median([...peak.values()]);
    for (const tx of resolved) {
      const p = peak.get(tx) ?? 0;
      if (p < params.deadFraction * level || p <= params.minSignal) {
        sourceOf.delete(rxOf.get(tx)!);
        rxOf.delete(tx);
        peak.delete(tx);
        peakPhotocurrent.delete(tx);
      }
    }
    // Unresolved lanes (dead or conflicting): confirm one by one.
    const unresolved = txLanes.filter((l) => !rxOf.has(l));
    if (unresolved.length) await walk(unresolved, level);
  }

  trips += await light(ctx, lit, []);
  lit = [];
  // Outputs back as they were; drive back to the operating point if we changed it.
  const wasOn = geometry.all.filter((_, i) => before[i]);
  if (wasOn.length) {
    await src.setOutput(wasOn, true, callOpts(ctx));
    trips++;
  }
  if (params.iOpA !== undefined) trips += await restoreDrive(ctx, op);

  const dead = txLanes.filter((l) => !rxOf.has(l) && !ambiguous.has(l));
  const swapped: [number, number][] = [];
  for (const [tx, r] of rxOf) {
    if (tx === r) continue;
    const back = rxOf.get(r);
    if (back === tx) {
      if (tx < r) swapped.push([tx, r]);
    } else swapped.push([tx, r]);
  }
  swapped.sort((a, b) => a[0] - b[0]);
  return {
    method: params.method,
    unit: reader.unit,
    rxOf,
    sourceOf,
    mapped: txLanes.filter((l) => rxOf.has(l)),
    dead,
    ambiguous: sortedUnique(ambiguous),
    swapped,
    peak,
    peakPhotocurrent,
    rows,
    centroids: reader.lastCentroids,
    saturated: [...reader.saturated].sort((a, b) => a - b),
    roundTrips: trips + reader.roundTrips,
  };
}

/**
 * Applies a lane map to the run's lane state. Logical lane k reads the receiver lane it read before; its
 * transmitter becomes the lane whose light now arrives there (so re-running the map is idempotent).
 */
export function applyLaneMap(ctx: StepContext, result: LaneMapResult): void {
  const prev = ctx.shared.get(SHARED.laneMap) as LaneMapResult | undefined;
  const state = ctx.lanes;
  for (let k = 0; k < state.logicalToPhysical.length; k++) {
    const tx = state.logicalToPhysical[k];
    const rxLane = prev?.rxOf.get(tx) ?? tx;
    const source = result.sourceOf.get(rxLane);
    if (source !== undefined) state.logicalToPhysical[k] = source;
  }
  for (const d of result.dead) state.dead.add(d);
  for (const a of result.ambiguous) state.dead.add(a);
  state.swapped = result.swapped.map(([a, b]) => [a, b] as [number, number]);
  state.sparesLeft = state.sparesLeft.filter((s) => !state.dead.has(s));
}

export const laneMapStep: StepDefinition<LaneMapParams> = {
  type: 'lane-map',
  requires: ['current-source', 'lane-power-monitor'],
  description: 'Walking-one lane map: logical to physical lanes, dead lanes, swapped lanes, crosstalk rows',
  params: laneMapParams,
  laneParams: ['lanes'],
  measurements: () => [
    { name: 'lanes_dead', unit: 'count', description: 'transmitter lanes with no light', dimensions: [] },
    { name: 'lanes_swapped', unit: 'count', description: 'lanes arriving at another lane', dimensions: [] },
    {
      name: 'lanes_ambiguous',
      unit: 'count',
      description: 'lanes whose light could not be attributed to one receiver lane (listed as dead)',
      dimensions: [],
    },
    {
      name: 'lane_map_ok',
      unit: 'bool',
      description: '1 when the lane maps to exactly one receiver lane, 0 when dead or ambiguous',
      // a dead active lane fails here; a later remap step that moves it to a spare repairs the run
      limits: { low: 1 },
      dimensions: ['lane'],
    },
    { name: 'rx_lane', unit: 'lane', description: 'receiver lane that sees the lane', dimensions: ['lane'] },
    {
      name: 'lanes_saturated',
      unit: 'count',
      description: 'receiver lanes whose spot clipped the sensor in a frame (full well or ADC): none allowed',
      limits: { high: 0 },
      dimensions: [],
    },
    {
      name: 'peak_photocurrent',
      unit: 'A',
      description: 'photocurrent at the mapped receiver lane with the neighbours dark',
      dimensions: ['lane'],
    },
  ],
  async run(ctx, params) {
    const result = await mapLanes(ctx, params);
    applyLaneMap(ctx, result);
    ctx.shared.set(SHARED.laneMap, result);
    const lanes = params.lanes === 'all' ? [...ctx.geometry.all] : sortedUnique(params.lanes);
    if (result.dead.length) ctx.log('warn', `dead lanes: ${result.dead.join(', ')}`);
    if (result.swapped.length)
      ctx.log('warn', `swapped lanes: ${result.swapped.map(([a, b]) => `${a}<->${b}`).join(', ')}`);
    if (result.ambiguous.length) ctx.log('error', `ambiguous lanes: ${result.ambiguous.join(', ')}`);
    if (result.saturated.length)
      ctx.log(
        'error',
        `receiver lanes ${result.saturated.join(', ')} saturate the sensor (a pixel at full scale): lower its exposure or gain`,
      );
    ctx.log('info', `lane map (${result.method}): ${lanes.length} lanes in ${result.roundTrips} round trips`);
    ctx.measure('lanes_dead', result.dead.length);
    ctx.measure('lanes_swapped', result.swapped.length);
    ctx.measure('lanes_ambiguous', result.ambiguous.length);
    ctx.measure('lanes_saturated', result.saturated.length);
    ctx.measure('lane_map_ok', { lanes, values: lanes.map((l) => (result.rxOf.has(l) ? 1 : 0)) });
    ctx.measure('rx_lane', { lanes, values: lanes.map((l) => result.rxOf.get(l) ?? null) });
    const pk = { lanes, values: lanes.map((l) => result.peakPhotocurrent.get(l) ?? null) };
    ctx.measure('peak_photocurrent', pk);
    ctx.lanesFrame('peak_photocurrent', 'A', pk);
  },
};
