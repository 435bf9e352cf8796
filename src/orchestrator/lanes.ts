import type { LaneMapRecord } from '../core/record.ts';
import type { LaneGeometry, LaneState } from './step.ts';

export interface GeometryConfig {
  rows: number;
  cols: number;
  /** Physical numbering of the array: row-major (lane = r*cols + c + 1) or column-major. */
  order?: 'row-major' | 'column-major';
  /** Active lanes the link needs; default all non-spare lanes. */
  active?: number;
  spares?: number[];
}

export function createGeometry(cfg: GeometryConfig): LaneGeometry {
  const n = cfg.rows * cfg.cols;
  const spares = [...(cfg.spares ?? [])].sort((a, b) => a - b);
  const colMajor = cfg.order === 'column-major';
  return {
    rows: cfg.rows,
    cols: cfg.cols,
    all: Array.from({ length: n }, (_, i) => i + 1),
    required: cfg.active ?? n - spares.length,
    spares,
    position(lane) {
      const i = lane - 1;
      return colMajor ? [i % cfg.rows, Math.floor(i / cfg.rows)] : [Math.floor(i / cfg.cols), i % cfg.cols];
    },
    laneAt(row, col) {
      if (row < 0 || col < 0 || row >= cfg.rows || col >= cfg.cols) return undefined;
      return colMajor ? col * cfg.rows + row + 1 : row * cfg.cols + col + 1;
    },
  };
}

/** The run's lane state at start: logical lane i on the i-th non-spare physical lane, every spare left. */
export function createLaneState(g: LaneGeometry): LaneState {
  const spareSet = new Set(g.spares);
  const primary = g.all.filter((l) => !spareSet.has(l)).slice(0, g.required);
  const state: LaneState = {
    logicalToPhysical: primary,
    dead: new Set(),
    failed: new Map(),
    swapped: [],
    remapped: [],
    sparesLeft: [...g.spares],
    active() {
      return [...state.logicalToPhysical];
    },
  };
  return state;
}

export function laneMapRecord(s: LaneState): LaneMapRecord {
  return {
    logicalToPhysical: [...s.logicalToPhysical],
    dead: [...s.dead].sort((a, b) => a - b),
    swapped: s.swapped.map(([a, b]) => [a, b] as [number, number]),
    remapped: s.remapped.map((r) => ({ ...r })),
    sparesLeft: [...s.sparesLeft],
  };
}

/** The lane state a stored lane map describes (a resumed run continues from it); `failed` starts empty. */
export function restoreLaneState(g: LaneGeometry, rec: LaneMapRecord | undefined): LaneState {
  const state = createLaneState(g);
  if (!rec) return state;
  state.logicalToPhysical = [...rec.logicalToPhysical];
  for (const l of rec.dead) state.dead.add(l);
  state.swapped = rec.swapped.map(([a, b]) => [a, b] as [number, number]);
  state.remapped = rec.remapped.map((r) => ({ ...r }));
  state.sparesLeft = [...rec.sparesLeft];
  return state;
}
