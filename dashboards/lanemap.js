// Lane map: a rows x cols heatmap of one per-lane frame on a canvas, with hover details and selection. Dead lanes
// are crossed out, spares outlined, remapped lanes marked with an arrow; the tooltip names each ("dead",
// "remapped to spare 389") with both numberings (physical lane, row/col, logical #).
import { fmtValue, limitText } from '/shared/format.js';

const STOPS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];
export const COLOURS = { empty: '#1c2128', noValue: '#6e7681', fail: '#f85149', dead: '#000000', spare: '#58a6ff' };

/** viridis-like colour for t in [0, 1] */
export function colour(t) {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return `rgb(${Math.round(a[0] + (b[0] - a[0]) * f)},${Math.round(a[1] + (b[1] - a[1]) * f)},${Math.round(a[2] + (b[2] - a[2]) * f)})`;
}

/** A metric whose values span decades: drawn on a log colour scale. */
export function isLogMetric(metric, unit) {
  return /ber|bits|errors/i.test(metric) && unit !== 'dB';
}

export function isFlagMetric(metric, unit) {
  return unit === 'bool' || /^(dead|remapped|spare)/i.test(metric) || /_ok$/i.test(metric);
}

/** For flags named *_ok, 1 is good; for the others (dead, remapped, ...) 1 marks the lane. */
export function flagOneIsGood(metric) {
  return /_ok$/i.test(metric);
}

export function fmt(v, unit = '') {
  return fmtValue(v, unit);
}

function outside(v, limits) {
  if (!limits || v === null || v === undefined) return false;
  return (limits.low !== undefined && v < limits.low) || (limits.high !== undefined && v > limits.high);
}

