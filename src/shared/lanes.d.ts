/** Types of lanes.js (a plain ES module the browser dashboard imports as-is). */
export interface LaneGeometryLike {
  rows?: number;
  cols?: number;
  order?: string;
  spares?: number[];
}
export interface LaneMapLike {
  logicalToPhysical: number[];
  dead: number[];
  remapped: { logical: number; from: number; to: number }[];
}
export interface LaneDescription {
  lane: number;
  /** 1-based, null when the geometry is unknown. */
  row: number | null;
  col: number | null;
  /** The logical lane (laneMap index, 0-based) it carries, null when it carries none. */
  logical: number | null;
  spare: boolean;
  dead: boolean;
  remappedTo: number | null;
  replaces: number | null;
  status: 'active' | 'spare' | 'dead' | 'remapped';
  /** "lane 237 (row 12, col 17; logical #189; dead; remapped to spare 301)" */
  text: string;
}
export function laneIndex(
  geometry: LaneGeometryLike | null | undefined,
  laneMap: LaneMapLike | null | undefined,
): { describe(lane: number): LaneDescription };
