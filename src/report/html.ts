/**
 * A self-contained, printable HTML report: summary and verdict, instruments, per-step tables with limits,
 * lane heatmaps, L-I and BER plots as inline SVG. No scripts, no external URLs; every text is escaped.
 */

import { targetRange } from '../core/class-check.ts';
import type { LaneMeasurement, Measurement, RunRecord, StepRecord } from '../core/record.ts';
import { findings } from '../shared/findings.js';
import { heatmapSvg, plotSvg, type Series } from './svg.ts';
import {
  atLabel,
  escapeHtml as e,
  fmt,
  type LaneGroup,
  laneGeometry,
  laneGeometryConfig,
  laneGroups,
  laneStats,
} from './util.ts';

const MAX_ROWS_PER_STEP = 200;
const MAX_HEATMAPS_PER_GROUP = 4;

const CSS = `
body{font:13px/1.4 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#111;margin:24px;max-width:1100px}
h1{font-size:20px;margin:0 0 8px}h2{font-size:16px;margin:24px 0 8px;border-bottom:1px solid #ccc}
h3{font-size:14px;margin:16px 0 6px}
table{border-collapse:collapse;margin:6px 0 12px}td,th{border:1px solid #ccc;padding:3px 6px;text-align:left;vertical-align:top}
th{background:#f2f2f2}td.num{text-align:right;font-variant-numeric:tabular-nums}
.badge{display:inline-block;padding:2px 8px;border-radius:4px;font-weight:600;color:#fff}
.PASS{background:#2a7d2a}.FAIL{background:#c62828}.MARGINAL{background:#e08a00}.ERROR{background:#6a1b9a}
.SKIPPED{background:#777}.ABORTED{background:#444}.INTERRUPTED{background:#8d6e00}.RUNNING{background:#1565c0}
.big{font-size:18px;padding:4px 14px}.muted{color:#666}.figs{display:flex;flex-wrap:wrap;gap:12px}
svg{background:#fff}section.step{page-break-inside:avoid}section.step h2{margin-top:14px}section.step h2 small{font-size:11px;font-weight:normal}
details.perlane summary{cursor:pointer;color:#444;margin:2px 0 8px}
table.condensed td,table.condensed th{padding:1px 5px;font-size:12px;line-height:1.3}p.info{font-size:12px;margin:4px 0 6px}
.signoff td{min-width:150px;height:26px}.contents ol{margin:2px 0 2px 18px;padding:0}.toc{columns:2}
.contents{page-break-after:always}table.failures td{font-size:12px}
.notsafe{border:3px solid #c62828;background:#fdecea;color:#7f0000;padding:8px 12px;margin:8px 0 12px;font-weight:600}
.notsafe ul{margin:4px 0 0 18px;font-weight:400}
@media print{body{margin:8mm}.badge{-webkit-print-color-adjust:exact;print-color-adjust:exact}svg{-webkit-print-color-adjust:exact;print-color-adjust:exact}}
`;

function badge(v: string | undefined, big = false): string {
  const t = v ?? 'UNFINISHED';
  return `<span class="badge ${e(t)}${big ? ' big' : ''}">${e(t)}</span>`;
}

function duration(a?: string, b?: string): string {
  if (!a || !b) return '—';
  const s = (Date.parse(b) - Date.parse(a)) / 1000;
  if (!Number.isFinite(s)) return '—';
  return s < 120 ? `${s.toFixed(1)} s` : `${Math.floor(s / 60)} min ${Math.round(s % 60)} s`;
}

function kv(rows: [string, string][]): string {
  return `<table>${rows.map(([k, v]) => `<tr><th>${e(k)}</th><td>${v}</td></tr>`).join('')}</table>`;
}

/** A value without limits is information: it gets no verdict badge. */
function isInformational(m: Measurement): boolean {
  const l = m.spec.limits;
  return !l || (l.low === undefined && l.high === undefined);
}

/**
 * The lanes nearest their limit (past it first): the largest values against a high limit, the smallest against a
 * low one; none for information (no limit). "lane 57 = 1.2e-13, lane 3 = 1.1e-13".
 */
