/** Server-side inline SVG for the HTML report: lane heatmaps, line plots and per-lane scatter plots. */
import type { LaneMeasurement } from '../core/record.ts';
import { escapeXml, fmt } from './util.ts';

// Viridis, sampled: perceptually uniform and readable when printed in grey.
const STOPS = [
  [68, 1, 84],
  [71, 44, 122],
  [59, 81, 139],
  [44, 113, 142],
  [33, 144, 141],
  [39, 173, 129],
  [92, 200, 99],
  [170, 220, 50],
  [253, 231, 37],
];

export function colour(t: number): string {
  const x = Math.min(1, Math.max(0, Number.isFinite(t) ? t : 0)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const c = STOPS[i].map((a, k) => Math.round(a + (STOPS[i + 1][k] - a) * f));
  return `rgb(${c[0]},${c[1]},${c[2]})`;
}

export interface HeatmapOptions {
  rows: number;
  cols: number;
  title: string;
  unit: string;
  /** Colour by log10 of the value (BER). */
  log?: boolean;
  /** Unique within the document (gradient id). */
  id?: string;
}

export function heatmapSvg(m: LaneMeasurement, o: HeatmapOptions): string {
  const n = o.rows * o.cols;
  const cell = Math.max(5, Math.min(16, Math.floor(320 / Math.max(o.cols, o.rows))));
  const left = 28;
  const top = 26;
  const w = Math.max(280, left + o.cols * cell + 110);
  const h = top + o.rows * cell + 10;
  const tr = (v: number | null) =>
    v === null || !Number.isFinite(v) ? null : o.log ? (v > 0 ? Math.log10(v) : null) : v;
  const tv = m.values.map(tr);
  const finite = tv.filter((v): v is number => v !== null);
  const lo = finite.length ? Math.min(...finite) : 0;
  const hi = finite.length ? Math.max(...finite) : 1;
  const span = hi - lo || 1;
  const byPhysical = m.lanes.every((l) => l >= 1 && l <= n);
  const cells: string[] = [];
  m.lanes.forEach((lane, i) => {
    const pos = byPhysical ? lane - 1 : i;
    if (pos >= n) return;
    const r = Math.floor(pos / o.cols);
    const c = pos % o.cols;
    const v = tv[i];
    const fill = v === null ? '#bbb' : colour((v - lo) / span);
    const bad = m.verdicts[i] === 'FAIL';
    const marg = m.verdicts[i] === 'MARGINAL';
    const stroke = bad ? ' stroke="#d00" stroke-width="2"' : marg ? ' stroke="#e90" stroke-width="1.5"' : '';
    cells.push(
      `<rect x="${left + c * cell}" y="${top + r * cell}" width="${cell - 1}" height="${cell - 1}" fill="${fill}"${stroke}><title>lane ${lane}: ${escapeXml(fmt(m.values[i]))} ${escapeXml(o.unit)} (${m.verdicts[i]})</title></rect>`,
    );
  });
  const legendX = left + o.cols * cell + 14;
  const legendH = Math.max(40, o.rows * cell - 20);
  const grad = `grad-${o.id ?? 'hm'}`;
  // Top of the bar = highest value; offsets must increase along the gradient.
  const stops = STOPS.map((_, k) => {
    const t = k / (STOPS.length - 1);
    return `<stop offset="${t.toFixed(3)}" stop-color="${colour(1 - t)}"/>`;
  }).join('');
  const lab = (v: number) => escapeXml(o.log ? fmt(10 ** v) : fmt(v));
  return `<svg xmlns="http://www.w3.org/2000/svg" class="heatmap" width="${w}" height="${h}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${escapeXml(o.title)}">
<text x="${left}" y="16" font-size="12">${escapeXml(o.title)}</text>
<defs><linearGradient id="${grad}" x1="0" y1="0" x2="0" y2="1">${stops}</linearGradient></defs>
${cells.join('\n')}
<text x="${left - 4}" y="${top + cell * 0.75}" font-size="9" text-anchor="end">1</text>
<text x="${left - 4}" y="${top + (o.rows - 1) * cell + cell * 0.75}" font-size="9" text-anchor="end">${o.rows}</text>
<rect x="${legendX}" y="${top}" width="12" height="${legendH}" fill="url(#${grad})"/>
<text x="${legendX + 16}" y="${top + 9}" font-size="10">${lab(hi)}</text>
<text x="${legendX + 16}" y="${top + legendH}" font-size="10">${lab(lo)}</text>
<text x="${legendX + 16}" y="${top + legendH / 2}" font-size="10">${escapeXml(o.log ? `log ${o.unit}` : o.unit)}</text>
</svg>`;
}

export interface Series {
  name: string;
  points: [number, number | null][];
  colour?: string;
  dashed?: boolean;
  markers?: boolean;
  /** Larger markers (e.g. failing lanes). */
  big?: boolean;
  line?: boolean;
}

export interface PlotOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  logY?: boolean;
  width?: number;
  height?: number;
  /** Horizontal reference lines (limits). */
  hLines?: { y: number; label: string }[];
}

function niceTicks(lo: number, hi: number, n = 5): number[] {
  if (!(hi > lo)) return [lo];
  const raw = (hi - lo) / n;
  const mag = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((k) => k * mag).find((s) => s >= raw) ?? raw;
  const out: number[] = [];
  for (let v = Math.ceil(lo / step) * step; v <= hi + step * 1e-9; v += step) out.push(Number(v.toPrecision(12)));
  return out;
}

