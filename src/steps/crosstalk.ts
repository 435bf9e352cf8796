/**
 * Q4 crosstalk from the lane-map rows (walking-one or sparse grid): for each lit lane a, the light at a
 * neighbouring receiver lane v over the light at a's own receiver is the coupling ε(v←a). Per victim lane:
 * worst nearest and diagonal coupling in dB, and the worst-case OOK eye penalty −10·log10(1 − Σε) over its
 * 8 neighbours (domain.md §1.6). Runs the lane map first when no rows are in ctx.shared.
 */

import { z } from 'zod';
import { crosstalkPenaltyDb } from '../core/ber.ts';
import type { StepDefinition } from '../orchestrator/step.ts';
import { applyLaneMap, type LaneMapResult, laneMapParams, mapLanes } from './lane-map.ts';
import { diagonalNeighbours, nearestNeighbours, neighbours } from './patterns.ts';
import { finite, markFailed, ratioDb, SHARED, sortedUnique } from './util.ts';

export const crosstalkParams = z.strictObject({
  lanes: z.union([z.enum(['active', 'all']), z.array(z.number().int().min(1))]).default('all'),
  /** Limit on the worst nearest-neighbour coupling, dB (domain proposal −20 dB; the default leaves 2 dB). */
  nearestMaxDb: z.number().default(-18),
  diagonalMaxDb: z.number().default(-22),
  penaltyMaxDb: z.number().positive().default(0.5),
  marginalDb: z.number().min(0).default(1),
  /** Mark lanes over the penalty limit as failed (for remap). */
  failLanes: z.boolean().default(false),
});
export type CrosstalkParams = z.infer<typeof crosstalkParams>;

export interface CrosstalkResult {
  lanes: number[];
  /** ε(victim rx ← aggressor tx), keyed `${victimTx}<${aggressorTx}`. */
  coupling: Map<string, number>;
  nearestDb: (number | null)[];
  diagonalDb: (number | null)[];
  penaltyDb: (number | null)[];
}

const key = (victim: number, aggressor: number) => `${victim}<${aggressor}`;

/** Couplings from the rows of a lane map, by transmitter lanes (victim ← aggressor). */
export function couplingsFromRows(map: LaneMapResult, geometry: Parameters<typeof neighbours>[0]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { lit, row } of map.rows) {
    const litRx = lit.map((l) => map.rxOf.get(l)).filter((r): r is number => r !== undefined);
    for (const a of lit) {
      const ra = map.rxOf.get(a);
      if (ra === undefined) continue;
      const own = row[ra - 1];
      if (!(own > 0)) continue;
      for (const q of neighbours(geometry, ra, true)) {
        // Skip receiver lanes that another lit lane also lights (its own spot or its neighbourhood).
        const [qr, qc] = geometry.position(q);
        const contaminated = litRx.some((r) => {
          if (r === ra) return false;
          const [rr, rc] = geometry.position(r);
          return Math.max(Math.abs(rr - qr), Math.abs(rc - qc)) <= 1;
        });
        if (contaminated) continue;
        const victim = map.sourceOf.get(q) ?? q;
        out.set(key(victim, a), row[q - 1] / own);
      }
    }
  }
  return out;
}

