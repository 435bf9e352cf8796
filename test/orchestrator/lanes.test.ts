/**
 * Lane geometry and the run's lane state (src/orchestrator/lanes.ts). Expected positions are worked out by hand
 * for small arrays: a 3x4 array numbered row-major is
 *    1  2  3  4
 *    5  6  7  8
 *    9 10 11 12
 * and column-major is
 *    1  4  7 10
 *    2  5  8 11
 *    3  6  9 12
 */
import { describe, expect, it } from 'vitest';
import { createGeometry, createLaneState, laneMapRecord } from '../../src/orchestrator/lanes.ts';

describe('createGeometry', () => {
  it('row-major (the default): position and laneAt follow the printed array', () => {
    const g = createGeometry({ rows: 3, cols: 4 });
    expect(g.rows).toBe(3);
    expect(g.cols).toBe(4);
    expect(g.all).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
    expect(g.position(1)).toEqual([0, 0]);
    expect(g.position(4)).toEqual([0, 3]);
    expect(g.position(5)).toEqual([1, 0]);
    expect(g.position(7)).toEqual([1, 2]);
    expect(g.position(12)).toEqual([2, 3]);
    expect(g.laneAt(0, 0)).toBe(1);
    expect(g.laneAt(1, 2)).toBe(7);
    expect(g.laneAt(2, 3)).toBe(12);
    expect(g.laneAt(2, 0)).toBe(9);
    for (const lane of g.all) expect(g.laneAt(...g.position(lane))).toBe(lane);
  });

  it('column-major: position and laneAt follow the printed array', () => {
    const g = createGeometry({ rows: 3, cols: 4, order: 'column-major' });
    expect(g.position(1)).toEqual([0, 0]);
    expect(g.position(2)).toEqual([1, 0]);
    expect(g.position(4)).toEqual([0, 1]);
    expect(g.position(8)).toEqual([1, 2]);
    expect(g.position(12)).toEqual([2, 3]);
    expect(g.laneAt(0, 1)).toBe(4);
    expect(g.laneAt(1, 2)).toBe(8);
    expect(g.laneAt(2, 3)).toBe(12);
    expect(g.laneAt(2, 0)).toBe(3);
    for (const lane of g.all) expect(g.laneAt(...g.position(lane))).toBe(lane);
  });

  it('laneAt is undefined outside the array, on every side', () => {
    for (const order of ['row-major', 'column-major'] as const) {
      const g = createGeometry({ rows: 3, cols: 4, order });
      expect(g.laneAt(-1, 0)).toBeUndefined();
      expect(g.laneAt(0, -1)).toBeUndefined();
      expect(g.laneAt(3, 0)).toBeUndefined();
      expect(g.laneAt(0, 4)).toBeUndefined();
      expect(g.laneAt(2, 3)).toBe(12);
    }
  });

  it('spares are sorted; required defaults to the non-spare lanes, or is what the config says', () => {
    const g = createGeometry({ rows: 2, cols: 4, spares: [8, 4] });
    expect(g.spares).toEqual([4, 8]);
    expect(g.required).toBe(6);
    expect(createGeometry({ rows: 2, cols: 4, spares: [8], active: 5 }).required).toBe(5);
    expect(createGeometry({ rows: 2, cols: 4 }).required).toBe(8);
    expect(createGeometry({ rows: 2, cols: 4 }).spares).toEqual([]);
  });

  it('does not keep the caller’s spare array', () => {
    const spares = [3, 1];
    const g = createGeometry({ rows: 1, cols: 4, spares });
    spares.push(2);
    expect(g.spares).toEqual([1, 3]);
  });
});

describe('createLaneState', () => {
  it('maps logical lanes onto the first non-spare physical lanes; every spare is left', () => {
    const g = createGeometry({ rows: 2, cols: 4, spares: [4, 8], active: 5 });
    const s = createLaneState(g);
    expect(s.logicalToPhysical).toEqual([1, 2, 3, 5, 6]);
    expect(s.active()).toEqual([1, 2, 3, 5, 6]);
    expect(s.sparesLeft).toEqual([4, 8]);
    expect(s.dead.size).toBe(0);
    expect(s.failed.size).toBe(0);
    expect(s.swapped).toEqual([]);
    expect(s.remapped).toEqual([]);
  });

  it('active() follows a remap and is a copy', () => {
    const s = createLaneState(createGeometry({ rows: 1, cols: 4, spares: [4] }));
    s.logicalToPhysical[1] = 4;
    const a = s.active();
    expect(a).toEqual([1, 4, 3]);
    a.push(99);
    expect(s.active()).toEqual([1, 4, 3]);
  });

  it('each run gets its own state: the geometry’s spares are not shared', () => {
    const g = createGeometry({ rows: 1, cols: 4, spares: [4] });
    const a = createLaneState(g);
    a.sparesLeft.pop();
    expect(createLaneState(g).sparesLeft).toEqual([4]);
    expect(g.spares).toEqual([4]);
  });
});

describe('laneMapRecord', () => {
  it('copies the state with dead lanes sorted, independent of later changes', () => {
    const s = createLaneState(createGeometry({ rows: 2, cols: 3, spares: [3, 6], active: 3 }));
    s.dead.add(5);
    s.dead.add(2);
    s.swapped.push([1, 3]);
    s.remapped.push({ logical: 1, from: 2, to: 6 });
    s.logicalToPhysical[1] = 6;
    s.sparesLeft.pop();
    const r = laneMapRecord(s);
    expect(r).toEqual({
      logicalToPhysical: [1, 6, 4],
      dead: [2, 5],
      swapped: [[1, 3]],
      remapped: [{ logical: 1, from: 2, to: 6 }],
      sparesLeft: [3],
    });
    s.sparesLeft.pop();
    expect(r.sparesLeft).toEqual([3]);
    s.logicalToPhysical[0] = 99;
    s.swapped[0][0] = 99;
    s.remapped[0].to = 99;
    s.dead.add(1);
    expect(r.logicalToPhysical[0]).toBe(1);
    expect(r.swapped[0][0]).toBe(1);
    expect(r.remapped[0].to).toBe(6);
    expect(r.dead).toEqual([2, 5]);
  });
});