function worstLanes(m: LaneMeasurement, n = 3): string {
  const l = m.spec.limits;
  const high = l?.high !== undefined && l.high !== null;
  const low = l?.low !== undefined && l.low !== null;
  if (!high && !low) return '';
  const s = laneStats(m);
  if (s.min === s.max) return ''; // every lane alike: no lane is worst
  // distance inside the limit, relative to the limit's scale (negative: past it)
  const room = (v: number) => {
    const up = high ? (l!.high! - v) / Math.max(Math.abs(l!.high!), 1e-300) : Number.POSITIVE_INFINITY;
    const down = low ? (v - l!.low!) / Math.max(Math.abs(l!.low!), 1e-300) : Number.POSITIVE_INFINITY;
    return Math.min(up, down);
  };
  const ranked = m.lanes
    .map((lane, i) => ({ lane, v: m.values[i] }))
    .filter((x): x is { lane: number; v: number } => x.v !== null && Number.isFinite(x.v))
    .sort((a, b) => room(a.v) - room(b.v))
    .slice(0, n);
  return ranked.length ? `; worst: ${ranked.map((x) => `lane ${x.lane} = ${e(fmt(x.v))}`).join(', ')}` : '';
}

/** The coordinates of `at` that are not the step's own (a nested step's temperature is in its heading). */
function ownAt(at: Record<string, number> | undefined, stepAt: Record<string, number> | undefined) {
  if (!at || !stepAt) return at;
  const own = Object.entries(at).filter(([k, v]) => stepAt[k] !== v);
  return own.length ? Object.fromEntries(own) : undefined;
}

function measurementRow(m: Measurement, stepAt?: Record<string, number>): string {
  const l = m.spec.limits;
  let value: string;
  if (m.kind === 'scalar') value = e(fmt(m.value));
  else {
    const s = laneStats(m);
    value = `${s.n} lanes: min ${e(fmt(s.min))} / median ${e(fmt(s.median))} / max ${e(fmt(s.max))}${s.fails ? `; <b>${s.fails} failing</b>` : ''}${s.marginal ? `; ${s.marginal} marginal` : ''}${worstLanes(m)}`;
  }
  return `<tr><td>${e(m.spec.name)}</td><td>${e(atLabel(ownAt(m.at, stepAt)))}</td><td class="num">${value}</td><td>${e(m.spec.unit)}</td><td class="num">${e(fmt(l?.low))}</td><td class="num">${e(fmt(l?.high))}</td><td class="num">${e(fmt(l?.marginal))}</td><td>${isInformational(m) ? '<span class="muted">info</span>' : badge(m.verdict)}</td></tr>`;
}

function isBer(name: string): boolean {
  return /(^|[^a-z])ber([^a-z]|$)/i.test(name) || /^ber/i.test(name);
}

function isLi(g: { name: string; frames: Measurement[] }): boolean {
  return /^li[_-]|^l-i/i.test(g.name) || g.frames.some((f) => f.spec.dimensions.includes('point'));
}

/** The x coordinate of a sweep frame: the first `at` key (prefer current-like names), else the frame index. */
function xKey(frames: Measurement[]): string | null {
  const keys = new Set<string>();
  for (const f of frames) for (const k of Object.keys(f.at ?? {})) keys.add(k);
  const list = [...keys];
  return list.find((k) => /^(i|current|bias|i_bias|ibias|drive)/i.test(k)) ?? list[0] ?? null;
}

function liPlot(name: string, unit: string, frames: Measurement[], id: string): string {
  const k = xKey(frames);
  const xOf = (f: Measurement, i: number) => (k && f.at?.[k] !== undefined ? f.at[k] : i);
  const xLabel = k ?? 'point';
  let series: Series[];
  if (frames.every((f) => f.kind === 'scalar')) {
    series = [
      { name, points: frames.map((f, i) => [xOf(f, i), (f as { value: number | null }).value]), markers: true },
    ];
  } else {
    const lf = frames.filter((f): f is LaneMeasurement => f.kind === 'lanes');
    const st = lf.map((f, i) => ({ x: xOf(f, i), s: laneStats(f) }));
    series = [
      { name: 'median over lanes', points: st.map((p) => [p.x, p.s.median]), markers: true },
      { name: 'min', points: st.map((p) => [p.x, p.s.min]), dashed: true, colour: '#888' },
      { name: 'max', points: st.map((p) => [p.x, p.s.max]), dashed: true, colour: '#555' },
    ];
  }
  series.sort((a, b) => a.name.localeCompare(b.name));
  for (const s of series) s.points.sort((p, q) => p[0] - q[0]);
  return plotSvg(series, { title: `L-I: ${name}`, xLabel, yLabel: unit, width: 520, height: 280 }).replace(
    'class="plot"',
    `class="plot li" id="${e(id)}"`,
  );
}

