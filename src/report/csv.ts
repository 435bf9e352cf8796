/**
 * CSV export: one table per lane-dimensioned measurement (all frames of one measurement name in one step),
 * columns `lane,value,verdict` then one column per coordinate in `at` (and `frame` when several frames share
 * the same coordinates). Scalars go to `scalars.csv`. Values are written with full precision; a missing value
 * is an empty cell. RFC 4180 quoting, `\n` line ends.
 */
import { join } from 'node:path';
import type { RunRecord } from '../core/record.ts';
import { ensureDir, writeFileAtomic } from '../core/write-file.ts';
import { laneGroups, safeFileName } from './util.ts';

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

/** filename → CSV text. */
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

/**
 * Writes every table into `dir` (created if needed), each file atomically; returns the paths written. Throws
 * OutputError naming the directory or the file at the first one that cannot be written.
 */
export function writeCsvDir(record: RunRecord, dir: string): string[] {
  ensureDir(dir);
  const paths: string[] = [];
  for (const [name, text] of csvTables(record)) {
    const p = join(dir, name);
    writeFileAtomic(p, text);
    paths.push(p);
  }
  return paths;
}

/**
 * All tables in one text (for a single-file download): each table is preceded by a line `# <filename>` and
 * followed by a blank line. A run with one table gives exactly that table.
 */
export function renderCsv(record: RunRecord): string {
  const tables = csvTables(record);
  if (tables.size === 1) return [...tables.values()][0];
  return [...tables].map(([name, text]) => `# ${name}\n${text}`).join('\n');
}
