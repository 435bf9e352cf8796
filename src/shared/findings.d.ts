/** Types of findings.js (a plain ES module the browser dashboard imports as-is). */
import type { LaneDescription, LaneGeometryLike, LaneMapLike } from './lanes.js';

export interface FindingStep {
  id: string;
  name: string;
  index?: number;
  at?: Record<string, number>;
  verdict?: string;
  error?: string;
  measurements: readonly unknown[];
}
export interface Finding {
  severity: 'ERROR' | 'FAIL' | 'MARGINAL';
  step: string;
  stepName: string;
  at?: Record<string, number>;
  /** null for a step that ended in error */
  measurement: string | null;
  /** a scalar's value */
  value: number | null;
  unit: string;
  limit: string;
  /** per-lane measurements: the lanes with that verdict, described, with their values */
  lanes: (LaneDescription & { value: number | null })[];
  laneCount: number;
  /** one line: "FAIL Remap: unrepaired_lanes = 18, limit ≤ 0" */
  text: string;
}
export function findings(
  steps: readonly FindingStep[],
  opts?: { geometry?: LaneGeometryLike | null; laneMap?: LaneMapLike | null; maxLanes?: number },
): Finding[];