function berPlot(m: LaneMeasurement, title: string): string {
  const floor = 1e-18;
  const ok: [number, number | null][] = [];
  const bad: [number, number | null][] = [];
  m.lanes.forEach((l, i) => {
    const v = m.values[i];
    (m.verdicts[i] === 'FAIL' ? bad : ok).push([l, v === null ? null : Math.max(v, floor)]);
  });
  const hLines =
    m.spec.limits?.high !== undefined ? [{ y: m.spec.limits.high, label: `limit ${fmt(m.spec.limits.high)}` }] : [];
  const series: Series[] = [{ name: `${m.spec.name} (${ok.length} lanes)`, points: ok, markers: true, line: false }];
  if (bad.length) {
    series.push({
      name: `failing (${bad.length})`,
      points: bad,
      markers: true,
      line: false,
      colour: '#d00',
      big: true,
    });
  }
  return plotSvg(series, {
    title,
    xLabel: 'lane',
    yLabel: `${m.spec.name} (log)`,
    logY: true,
    width: 640,
    height: 260,
    hLines,
  }).replace('class="plot"', 'class="plot ber"');
}

/** The sweep coordinate a counted-BER curve is drawn against, and its axis label. */
const BER_CURVES: Record<string, { key: string; xLabel: string; title: string }> = {
  bathtub_ber: { key: 'threshold', xLabel: 'decision threshold (fraction of the eye)', title: 'Bathtub' },
  waterfall_ber: { key: 'drive_db', xLabel: 'drive relative to nominal (dB)', title: 'Waterfall' },
};

/**
 * BER counted against the swept coordinate (bathtub: decision threshold; waterfall: drive), on a log axis: the
 * median lane, and the worst lane (the most errors deepest into the eye: the highest mean log BER) drawn apart.
 * A point that counted no error is not drawn (log axis).
 */
function berCurvePlot(g: LaneGroup, key: string, xLabel: string, title: string, id: string): string | null {
  const frames = g.frames
    .filter((f): f is LaneMeasurement => f.kind === 'lanes' && f.at?.[key] !== undefined)
    .sort((a, b) => a.at![key]! - b.at![key]!);
  if (frames.length < 2) return null;
  const score = new Map<number, number>();
  for (const f of frames)
    f.lanes.forEach((l, i) => {
      const v = f.values[i];
      score.set(l, (score.get(l) ?? 0) + Math.log10(Math.max(v ?? 1e-18, 1e-18)));
    });
  let worst: number | null = null;
  for (const [l, s] of score) if (worst === null || s > score.get(worst)!) worst = l;
  const pos = (v: number | null | undefined) => (v !== null && v !== undefined && v > 0 ? v : null);
  const series: Series[] = [
    {
      name: `median over ${frames[0]!.lanes.length} lanes`,
      points: frames.map((f) => [f.at![key]!, pos(laneStats(f).median)]),
      markers: true,
    },
  ];
  if (worst !== null)
    series.push({
      name: `worst lane ${worst}`,
      points: frames.map((f) => [f.at![key]!, pos(f.values[f.lanes.indexOf(worst!)])]),
      markers: true,
      colour: '#d00',
    });
  return plotSvg(series, { title: `${title}: ${g.name}`, xLabel, yLabel: 'BER (counted, log)', logY: true }).replace(
    'class="plot"',
    `class="plot ber-curve" id="${e(id)}"`,
  );
}

