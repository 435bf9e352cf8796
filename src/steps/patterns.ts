/**
 * Lane patterns for the steps: decorrelated PRBS seeds, aggressor/victim set-ups and spatial lane sets
 * (walking-one, sparse grids, checkerboards, binary-coded sets for the lane map).
 */

import { hashSeed } from '../core/rng.ts';
import type { CallOptions, LaneCurrentSource, Pattern, PatternGenerator } from '../instruments/capabilities.ts';
import type { LaneGeometry } from '../orchestrator/step.ts';

const SEED_MASK = 0x7fffffff;

/**
 * One PRBS seed per lane, seed = hash(lane) (never 0), adjusted so that no two lanes that touch (nearest or
 * diagonal neighbours) share a seed. Same lanes, same seeds: runs are reproducible.
 */
export function decorrelatedSeeds(lanes: readonly number[], geometry?: LaneGeometry): number[] {
  const seeds = new Map<number, number>();
  for (const lane of lanes) {
    let s = hashSeed('prbs-seed', lane) & SEED_MASK || 1;
    if (geometry) {
      const taken = new Set(neighbours(geometry, lane, true).map((n) => seeds.get(n)));
      for (let k = 1; taken.has(s); k++) s = hashSeed('prbs-seed', lane, k) & SEED_MASK || 1;
    }
    seeds.set(lane, s);
  }
  return lanes.map((l) => seeds.get(l)!);
}

/** PRBS on the lanes with decorrelated seeds: two channel-list commands. */
export async function setPrbs(
  src: PatternGenerator,
  lanes: readonly number[],
  pattern: Pattern,
  geometry: LaneGeometry | undefined,
  opts: CallOptions,
): Promise<void> {
  if (lanes.length === 0) return;
  await src.setPattern(lanes, pattern, opts);
  if (pattern.startsWith('PRBS')) await src.setSeed(lanes, decorrelatedSeeds(lanes, geometry), opts);
}

/** Nearest (4) and, with diagonal, the 8 neighbours of a lane inside the array. */
export function neighbours(geometry: LaneGeometry, lane: number, diagonal = false): number[] {
  const [r, c] = geometry.position(lane);
  const out: number[] = [];
  for (let dr = -1; dr <= 1; dr++) {
    for (let dc = -1; dc <= 1; dc++) {
      if (dr === 0 && dc === 0) continue;
      if (!diagonal && dr !== 0 && dc !== 0) continue;
      const n = geometry.laneAt(r + dr, c + dc);
      if (n !== undefined) out.push(n);
    }
  }
  return out;
}

export function nearestNeighbours(geometry: LaneGeometry, lane: number): number[] {
  return neighbours(geometry, lane, false);
}

export function diagonalNeighbours(geometry: LaneGeometry, lane: number): number[] {
  const near = new Set(nearestNeighbours(geometry, lane));
  return neighbours(geometry, lane, true).filter((l) => !near.has(l));
}

export type AggressorMode = 'PRBS' | 'ONES' | 'OFF';

export interface AggressorSetup {
  victim: number;
  aggressors: number[];
}

/**
 * Victim on PRBS, its 8 neighbours as aggressors on decorrelated PRBS, steady ONES, or off. Returns which
 * lanes play which part; the caller switches the outputs.
 */
export async function setupAggressors(
  src: PatternGenerator & Pick<LaneCurrentSource, 'setOutput'>,
  geometry: LaneGeometry,
  victim: number,
  mode: AggressorMode,
  pattern: Pattern,
  opts: CallOptions,
): Promise<AggressorSetup> {
  const aggressors = neighbours(geometry, victim, true);
  await setPrbs(src, [victim], pattern, geometry, opts);
  if (mode === 'OFF') await src.setOutput(aggressors, false, opts);
  else {
    if (mode === 'ONES') await src.setPattern(aggressors, 'ONES', opts);
    else await setPrbs(src, aggressors, pattern, geometry, opts);
    await src.setOutput(aggressors, true, opts);
  }
  await src.setOutput([victim], true, opts);
  return { victim, aggressors };
}

/** Walking-one: one set per lane. */
export function walkingOne(lanes: readonly number[]): number[][] {
  return lanes.map((l) => [l]);
}

/** Checkerboard halves of the array, restricted to `lanes`: [(r+c) even, (r+c) odd]. */
export function checkerboard(geometry: LaneGeometry, lanes: readonly number[]): [number[], number[]] {
  const even: number[] = [];
  const odd: number[] = [];
  for (const l of lanes) {
    const [r, c] = geometry.position(l);
    ((r + c) % 2 === 0 ? even : odd).push(l);
  }
  return [even, odd];
}

/**
 * Sparse grid: k×k sets, each holding every k-th row and column (offset dr, dc). Lanes lit together are at
 * least k apart, so each one's neighbourhood (radius < k/2) sees only its own light and its crosstalk.
 */
export function sparseGrid(geometry: LaneGeometry, lanes: readonly number[], k: number): number[][] {
  const sets = new Map<number, number[]>();
  for (const l of lanes) {
    const [r, c] = geometry.position(l);
    const key = (r % k) * k + (c % k);
    const s = sets.get(key) ?? [];
    s.push(l);
    sets.set(key, s);
  }
  return [...sets.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}

/**
 * Binary-coded sets (structured light): lane with index i (0-based in `lanes`) is in set b when bit b of i is
 * set. With each set's complement, every receiver lane decodes which transmitter lights it in 2·⌈log2 n⌉ frames.
 */
export function binaryCodedSets(lanes: readonly number[]): { bit: number; on: number[]; off: number[] }[] {
  const bits = Math.max(1, Math.ceil(Math.log2(Math.max(2, lanes.length))));
  const out: { bit: number; on: number[]; off: number[] }[] = [];
  for (let b = 0; b < bits; b++) {
    const on: number[] = [];
    const off: number[] = [];
    lanes.forEach((l, i) => {
      ((i >> b) & 1 ? on : off).push(l);
    });
    out.push({ bit: b, on, off });
  }
  return out;
}