export function crosstalkPerLane(
  map: LaneMapResult,
  geometry: Parameters<typeof neighbours>[0],
  lanes: readonly number[],
): CrosstalkResult {
  const coupling = couplingsFromRows(map, geometry);
  const eps = (victim: number, aggressor: number): number | undefined =>
    coupling.get(key(victim, aggressor)) ?? coupling.get(key(aggressor, victim));
  const nearestDb: (number | null)[] = [];
  const diagonalDb: (number | null)[] = [];
  const penaltyDb: (number | null)[] = [];
  for (const v of lanes) {
    const rv = map.rxOf.get(v);
    if (rv === undefined) {
      nearestDb.push(null);
      diagonalDb.push(null);
      penaltyDb.push(null);
      continue;
    }
    // Aggressors: the transmitters whose light arrives next to v's receiver lane.
    const agg = (qs: number[]) =>
      qs.map((q) => map.sourceOf.get(q)).filter((a): a is number => a !== undefined && a !== v);
    const near = agg(nearestNeighbours(geometry, rv))
      .map((a) => eps(v, a))
      .filter((e): e is number => e !== undefined);
    const diag = agg(diagonalNeighbours(geometry, rv))
      .map((a) => eps(v, a))
      .filter((e): e is number => e !== undefined);
    nearestDb.push(near.length ? finite(ratioDb(Math.max(...near))) : null);
    diagonalDb.push(diag.length ? finite(ratioDb(Math.max(...diag))) : null);
    penaltyDb.push(near.length + diag.length ? finite(crosstalkPenaltyDb([...near, ...diag])) : null);
  }
  return { lanes: [...lanes], coupling, nearestDb, diagonalDb, penaltyDb };
}

export const crosstalkStep: StepDefinition<CrosstalkParams> = {
  type: 'crosstalk',
  requires: [],
  description: 'Nearest and diagonal coupling per lane and the crosstalk eye penalty, from the lane-map rows',
  params: crosstalkParams,
  laneParams: ['lanes'],
  measurements: (p) => [
    {
      name: 'xt_nearest_db',
      unit: 'dB',
      description: 'worst nearest-neighbour coupling into the lane',
      limits: { high: p.nearestMaxDb, marginal: p.marginalDb },
      dimensions: ['lane'],
    },
    {
      name: 'xt_diagonal_db',
      unit: 'dB',
      description: 'worst diagonal-neighbour coupling into the lane',
      limits: { high: p.diagonalMaxDb, marginal: p.marginalDb },
      dimensions: ['lane'],
    },
    {
      name: 'xt_penalty_db',
      unit: 'dB',
      description: 'worst-case eye penalty −10·log10(1 − Σε) over the 8 neighbours',
      limits: { high: p.penaltyMaxDb, marginal: Math.min(0.1, p.penaltyMaxDb / 5) },
      dimensions: ['lane'],
    },
    { name: 'xt_penalty_worst_db', unit: 'dB', description: 'worst lane (the verdict is per lane)', dimensions: [] },
  ],
  async run(ctx, params) {
    let map = ctx.shared.get(SHARED.laneMap) as LaneMapResult | undefined;
    if (!map || map.rows.length === 0) {
      ctx.log('info', 'crosstalk: no lane-map rows yet, mapping the lanes first');
      map = await mapLanes(ctx, laneMapParams.parse({}));
      applyLaneMap(ctx, map);
      ctx.shared.set(SHARED.laneMap, map);
    }
    const lanes =
      params.lanes === 'all'
        ? map.mapped
        : params.lanes === 'active'
          ? ctx.lanes.active().filter((l) => map.rxOf.has(l))
          : sortedUnique(params.lanes);
    const r = crosstalkPerLane(map, ctx.geometry, lanes);
    ctx.shared.set(SHARED.crosstalk, r);
    ctx.measure('xt_nearest_db', { lanes, values: r.nearestDb });
    ctx.measure('xt_diagonal_db', { lanes, values: r.diagonalDb });
    ctx.measure('xt_penalty_db', { lanes, values: r.penaltyDb });
    ctx.lanesFrame('xt_penalty_db', 'dB', { lanes, values: r.penaltyDb });
    const worst = r.penaltyDb.reduce<number | null>((m, v) => (v !== null && (m === null || v > m) ? v : m), null);
    ctx.measure('xt_penalty_worst_db', worst);
    if (params.failLanes) {
      markFailed(
        ctx,
        lanes.filter((_, i) => (r.penaltyDb[i] ?? 0) > params.penaltyMaxDb),
        'crosstalk penalty over the limit',
      );
    }
  },
};