function groupFigures(record: RunRecord, g: LaneGroup, gi: number): string {
  const figs: string[] = [];
  const curve = BER_CURVES[g.name];
  const plot = curve ? berCurvePlot(g, curve.key, curve.xLabel, curve.title, `curve-${gi}`) : null;
  if (plot) {
    // a sweep of thresholds or drives reads as one curve, not as a heatmap per level
    figs.push(plot);
    return `<div class="figs">${figs.join('\n')}</div>`;
  }
  const shown = g.frames.length <= MAX_HEATMAPS_PER_GROUP ? g.frames : [g.frames[g.frames.length - 1]];
  shown.forEach((f, fi) => {
    const geo = laneGeometry(record, f.lanes);
    const title = `${g.name}${f.at ? ` @ ${atLabel(f.at)}` : ''}${shown.length < g.frames.length ? ` (last of ${g.frames.length} frames)` : ''}`;
    figs.push(heatmapSvg(f, { ...geo, title, unit: g.unit, log: isBer(g.name), id: `g${gi}f${fi}` }));
  });
  if (isBer(g.name)) {
    const last = g.frames[g.frames.length - 1];
    figs.push(berPlot(last, `${g.name} per lane${last.at ? ` @ ${atLabel(last.at)}` : ''}`));
  }
  if (g.frames.length > 1 && isLi(g)) figs.push(liPlot(g.name, g.unit, g.frames, `li-${gi}`));
  return `<div class="figs">${figs.join('\n')}</div>`;
}

function scalarLiFigures(step: StepRecord, si: number): string {
  const groups = new Map<string, Measurement[]>();
  for (const m of step.measurements) {
    if (m.kind !== 'scalar') continue;
    const list = groups.get(m.spec.name) ?? [];
    list.push(m);
    groups.set(m.spec.name, list);
  }
  const figs: string[] = [];
  let i = 0;
  for (const [name, frames] of groups) {
    if (frames.length > 1 && isLi({ name, frames }))
      figs.push(liPlot(name, frames[0].spec.unit, frames, `li-s${si}-${i++}`));
  }
  return figs.length ? `<div class="figs">${figs.join('\n')}</div>` : '';
}

/**
 * A passing run's rows: the values of one measurement over a sweep (li_curve at 8 currents, a rail's power at each
 * supply level, the waterfall's BER at each drive) folded into one row giving how many points, over what, and their
 * range; single informational values gathered into one line; the rest as it is.
 */
function condensedRows(
  ms: Measurement[],
  stepAt: Record<string, number> | undefined,
): { rows: string[]; info: string[] } {
  const rows: string[] = [];
  const info: string[] = [];
  const curves = new Map<string, Measurement[]>();
  for (const m of ms) {
    // swept: coordinates of its own beyond the step's (a nested step's temperature is not a sweep of its rows)
    const swept = m.at && Object.keys(m.at).some((k) => stepAt?.[k] === undefined);
    if (!swept) continue;
    const list = curves.get(m.spec.name) ?? [];
    list.push(m);
    curves.set(m.spec.name, list);
  }
  const done = new Set<string>();
  for (const m of ms) {
    const curve = curves.get(m.spec.name);
    if (!curve || curve.length < 2) {
      // a single informational value: one phrase of the step's information line, not a row of its own
      if (m.kind === 'scalar' && isInformational(m)) {
        const u = m.spec.unit && m.spec.unit !== 'count' && m.spec.unit !== 'bool' ? ` ${m.spec.unit}` : '';
        const own = Object.entries(m.at ?? {}).filter(([k]) => stepAt?.[k] === undefined);
        info.push(
          `${e(m.spec.name)}${own.length ? ` @ ${e(atLabel(Object.fromEntries(own)))}` : ''} = ${e(fmt(m.value))}${e(u)}`,
        );
      } else rows.push(measurementRow(m, stepAt));
      continue;
    }
    if (done.has(m.spec.name)) continue;
    done.add(m.spec.name);
    const vals = curve
      .flatMap((c) => (c.kind === 'scalar' ? [c.value] : c.values))
      .filter((v): v is number => v !== null && Number.isFinite(v));
    const lanes = curve[0]!.kind === 'lanes' ? ` of ${curve[0]!.lanes.length} lanes` : '';
    const x = xKey(curve);
    const xs = x ? curve.map((c) => c.at?.[x]).filter((v): v is number => v !== undefined) : [];
    const over = xs.length ? ` over ${e(x)} ${e(fmt(Math.min(...xs)))} … ${e(fmt(Math.max(...xs)))}` : '';
    const range = vals.length ? `: ${e(fmt(Math.min(...vals)))} … ${e(fmt(Math.max(...vals)))}` : '';
    const worst = worstVerdict(curve.map((c) => c.verdict));
    const atCommon = ownAt(
      Object.fromEntries(Object.entries(curve[0]!.at ?? {}).filter(([k]) => k !== 'point' && k !== x)),
      stepAt,
    );
    rows.push(
      `<tr><td>${e(m.spec.name)}</td><td>${e(atLabel(atCommon && Object.keys(atCommon).length ? atCommon : undefined))}</td><td class="num">${curve.length} points${lanes}${over}${range}</td><td>${e(m.spec.unit)}</td><td></td><td></td><td></td><td>${isInformational(m) ? '<span class="muted">info</span>' : badge(worst)}</td></tr>`,
    );
  }
  return { rows, info };
}

