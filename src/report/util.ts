/** Shared helpers for the report writers: escaping, number formatting, grouping of measurements. */
import type { LaneMeasurement, Measurement, RunRecord, StepRecord } from '../core/record.ts';
import { coordLabel } from '../shared/coordinates.js';
import { fmtNum } from '../shared/format.js';
import type { LaneGeometryLike } from '../shared/lanes.js';

// XML 1.0 forbids most C0 control characters even when escaped.
const XML_INVALID = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;

export function escapeXml(s: unknown): string {
  return String(s ?? '')
    .replace(XML_INVALID, '\uFFFD')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&apos;');
}

export function escapeHtml(s: unknown): string {
  return String(s ?? '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;');
}

/** Four significant digits, exponent form for very small or large magnitudes (shared with the dashboard). */
export const fmt = fmtNum;

/** Sweep coordinates as people read them ("45 °C · 2 mA"), the same text in every report and view. */
export function atLabel(at: Record<string, number> | undefined): string {
  return coordLabel(at);
}

/** Lane-dimensioned measurements of one step with the same name: one CSV table, one heatmap. */
export interface LaneGroup {
  step: StepRecord;
  name: string;
  unit: string;
  frames: LaneMeasurement[];
}

export function laneGroups(record: RunRecord): LaneGroup[] {
  const out: LaneGroup[] = [];
  for (const step of record.steps) {
    const byName = new Map<string, LaneGroup>();
    for (const m of step.measurements) {
      if (m.kind !== 'lanes') continue;
      let g = byName.get(m.spec.name);
      if (!g) {
        g = { step, name: m.spec.name, unit: m.spec.unit, frames: [] };
        byName.set(m.spec.name, g);
        out.push(g);
      }
      g.frames.push(m);
    }
  }
  return out;
}

export interface LaneStats {
  n: number;
  count: number;
  min: number | null;
  median: number | null;
  max: number | null;
  fails: number;
  marginal: number;
}

export function laneStats(m: LaneMeasurement): LaneStats {
  const vals = m.values.filter((v): v is number => v !== null && Number.isFinite(v)).sort((a, b) => a - b);
  const n = vals.length;
  const median = n === 0 ? null : n % 2 ? vals[(n - 1) / 2] : (vals[n / 2 - 1] + vals[n / 2]) / 2;
  return {
    n: m.values.length,
    count: n,
    min: n ? vals[0] : null,
    median,
    max: n ? vals[n - 1] : null,
    fails: m.verdicts.filter((v) => v === 'FAIL').length,
    marginal: m.verdicts.filter((v) => v === 'MARGINAL').length,
  };
}

export function failingMeasurements(step: StepRecord): Measurement[] {
  return step.measurements.filter((m) => m.verdict === 'FAIL');
}

/**
 * Lane array geometry: the station snapshot's `lanes: {rows, cols}` when present and every lane number fits
 * in it (physical lane p at row-major position p - 1), else a near-square grid filled in list order.
 */
export function laneGeometry(record: RunRecord, lanes: readonly number[]): { rows: number; cols: number } {
  const n = lanes.length;
  const snap = record.station.snapshot as { lanes?: { rows?: unknown; cols?: unknown } } | null | undefined;
  const rows = Number(snap?.lanes?.rows);
  const cols = Number(snap?.lanes?.cols);
  if (
    Number.isInteger(rows) &&
    Number.isInteger(cols) &&
    rows > 0 &&
    cols > 0 &&
    lanes.every((l) => l >= 1 && l <= rows * cols)
  ) {
    return { rows, cols };
  }
  const c = Math.max(1, Math.ceil(Math.sqrt(n)));
  return { rows: Math.max(1, Math.ceil(n / c)), cols: c };
}

export function safeFileName(s: string): string {
  return s.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^_+|_+$/g, '') || 'x';
}

/** The station's lane geometry as the run's snapshot recorded it (rows, cols, order, spares), when it did. */
export function laneGeometryConfig(record: RunRecord): LaneGeometryLike | undefined {
  const snap = record.station.snapshot as { lanes?: LaneGeometryLike } | null | undefined;
  const g = snap?.lanes;
  return g && Number(g.rows) > 0 && Number(g.cols) > 0 ? g : undefined;
}