/** Whole decades from lo to hi (log10 values), at most 8 of them. */
export function decadeTicks(lo: number, hi: number): number[] {
  const step = Math.max(1, Math.ceil((hi - lo) / 8));
  const out: number[] = [];
  for (let v = Math.ceil(lo); v <= Math.floor(hi); v += step) out.push(v);
  return out;
}

const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#ff7f0e', '#17becf'];

export function plotSvg(series: Series[], o: PlotOptions): string {
  const W = o.width ?? 560;
  const H = o.height ?? 300;
  const m = { l: 64, r: 16, t: 26, b: 44 };
  const ty = (v: number | null) =>
    v === null || !Number.isFinite(v) ? null : o.logY ? (v > 0 ? Math.log10(v) : null) : v;
  const xs: number[] = [];
  const ys: number[] = [];
  for (const s of series) {
    for (const [x, y] of s.points) {
      const t = ty(y);
      if (t !== null && Number.isFinite(x)) {
        xs.push(x);
        ys.push(t);
      }
    }
  }
  for (const h of o.hLines ?? []) {
    const t = ty(h.y);
    if (t !== null) ys.push(t);
  }
  let x0 = xs.length ? Math.min(...xs) : 0;
  let x1 = xs.length ? Math.max(...xs) : 1;
  let y0 = ys.length ? Math.min(...ys) : 0;
  let y1 = ys.length ? Math.max(...ys) : 1;
  if (x1 === x0) {
    x0 -= 1;
    x1 += 1;
  }
  if (y1 === y0) {
    y0 -= 1;
    y1 += 1;
  }
  if (o.logY) {
    // a log axis spans whole decades, ticked at each decade: 1e-12, 1e-11, ... (never 1e-9, 1e-9, 1e-9.01)
    y0 = Math.floor(y0);
    y1 = Math.ceil(y1);
    if (y1 === y0) y1 = y0 + 1;
  } else {
    const pad = (y1 - y0) * 0.05;
    y0 -= pad;
    y1 += pad;
  }
  const px = (x: number) => m.l + ((x - x0) / (x1 - x0)) * (W - m.l - m.r);
  const py = (y: number) => H - m.b - ((y - y0) / (y1 - y0)) * (H - m.t - m.b);
  const parts: string[] = [];
  parts.push(`<text x="${m.l}" y="16" font-size="12">${escapeXml(o.title)}</text>`);
  parts.push(
    `<rect x="${m.l}" y="${m.t}" width="${W - m.l - m.r}" height="${H - m.t - m.b}" fill="none" stroke="#888" stroke-width="0.5"/>`,
  );
  for (const t of niceTicks(x0, x1)) {
    parts.push(
      `<line x1="${px(t)}" x2="${px(t)}" y1="${H - m.b}" y2="${H - m.b + 4}" stroke="#444"/><text x="${px(t)}" y="${H - m.b + 15}" font-size="10" text-anchor="middle">${escapeXml(fmt(t))}</text>`,
    );
  }
  const yTicks = o.logY ? decadeTicks(y0, y1) : niceTicks(y0, y1);
  for (const t of yTicks) {
    const label = o.logY ? `1e${t}` : fmt(t);
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${py(t)}" y2="${py(t)}" stroke="#ddd" stroke-width="0.5"/><text x="${m.l - 4}" y="${py(t) + 3}" font-size="10" text-anchor="end">${escapeXml(label)}</text>`,
    );
  }
  parts.push(
    `<text x="${(m.l + W - m.r) / 2}" y="${H - 8}" font-size="11" text-anchor="middle">${escapeXml(o.xLabel)}</text>`,
  );
  parts.push(
    `<text transform="translate(14 ${(m.t + H - m.b) / 2}) rotate(-90)" font-size="11" text-anchor="middle">${escapeXml(o.yLabel)}</text>`,
  );
  for (const h of o.hLines ?? []) {
    const t = ty(h.y);
    if (t === null) continue;
    parts.push(
      `<line x1="${m.l}" x2="${W - m.r}" y1="${py(t)}" y2="${py(t)}" stroke="#d00" stroke-dasharray="5 3"/><text x="${W - m.r - 2}" y="${py(t) - 3}" font-size="10" text-anchor="end" fill="#d00">${escapeXml(h.label)}</text>`,
    );
  }
  series.forEach((s, si) => {
    const col = s.colour ?? PALETTE[si % PALETTE.length];
    const pts = s.points
      .map(([x, y]) => [x, ty(y)] as const)
      .filter((p): p is readonly [number, number] => p[1] !== null && Number.isFinite(p[0]));
    if (s.line !== false && pts.length > 1) {
      const d = pts.map(([x, y], i) => `${i ? 'L' : 'M'}${px(x).toFixed(1)},${py(y).toFixed(1)}`).join('');
      parts.push(
        `<path d="${d}" fill="none" stroke="${col}" stroke-width="1.5"${s.dashed ? ' stroke-dasharray="4 3"' : ''}/>`,
      );
    }
    if (s.markers || pts.length === 1) {
      for (const [x, y] of pts)
        parts.push(`<circle cx="${px(x).toFixed(1)}" cy="${py(y).toFixed(1)}" r="2" fill="${col}"/>`);
    }
    parts.push(
      `<text x="${W - m.r - 6}" y="${m.t + 14 + si * 13}" font-size="10" text-anchor="end" fill="${col}">${escapeXml(s.name)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" class="plot" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${escapeXml(o.title)}">\n${parts.join('\n')}\n</svg>`;
}