function worstVerdict(vs: string[]): string {
  for (const v of ['ERROR', 'FAIL', 'MARGINAL', 'PASS']) if (vs.includes(v)) return v;
  return vs[0] ?? 'PASS';
}

function stepSection(
  record: RunRecord,
  step: StepRecord,
  si: number,
  groups: LaneGroup[],
  gOffset: number,
  condensed: boolean,
): string {
  const c = condensed
    ? condensedRows(step.measurements, step.at)
    : { rows: step.measurements.map((m) => measurementRow(m)), info: [] };
  const all = c.rows;
  const infoLine = c.info.length
    ? `<p class="info"><span class="muted">information:</span> ${c.info.join(' · ')}</p>`
    : '';
  const rows = all.slice(0, MAX_ROWS_PER_STEP).join('\n');
  const more =
    all.length > MAX_ROWS_PER_STEP
      ? `<p class="muted">… ${all.length - MAX_ROWS_PER_STEP} more measurements (see the CSV or JSON export)</p>`
      : '';
  const table = step.measurements.length
    ? `${all.length ? `<table${condensed ? ' class="condensed"' : ''}><tr><th>measurement</th><th>at</th><th>value</th><th>unit</th><th>low</th><th>high</th><th>marginal</th><th>verdict</th></tr>\n${rows}</table>` : ''}${more}${infoLine}`
    : '<p class="muted">no measurements</p>';
  const shown = groups.map((g, k) => `<h3>${e(g.name)}</h3>${groupFigures(record, g, gOffset + k)}`).join('\n');
  const scalarFigs = scalarLiFigures(step, si);
  const nFigs = groups.length + (scalarFigs ? 1 : 0);
  // a passing run's per-lane figures are collapsed (every value is in the CSV and Parquet exports)
  const figs =
    condensed && nFigs > 0
      ? `<details class="perlane"><summary>per-lane figures (${nFigs}): heatmaps and plots; every value is in the CSV/Parquet export</summary>${scalarFigs}${shown}</details>`
      : `${scalarFigs}${shown}`;
  const at = step.at ? ` @ ${e(atLabel(step.at))}` : '';
  const meta = `${e(step.id)} · ${e(step.type)} · ${e(step.startedAt)} · ${duration(step.startedAt, step.finishedAt)}${step.attempts && step.attempts > 1 ? ` · ${step.attempts} attempts` : ''}`;
  // condensed: the step's id, type, start and duration on its heading's line
  return `<section class="step" id="step-${step.index}"><h2>${step.index}. ${e(step.name)}${at} ${badge(step.verdict)}${condensed ? ` <small class="muted">${meta}</small>` : ''}</h2>
${condensed ? '' : `<p class="muted">${meta}</p>`}
${step.error ? `<p><b>Error:</b> ${e(step.error)}</p>` : ''}
${table}
${figs}
</section>`;
}

/**
 * The bench's safe state at the end of the run, as read back: a banner no one can miss when an instrument did not
 * confirm it, and a table of what each instrument read back (start and end).
 */
