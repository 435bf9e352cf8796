/**
 * planRemap (src/steps/remap.ts) on its own: pure bookkeeping on the lane state, no instruments. Geometry 3x4,
 * row-major (lane = 4·row + col + 1):
 *    1  2  3  4
 *    5  6  7  8
 *    9 10 11 12
 * Distances are worked out by hand on that grid.
 */
import { describe, expect, it } from 'vitest';
import { createGeometry, createLaneState } from '../../src/orchestrator/lanes.ts';
import type { StepContext } from '../../src/orchestrator/step.ts';
import { planRemap } from '../../src/steps/remap.ts';

function ctxWith(spares: number[], active?: number) {
  const geometry = createGeometry({ rows: 3, cols: 4, spares, active });
  const lanes = createLaneState(geometry);
  return { ctx: { geometry, lanes } as unknown as StepContext, lanes };
}

describe('planRemap', () => {
  it('moves a dead lane to the nearest spare (by distance on the array), not the first listed', () => {
    // spares 4 ([0,3]) and 12 ([2,3]); lane 11 is at [2,2]: 12 is at distance 1, 4 at sqrt(5)
    const { ctx, lanes } = ctxWith([4, 12]);
    lanes.dead.add(11);
    const plan = planRemap(ctx);
    // logical lanes sit on the non-spare lanes 1-3, 5-11: lane 11 carries logical 9
    expect(plan).toEqual({ remapped: [{ logical: 9, from: 11, to: 12 }], unrepaired: [] });
    expect(lanes.logicalToPhysical).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10, 12]);
    expect(lanes.sparesLeft).toEqual([4]);
    expect(lanes.remapped).toEqual([{ logical: 9, from: 11, to: 12 }]);
  });

  it('breaks a distance tie by the lower lane number', () => {
    // lane 6 at [1,1]; spares 2 ([0,1]), 5 ([1,0]), 7 ([1,2]), 10 ([2,1]) are all at distance 1
    const { ctx, lanes } = ctxWith([10, 7, 5, 2]);
    lanes.sparesLeft = [10, 7, 5, 2]; // in no particular order: the tie is broken by lane number, not by position
    lanes.failed.set(6, 'li: weak');
    // logical lanes on 1, 3, 4, 6, 8, 9, 11, 12: lane 6 carries logical 3
    expect(planRemap(ctx).remapped).toEqual([{ logical: 3, from: 6, to: 2 }]);
    expect(lanes.sparesLeft).toEqual([10, 7, 5]);
  });

  it('never uses a dead or failed spare, and drops them from the spares left', () => {
    // lane 3 at [0,2]: spare 4 ([0,3]) is nearest but dead, spare 8 ([1,3]) failed; 12 ([2,3]) is what is left
    const { ctx, lanes } = ctxWith([4, 8, 12]);
    lanes.dead.add(3);
    lanes.dead.add(4);
    lanes.failed.set(8, 'ber');
    const plan = planRemap(ctx);
    expect(plan.remapped).toEqual([{ logical: 2, from: 3, to: 12 }]);
    expect(lanes.sparesLeft).toEqual([]);
  });

  it('never takes a spare that already carries a logical lane', () => {
    const { ctx, lanes } = ctxWith([4, 12]);
    lanes.logicalToPhysical[0] = 4; // an earlier swap put lane 4 in use (still listed as a spare here)
    lanes.dead.add(3);
    expect(planRemap(ctx).remapped).toEqual([{ logical: 2, from: 3, to: 12 }]);
  });

  it('lists the lanes it cannot repair when the good spares run out, in logical order', () => {
    const { ctx, lanes } = ctxWith([12]);
    lanes.dead.add(2);
    lanes.dead.add(7);
    lanes.failed.set(9, 'weak');
    const plan = planRemap(ctx);
    // lane 2 at [0,1] takes 12 (the only spare); 7 and 9 are left over
    expect(plan.remapped).toEqual([{ logical: 1, from: 2, to: 12 }]);
    expect(plan.unrepaired).toEqual([
      { logical: 6, lane: 7 },
      { logical: 8, lane: 9 },
    ]);
    expect(lanes.logicalToPhysical).toEqual([1, 12, 3, 4, 5, 6, 7, 8, 9, 10, 11]);
  });

  it('does nothing when every active lane is good', () => {
    const { ctx, lanes } = ctxWith([4, 12]);
    lanes.dead.add(4); // a dead spare is dropped, but nothing moves
    expect(planRemap(ctx)).toEqual({ remapped: [], unrepaired: [] });
    expect(lanes.logicalToPhysical).toEqual([1, 2, 3, 5, 6, 7, 8, 9, 10, 11]);
    expect(lanes.sparesLeft).toEqual([12]);
    expect(lanes.remapped).toEqual([]);
  });

  it('repairs several lanes, each with its own nearest spare, one spare per lane', () => {
    // spares 1 ([0,0]) and 12 ([2,3]); lane 2 ([0,1]) is nearest 1, lane 11 ([2,2]) nearest 12
    const { ctx, lanes } = ctxWith([1, 12]);
    lanes.dead.add(2);
    lanes.dead.add(11);
    expect(planRemap(ctx).remapped).toEqual([
      { logical: 0, from: 2, to: 1 },
      { logical: 9, from: 11, to: 12 },
    ]);
    expect(new Set(lanes.logicalToPhysical).size).toBe(lanes.logicalToPhysical.length);
  });
});