export class LaneMap {
  constructor(canvas, tooltip, legend, onSelect) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.legend = legend;
    this.onSelect = onSelect;
    this.rows = 20;
    this.cols = 20;
    this.colMajor = false;
    this.view = null;
    canvas.addEventListener('mousemove', (ev) => this.hover(ev));
    canvas.addEventListener('mouseleave', () => {
      this.tooltip.hidden = true;
    });
    canvas.addEventListener('click', (ev) => {
      const lane = this.laneAt(ev);
      if (lane) this.onSelect(lane);
    });
  }

  setGeometry(rows, cols, order) {
    this.rows = rows;
    this.cols = cols;
    this.colMajor = order === 'column-major';
  }

  laneOf(row, col) {
    return this.colMajor ? col * this.rows + row + 1 : row * this.cols + col + 1;
  }

  posOf(lane) {
    const i = lane - 1;
    return this.colMajor ? [i % this.rows, Math.floor(i / this.rows)] : [Math.floor(i / this.cols), i % this.cols];
  }

  laneAt(ev) {
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor(((ev.clientX - r.left) / r.width) * this.cols);
    const row = Math.floor(((ev.clientY - r.top) / r.height) * this.rows);
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return null;
    return this.laneOf(row, col);
  }

  /** The tooltip text of a lane: both numberings, its state, every value shown for it. */
  describe(lane) {
    const v = this.view;
    const d = v.lanes.describe(lane);
    const lines = [`physical lane ${lane} · row ${d.row ?? '?'}, col ${d.col ?? '?'}`];
    lines.push(d.logical === null ? 'logical: none (carries no logical lane)' : `logical #${d.logical}`);
    const state = [];
    if (d.dead) state.push('dead');
    if (d.remappedTo !== null) state.push(`remapped to spare ${d.remappedTo}`);
    if (d.replaces !== null) state.push(`spare in use for lane ${d.replaces}`);
    else if (d.spare) state.push(d.logical === null ? 'spare, not in use' : 'spare');
    if (state.length) lines.push(state.join('; '));
    if (v.frame) {
      const i = v.frame.lanes.indexOf(lane);
      lines.push(
        `${v.frame.metric.padEnd(14)} ${i < 0 ? 'not measured' : fmt(v.frame.values[i], v.frame.unit)}${v.label ? `  (${v.label})` : ''}`,
      );
    }
    for (const o of v.others) {
      const i = o.lanes.indexOf(lane);
      if (i >= 0) lines.push(`${o.metric.padEnd(14)} ${fmt(o.values[i], o.unit)}`);
    }
    return lines.join('\n');
  }

  hover(ev) {
    const lane = this.laneAt(ev);
    if (!lane || !this.view) {
      this.tooltip.hidden = true;
      return;
    }
    this.tooltip.textContent = this.describe(lane);
    this.tooltip.hidden = false;
    const wrap = this.canvas.parentElement.getBoundingClientRect();
    this.tooltip.style.left = `${ev.clientX - wrap.left + 14}px`;
    this.tooltip.style.top = `${ev.clientY - wrap.top + 14}px`;
  }

  /**
   * frame: {metric, unit, lanes, values} or undefined; spec: its MeasurementSpec (limits) if known; lanes: a
   * laneIndex (shared/lanes.js); others: the newest frame of each other metric, for the tooltip.
   */
  render({ frame, label, spec, lanes, others, selected }) {
    this.view = { frame, label, spec, lanes, others };
    const ctx = this.canvas.getContext('2d');
    const W = this.canvas.width;
    const H = this.canvas.height;
    const cw = W / this.cols;
    const ch = H / this.rows;
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(0, 0, W, H);
    const metric = frame?.metric ?? '';
    const unit = frame?.unit ?? '';
    const flag = frame ? isFlagMetric(metric, unit) : false;
    const log = frame ? isLogMetric(metric, unit) : false;
    const limits = spec?.limits;
    const values = new Map();
    if (frame) for (let i = 0; i < frame.lanes.length; i++) values.set(frame.lanes[i], frame.values[i]);
    // the colour scale is anchored to the limit: it always reaches it, and a value past it is red
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const tx = (x) => (log ? Math.log10(Math.max(x, 1e-300)) : x);
    for (const v of values.values()) {
      if (v === null || !Number.isFinite(v) || (log && v <= 0) || outside(v, limits)) continue;
      lo = Math.min(lo, tx(v));
      hi = Math.max(hi, tx(v));
    }
    for (const l of [limits?.low, limits?.high]) {
      if (l === undefined || (log && l <= 0)) continue;
      lo = Math.min(lo, tx(l));
      hi = Math.max(hi, tx(l));
    }
    if (!Number.isFinite(lo)) lo = 0;
    if (!(hi > lo)) hi = lo + 1;
    const n = this.rows * this.cols;
    for (let lane = 1; lane <= n; lane++) {
      const [row, col] = this.posOf(lane);
      const x = col * cw + 1;
      const y = row * ch + 1;
      const d = lanes.describe(lane);
      const has = values.has(lane);
      const v = has ? values.get(lane) : undefined;
      if (d.dead) ctx.fillStyle = COLOURS.dead;
      else if (!has) ctx.fillStyle = COLOURS.empty;
      else if (v === null || !Number.isFinite(v)) ctx.fillStyle = COLOURS.noValue;
      else if (flag) ctx.fillStyle = Boolean(v) === flagOneIsGood(metric) ? '#2f6f3f' : COLOURS.fail;
      else if (outside(v, limits)) ctx.fillStyle = COLOURS.fail;
      else ctx.fillStyle = colour((tx(v) - lo) / (hi - lo));
      ctx.fillRect(x, y, cw - 2, ch - 2);
      if (d.dead) {
        // a dead lane is crossed out in red, whatever the metric
        ctx.strokeStyle = COLOURS.fail;
        ctx.lineWidth = 1.5;
        ctx.beginPath();
        ctx.moveTo(x + 2, y + 2);
        ctx.lineTo(x + cw - 4, y + ch - 4);
        ctx.moveTo(x + cw - 4, y + 2);
        ctx.lineTo(x + 2, y + ch - 4);
        ctx.stroke();
      } else if (d.spare) {
        ctx.strokeStyle = COLOURS.spare;
        ctx.lineWidth = 1.5;
        ctx.setLineDash(d.logical === null ? [2, 2] : []);
        ctx.strokeRect(x + 1, y + 1, cw - 4, ch - 4);
        ctx.setLineDash([]);
      }
      if (d.remappedTo !== null) {
        ctx.fillStyle = '#ffffff';
        ctx.font = `${Math.max(8, Math.floor(ch * 0.6))}px sans-serif`;
        ctx.textAlign = 'center';
        ctx.textBaseline = 'middle';
        ctx.fillText('→', x + cw / 2 - 1, y + ch / 2 - 1);
      }
    }
    if (selected >= 1 && selected <= n) {
      const [row, col] = this.posOf(selected);
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      ctx.strokeRect(col * cw + 1, row * ch + 1, cw - 2, ch - 2);
    }
    this.renderLegend(frame, flag, log, lo, hi, limits);
  }

  renderLegend(frame, flag, log, lo, hi, limits) {
    const el = this.legend;
    el.replaceChildren();
    const add = (text, colourCss) => {
      const d = document.createElement('div');
      if (colourCss) {
        const sw = document.createElement('span');
        sw.className = 'swatch';
        sw.style.background = colourCss;
        d.append(sw);
      }
      d.append(text);
      el.append(d);
      return d;
    };
    if (frame && flag) {
      const good = flagOneIsGood(frame.metric);
      add(good ? '1 ok' : '1 (marked)', good ? '#2f6f3f' : COLOURS.fail);
      add(good ? '0 failed' : '0', good ? COLOURS.fail : '#2f6f3f');
    } else if (frame) {
      const unit = frame.unit || '';
      add(log ? fmt(10 ** hi, unit) : fmt(hi, unit));
      const bar = document.createElement('canvas');
      bar.className = 'bar';
      bar.width = 14;
      bar.height = 160;
      const bctx = bar.getContext('2d');
      for (let y = 0; y < 160; y++) {
        bctx.fillStyle = colour(1 - y / 159);
        bctx.fillRect(0, y, 14, 1);
      }
      el.append(bar);
      add(log ? fmt(10 ** lo, unit) : fmt(lo, unit));
      if (log) add('log scale');
      const lt = limitText(limits, unit);
      if (lt) add(`outside limit ${lt}`, COLOURS.fail).dataset.testid = 'legend-limit';
    }
    add('no value', COLOURS.noValue);
    add('not measured', COLOURS.empty);
    add('dead (crossed out)', COLOURS.dead).dataset.testid = 'legend-dead';
    add('spare (outlined; dashed: not in use)', 'transparent').firstChild.style.outline = `2px solid ${COLOURS.spare}`;
    add('→ remapped to a spare');
  }
}