function safetySection(record: RunRecord): { banner: string; table: string } {
  const end = record.safeState;
  if (!end) return { banner: '', table: '' };
  const bad = end.instruments.filter((i) => !i.safe);
  const banner = end.safe
    ? ''
    : `<div class="notsafe">BENCH NOT SAFE at the end of this run: check these instruments by hand before touching the DUT.<ul>${bad
        .map((i) => `<li>${e(i.role)}${i.resource ? ` (${e(i.resource)})` : ''}: ${e(i.error ?? 'not confirmed')}</li>`)
        .join('')}</ul></div>`;
  const rows = (check: NonNullable<RunRecord['safeState']>, when: string) =>
    check.instruments
      .map(
        (i) =>
          `<tr><td>${e(when)}</td><td>${e(i.role)}</td><td>${i.safe ? 'safe' : '<b>NOT SAFE</b>'}</td><td>${e(i.safe ? i.observed : i.error)}</td><td class="num">${e(i.ms)}</td></tr>`,
      )
      .join('');
  const table = `<h2 id="safe-state">Bench safe state (read back)</h2><table><tr><th>when</th><th>instrument</th><th>state</th><th>read back</th><th>ms</th></tr>${
    record.startState ? rows(record.startState, 'before the first step') : ''
  }${rows(end, 'end of run')}</table>`;
  return { banner, table };
}

/** The step run a finding comes from: same id, and (for a nested step) the same coordinates. */
function stepOf(record: RunRecord, f: { step: string; at?: Record<string, number> }): StepRecord | undefined {
  return record.steps.find(
    (st) => st.id === f.step && Object.entries(st.at ?? {}).every(([k, v]) => f.at === undefined || f.at[k] === v),
  );
}

/** Who tested, and room for who reviews and approves, on the first page. */
function signOff(record: RunRecord): string {
  return `<h2 id="sign-off">Sign-off</h2><table class="signoff"><tr><th>role</th><th>name</th><th>date</th><th>signature</th></tr>
<tr><td>Tested by</td><td>${e(record.operator)}</td><td>${e((record.finishedAt ?? record.startedAt).slice(0, 10))}</td><td></td></tr>
<tr><td>Reviewed by</td><td></td><td></td><td></td></tr>
<tr><td>Approved by</td><td></td><td></td><td></td></tr></table>`;
}

/** The contents: every section and every step run (a nested step with its coordinates), with its verdict. */
function contents(record: RunRecord): string {
  const steps = record.steps
    .map(
      (st) =>
        `<li><a href="#step-${st.index}">${st.index}. ${e(st.name)}${st.at ? ` @ ${e(atLabel(st.at))}` : ''}</a> ${e(st.verdict ?? 'UNFINISHED')}</li>`,
    )
    .join('');
  return `<nav class="contents" aria-label="contents"><h2>Contents</h2><ol class="toc">
<li><a href="#failures">Failures first</a></li><li><a href="#sign-off">Sign-off</a></li>
<li><a href="#safe-state">Bench safe state</a></li><li><a href="#instruments">Instruments</a></li>
<li><a href="#lane-map">Lane map</a></li><li>Steps<ol>${steps}</ol></li></ol></nav>`;
}

