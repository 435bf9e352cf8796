/**
 * CSV export. The default is one tidy long table, `measurements.csv`: one row per value (one per lane of a per-lane
 * measurement, one per scalar), every row the same columns: `run,step_index,step,step_name,measurement,` then one
 * column per sweep coordinate found in the run (`temperature`, `current`, `rate`, `point`...: SI values as in the
 * JSON record, empty where a row has none), then `lane,value,unit,low,high,verdict`. pandas, DuckDB and a
 * spreadsheet read it as it is. Per-measurement tables (one file per lane-dimensioned measurement of a step,
 * `lane,value,verdict` + coordinates, and `scalars.csv`) are written too when asked for (`--csv-tables`).
 * Values are written with full precision; a missing value is an empty cell. RFC 4180 quoting, `\n` line ends.
 */
import { join } from 'node:path';
import type { RunRecord } from '../core/record.ts';
import { ensureDir, writeFileAtomic } from '../core/write-file.ts';
import { coordKeys } from '../shared/coordinates.js';
import { laneGroups, safeFileName } from './util.ts';

export const TIDY_CSV_FILE = 'measurements.csv';

function cell(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
  const s = String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function unique(name: string, used: Set<string>): string {
  let n = name;
  for (let i = 2; used.has(n); i++) n = name.replace(/\.csv$/, `_${i}.csv`);
  used.add(n);
  return n;
}

/** The per-measurement tables: filename → CSV text (`scalars.csv` for the scalars). */
export function csvTables(record: RunRecord): Map<string, string> {
  const out = new Map<string, string>();
  const used = new Set<string>();
  for (const g of laneGroups(record)) {
    const atKeys: string[] = [];
    for (const f of g.frames) for (const k of Object.keys(f.at ?? {})) if (!atKeys.includes(k)) atKeys.push(k);
    const coordKeys = new Set(g.frames.map((f) => atKeys.map((k) => f.at?.[k]).join(',')));
    const withFrame = coordKeys.size < g.frames.length;
    const header = ['lane', 'value', 'verdict', ...atKeys.map(cell), ...(withFrame ? ['frame'] : [])].join(',');
    const parts: string[] = [header];
    g.frames.forEach((f, fi) => {
      let suffix = '';
      for (const k of atKeys) suffix += `,${cell(f.at?.[k])}`;
      if (withFrame) suffix += `,${fi}`;
      const lines = new Array<string>(f.lanes.length);
      for (let i = 0; i < f.lanes.length; i++) {
        const v = f.values[i];
        lines[i] = `${f.lanes[i]},${v === null || !Number.isFinite(v) ? '' : v},${f.verdicts[i]}${suffix}`;
      }
      parts.push(lines.join('\n'));
    });
    const file = unique(
      `${String(g.step.index).padStart(2, '0')}_${safeFileName(g.step.id)}_${safeFileName(g.name)}.csv`,
      used,
    );
    out.set(file, `${parts.join('\n')}\n`);
  }
  const scalars: string[] = [];
  for (const step of record.steps) {
    for (const m of step.measurements) {
      if (m.kind !== 'scalar') continue;
      const at = m.at
        ? Object.entries(m.at)
            .map(([k, v]) => `${k}=${v}`)
            .join(';')
        : '';
      const l = m.spec.limits;
      scalars.push(
        [step.index, step.id, m.spec.name, m.value, m.spec.unit, l?.low, l?.high, l?.marginal, m.verdict, at]
          .map(cell)
          .join(','),
      );
    }
  }
  if (scalars.length) {
    out.set(
      unique('scalars.csv', used),
      `step_index,step,measurement,value,unit,low,high,marginal,verdict,at\n${scalars.join('\n')}\n`,
    );
  }
  return out;
}

/** The sweep coordinate names of a run, in reading order (temperature first, point indices last). */
export function runCoordinates(record: RunRecord): string[] {
  const all: Record<string, number> = {};
  for (const step of record.steps)
    for (const m of step.measurements) for (const k of Object.keys(m.at ?? {})) all[k] = 0;
  return coordKeys(all);
}

/** One value of the tidy long table (CSV and Parquet): a lane of a per-lane measurement, or a scalar. */
export interface TidyRow {
  run: string;
  stepIndex: number;
  step: string;
  stepName: string;
  measurement: string;
  /** by coordinate name (runCoordinates order); absent where the value has none */
  at: Record<string, number> | undefined;
  lane: number | null;
  value: number | null;
  unit: string;
  low: number | null;
  high: number | null;
  verdict: string;
}

/** Every value of the run in record order, one row each. */
export function* tidyRows(record: RunRecord): Generator<TidyRow> {
  for (const step of record.steps) {
    for (const m of step.measurements) {
      const base = {
        run: record.id,
        stepIndex: step.index,
        step: step.id,
        stepName: step.name,
        measurement: m.spec.name,
        at: m.at,
        unit: m.spec.unit,
        low: m.spec.limits?.low ?? null,
        high: m.spec.limits?.high ?? null,
      };
      if (m.kind === 'scalar') {
        yield { ...base, lane: null, value: m.value, verdict: m.verdict };
        continue;
      }
      for (let i = 0; i < m.lanes.length; i++) {
        yield { ...base, lane: m.lanes[i], value: m.values[i], verdict: m.verdicts[i] };
      }
    }
  }
}

/**
 * The tidy long table in chunks (the header, then one chunk per measurement: its rows, each ending in `\n`), so
 * a million values are written to a file without ever being one string. The cells shared by a measurement's rows
 * (run, step, measurement, coordinates; unit, limits) are built once per measurement, not once per value.
 */
export function* tidyCsvChunks(record: RunRecord): Generator<string> {
  const coords = runCoordinates(record);
  const header = [
    'run',
    'step_index',
    'step',
    'step_name',
    'measurement',
    ...coords,
    'lane',
    'value',
    'unit',
    'low',
    'high',
    'verdict',
  ].map(cell);
  yield `${header.join(',')}\n`;
  const runCell = cell(record.id);
  for (const step of record.steps) {
    const stepCells = `${runCell},${step.index},${cell(step.id)},${cell(step.name)}`;
    for (const m of step.measurements) {
      const l = m.spec.limits;
      let head = `${stepCells},${cell(m.spec.name)}`;
      for (const k of coords) head += `,${cell(m.at?.[k])}`;
      head += ',';
      const tail = `,${cell(m.spec.unit)},${cell(l?.low)},${cell(l?.high)},`;
      if (m.kind === 'scalar') {
        yield `${head},${cell(m.value)}${tail}${m.verdict}\n`;
        continue;
      }
      const { lanes, values, verdicts } = m;
      let chunk = '';
      for (let i = 0; i < lanes.length; i++) {
        const v = values[i];
        chunk += `${head}${lanes[i]},${v === null || v === undefined || !Number.isFinite(v) ? '' : v}${tail}${verdicts[i]}\n`;
      }
      yield chunk;
    }
  }
}

/** The tidy long table: one row per value, the same columns on every row. */
export function renderTidyCsv(record: RunRecord): string {
  let out = '';
  for (const chunk of tidyCsvChunks(record)) out += chunk;
  return out;
}

/**
 * Writes `measurements.csv` into `dir` (created if needed) and, with `tables`, the per-measurement tables; each
 * file atomically. Returns the paths written. Throws OutputError naming the directory or the file at the first one
 * that cannot be written.
 */
export function writeCsvDir(record: RunRecord, dir: string, opts: { tables?: boolean } = {}): string[] {
  ensureDir(dir);
  const files = new Map<string, string | Iterable<string>>([[TIDY_CSV_FILE, tidyCsvChunks(record)]]);
  if (opts.tables) for (const [name, text] of csvTables(record)) files.set(name, text);
  const paths: string[] = [];
  for (const [name, text] of files) {
    const p = join(dir, name);
    writeFileAtomic(p, text);
    paths.push(p);
  }
  return paths;
}

/** The single-file CSV (download, `report --format csv`): the tidy long table. */
export function renderCsv(record: RunRecord): string {
  return renderTidyCsv(record);
}