export function renderHtml(record: RunRecord): string {
  const s = record.summary;
  const summaryRows: [string, string][] = [
    ['Run', e(record.id)],
    ['DUT', e(record.dut)],
    ...(record.lot !== undefined ? [['Lot', e(record.lot)] as [string, string]] : []),
    ...(record.wafer !== undefined ? [['Wafer', e(record.wafer)] as [string, string]] : []),
    ...(record.die ? [['Die', e(`${record.die.x}, ${record.die.y}`)] as [string, string]] : []),
    [
      'Sequence',
      `${e(record.sequence.name)}${record.sequence.version ? ` v${e(record.sequence.version)}` : ''} <span class="muted">${e(record.sequence.hash)}</span>`,
    ],
    ['Station', e(record.station.name)],
    ['Operator', e(record.operator)],
    ['Software', `${e(record.software.version)}${record.software.revision ? ` (${e(record.software.revision)})` : ''}`],
    ['Started', e(record.startedAt)],
    ['Finished', e(record.finishedAt ?? '—')],
    ['Duration', duration(record.startedAt, record.finishedAt)],
  ];
  if (record.error) summaryRows.push(['Error', e(record.error)]);
  if (s?.energyPerBitPj !== undefined) summaryRows.push(['Energy per bit', `${e(fmt(s.energyPerBitPj))} pJ/bit`]);
  if (s?.lanesActive !== undefined) summaryRows.push(['Lanes active', e(s.lanesActive)]);
  if (s?.lanesDead !== undefined) summaryRows.push(['Lanes dead', e(s.lanesDead)]);
  if (s?.lanesRemapped !== undefined) summaryRows.push(['Lanes remapped', e(s.lanesRemapped)]);
  if (s?.worstBerUpperBound !== undefined)
    summaryRows.push([
      'Worst BER (95 % upper bound)',
      `${e(fmt(s.worstBerUpperBound))}${s.worstLane !== undefined ? ` on lane ${e(s.worstLane)}` : ''}`,
    ]);
  if (record.abort)
    summaryRows.push([
      'Abort',
      `${e(record.abort.requestedAt)} by ${e(record.abort.by)}${record.abort.safeStateMs !== undefined ? `, safe state in ${e(record.abort.safeStateMs)} ms` : ''}`,
    ]);
  const safety = safetySection(record);
  const stepCounts = ['PASS', 'MARGINAL', 'FAIL', 'ERROR', 'SKIPPED']
    .map((v) => [v, record.steps.filter((st) => st.verdict === v).length] as const)
    .filter(([, n]) => n > 0)
    .map(([v, n]) => `${badge(v)} ${n}`)
    .join(' ');

  const instruments = record.instruments.length
    ? `<h2 id="instruments">Instruments</h2><table><tr><th>role</th><th>resource</th><th>driver</th><th>manufacturer</th><th>model</th><th>serial</th><th>firmware</th></tr>${record.instruments
        .map(
          (i) =>
            `<tr><td>${e(i.role)}</td><td>${e(i.resource)}</td><td>${e(i.driver)}</td><td>${e(i.identity?.manufacturer)}</td><td>${e(i.identity?.model)}</td><td>${e(i.identity?.serial)}</td><td>${e(i.identity?.firmware)}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const lm = record.laneMap;
  const laneMap = lm
    ? `<h2 id="lane-map">Lane map</h2>${kv([
        ['Logical lanes', e(lm.logicalToPhysical.length)],
        ['Dead', e(lm.dead.join(', ') || 'none')],
        ['Swapped', e(lm.swapped.map(([a, b]) => `${a}↔${b}`).join(', ') || 'none')],
        ['Remapped', e(lm.remapped.map((r) => `logical ${r.logical}: ${r.from}→${r.to}`).join(', ') || 'none')],
        ['Spares left', e(lm.sparesLeft.join(', ') || 'none')],
      ])}`
    : '';
  const holds = record.holds.length
    ? `<h2>Holds</h2><table><tr><th>step</th><th>watched</th><th>started</th><th>ended</th><th>value</th><th>band</th></tr>${record.holds
        .map(
          (h) =>
            `<tr><td>${e(h.step)}</td><td>${e(h.watched)}</td><td>${e(h.startedAt)}</td><td>${e(h.endedAt ?? '—')}</td><td class="num">${e(fmt(h.value))}</td><td>${e(`${fmt(h.band[0])} … ${fmt(h.band[1])}`)}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  const prompts = record.prompts.length
    ? `<h2>Operator prompts</h2><table><tr><th>step</th><th>message</th><th>asked</th><th>answer</th><th>by</th><th>answered</th></tr>${record.prompts
        .map(
          (p) =>
            `<tr><td>${e(p.step)}</td><td>${e(p.message)}</td><td>${e(p.askedAt)}</td><td>${e(p.answer ?? '—')}</td><td>${e(p.answeredBy ?? '')}</td><td>${e(p.answeredAt ?? '')}</td></tr>`,
        )
        .join('')}</table>`
    : '';

  const found = findings(record.steps, { geometry: laneGeometryConfig(record), laneMap: record.laneMap, maxLanes: 12 });
  const failures = found.length
    ? `<h2 id="failures">Failures first: ${found.filter((f) => f.severity !== 'MARGINAL').length} failing, ${found.filter((f) => f.severity === 'MARGINAL').length} marginal</h2>
<table class="failures"><tr><th>verdict</th><th>step</th><th>at</th><th>measurement</th><th>value</th><th>limit</th><th>lanes (physical; row, col; logical; state)</th></tr>${found
        .map(
          (f) =>
            `<tr><td>${badge(f.severity)}</td><td><a href="#step-${stepOf(record, f)?.index ?? ''}">${e(f.stepName)}</a></td><td>${e(atLabel(f.at))}</td><td>${e(f.measurement ?? '(step error)')}</td><td class="num">${f.measurement === null ? e(f.text.replace(/^ERROR [^:]*: /, '')) : f.lanes.length ? `${f.laneCount} lane(s)` : e(fmt(f.value))}</td><td>${e(f.limit)}</td><td>${f.lanes
              .slice(0, 12)
              .map((l) => `${e(l.text)} = ${e(fmt(l.value))}`)
              .join('<br>')}${f.laneCount > 12 ? `<br>… ${f.laneCount - 12} more` : ''}</td></tr>`,
        )
        .join('')}</table>`
    : `<h2 id="failures">Failures first</h2><p>No failing or marginal measurement.</p>`;
  // the passing report is short: a first page to sign, then each step condensed (distributions and worst lanes,
  // curve points folded, per-lane figures collapsed); a run that did not pass shows everything open
  const condensed = record.outcome === 'PASS';
  const groups = laneGroups(record);
  let gOffset = 0;
  const steps = record.steps
    .map((st, si) => {
      const mine = groups.filter((g) => g.step === st);
      const html = stepSection(record, st, si, mine, gOffset, condensed);
      gOffset += mine.length;
      return html;
    })
    .join('\n');

  return `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${e(`cpobench ${record.sequence.name} ${record.dut} ${record.outcome}`)}</title>
<style>${CSS}</style></head>
<body>
<h1>${e(record.sequence.name)} — DUT ${e(record.dut)} ${badge(record.outcome, true)}</h1>
${safety.banner}
<p>${stepCounts}</p>
${failures}
${condensed ? '<p class="muted">Passed: each step below shows its distributions and worst lanes; its per-lane figures are collapsed, and every value is in the CSV and Parquet exports.</p>' : ''}
${kv(summaryRows)}
${signOff(record)}
${contents(record)}
${classSection(record)}
${safety.table}
${instruments}
${laneMap}
${holds}
${prompts}
${steps}
<p class="muted">cpobench record schema ${e(record.schema)} · generated ${e(new Date().toISOString())}</p>
</body></html>
`;
}

/** "DUT against its class": the device (fibre, pitch, lanes/mm²) and each published target, measured, met or not. */
function classSection(record: RunRecord): string {
  const d = record.summary?.device;
  const c = record.summary?.classCheck;
  if (!d && !c) return '';
  const device = d
    ? kv([
        ['Class', e(d.class ?? '—')],
        ['Fibre', d.fibreLengthM === undefined ? '—' : `${e(fmt(d.fibreLengthM))} m`],
        ['Lane pitch', d.lanePitchUm === undefined ? '—' : `${e(fmt(d.lanePitchUm))} µm`],
        ['Lanes per mm²', d.lanesPerMm2 === undefined ? '—' : e(fmt(d.lanesPerMm2))],
      ])
    : '';
  const table = c
    ? `<p>${e(c.title)}${c.copperReference ? `; copper reference ${e(fmt(c.copperReference.pjPerBit))} pJ/bit (${e(c.copperReference.note)})` : ''}</p><table><tr><th>target</th><th>published</th><th>measured</th><th>verdict</th><th>source</th></tr>${c.results
        .map(
          (r) =>
            `<tr><td>${e(r.title)}</td><td>${e(targetRange(r))} ${e(r.unit)}</td><td class="num">${r.value === null ? '—' : e(fmt(r.value))}</td><td>${r.met === null ? 'not measured' : badge(r.met ? 'PASS' : 'FAIL')}</td><td>${e(r.source)}</td></tr>`,
        )
        .join('')}</table>`
    : '';
  return `<h2>DUT against its class</h2>${device}${table}`;
}
