// Lane map: a rows x cols heatmap of one per-lane metric on a canvas, with hover details and selection.

const STOPS = [
  [68, 1, 84],
  [59, 82, 139],
  [33, 145, 140],
  [94, 201, 98],
  [253, 231, 37],
];

/** viridis-like colour for t in [0, 1] */
export function colour(t) {
  const x = Math.min(1, Math.max(0, t)) * (STOPS.length - 1);
  const i = Math.min(STOPS.length - 2, Math.floor(x));
  const f = x - i;
  const a = STOPS[i];
  const b = STOPS[i + 1];
  return `rgb(${Math.round(a[0] + (b[0] - a[0]) * f)},${Math.round(a[1] + (b[1] - a[1]) * f)},${Math.round(a[2] + (b[2] - a[2]) * f)})`;
}

export function isLogMetric(metric) {
  return /ber/i.test(metric);
}

export function isFlagMetric(metric, unit) {
  return unit === 'bool' || /^(dead|remapped|spare)/i.test(metric);
}

/** For flags named *_ok, 1 is good; for the others (dead, remapped, ...) 1 marks the lane. */
export function flagOneIsGood(metric) {
  return /_ok$/i.test(metric);
}

export function fmt(v, unit = '') {
  if (v === null || v === undefined || Number.isNaN(v)) return '–';
  const a = Math.abs(v);
  const s = a !== 0 && (a < 1e-3 || a >= 1e5) ? v.toExponential(2) : Number(v.toPrecision(4)).toString();
  return unit ? `${s} ${unit}` : s;
}

export class LaneMap {
  constructor(canvas, tooltip, legend, onSelect) {
    this.canvas = canvas;
    this.tooltip = tooltip;
    this.legend = legend;
    this.onSelect = onSelect;
    this.rows = 20;
    this.cols = 20;
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

  setGeometry(rows, cols) {
    this.rows = rows;
    this.cols = cols;
  }

  laneAt(ev) {
    const r = this.canvas.getBoundingClientRect();
    const col = Math.floor(((ev.clientX - r.left) / r.width) * this.cols);
    const row = Math.floor(((ev.clientY - r.top) / r.height) * this.rows);
    if (col < 0 || row < 0 || col >= this.cols || row >= this.rows) return null;
    return row * this.cols + col + 1;
  }

  hover(ev) {
    const lane = this.laneAt(ev);
    if (!lane || !this.view) {
      this.tooltip.hidden = true;
      return;
    }
    const row = Math.floor((lane - 1) / this.cols);
    const col = (lane - 1) % this.cols;
    const lines = [`lane ${lane}  (row ${row + 1}, col ${col + 1})`];
    for (const [metric, m] of this.view.all) {
      lines.push(`${metric.padEnd(14)} ${fmt(m.values.get(lane) ?? null, m.unit)}`);
    }
    this.tooltip.textContent = lines.join('\n');
    this.tooltip.hidden = false;
    const wrap = this.canvas.parentElement.getBoundingClientRect();
    this.tooltip.style.left = `${ev.clientX - wrap.left + 14}px`;
    this.tooltip.style.top = `${ev.clientY - wrap.top + 14}px`;
  }

  /** metric: name; m: {unit, values: Map<lane, number|null>}; all: Map of every metric; selected: lane */
  render(metric, m, all, selected) {
    this.view = { metric, m, all };
    const ctx = this.canvas.getContext('2d');
    const W = this.canvas.width;
    const H = this.canvas.height;
    const cw = W / this.cols;
    const ch = H / this.rows;
    ctx.fillStyle = '#0d1117';
    ctx.fillRect(0, 0, W, H);
    const flag = m ? isFlagMetric(metric, m.unit) : false;
    const log = isLogMetric(metric);
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    if (m) {
      for (const v of m.values.values()) {
        if (v === null || !Number.isFinite(v) || (log && v <= 0)) continue;
        const x = log ? Math.log10(v) : v;
        if (x < lo) lo = x;
        if (x > hi) hi = x;
      }
    }
    if (!(hi > lo)) hi = lo + 1;
    for (let lane = 1; lane <= this.rows * this.cols; lane++) {
      const row = Math.floor((lane - 1) / this.cols);
      const col = (lane - 1) % this.cols;
      const has = m?.values.has(lane);
      const v = has ? m.values.get(lane) : undefined;
      if (!has) ctx.fillStyle = '#1c2128';
      else if (v === null || !Number.isFinite(v)) ctx.fillStyle = '#6e2a2a';
      else if (flag) ctx.fillStyle = Boolean(v) === flagOneIsGood(metric) ? '#2f6f3f' : '#f85149';
      else ctx.fillStyle = colour(((log ? Math.log10(Math.max(v, 1e-300)) : v) - lo) / (hi - lo));
      ctx.fillRect(col * cw + 1, row * ch + 1, cw - 2, ch - 2);
    }
    if (selected >= 1 && selected <= this.rows * this.cols) {
      const row = Math.floor((selected - 1) / this.cols);
      const col = (selected - 1) % this.cols;
      ctx.strokeStyle = '#ffffff';
      ctx.lineWidth = 2;
      ctx.strokeRect(col * cw + 1, row * ch + 1, cw - 2, ch - 2);
    }
    this.renderLegend(m, flag, log, lo, hi, metric);
  }

  renderLegend(m, flag, log, lo, hi, metric) {
    const el = this.legend;
    el.replaceChildren();
    if (!m) return;
    const add = (text) => {
      const d = document.createElement('div');
      d.textContent = text;
      el.append(d);
    };
    if (flag) {
      const good = flagOneIsGood(metric);
      add(good ? '■ 1 ok (green)' : '■ 1 (red)');
      add(good ? '■ 0 failed (red)' : '■ 0 (green)');
      return;
    }
    const unit = m.unit || '';
    add(log ? fmt(10 ** hi, unit) : fmt(hi, unit));
    const bar = document.createElement('canvas');
    bar.className = 'bar';
    bar.width = 14;
    bar.height = 200;
    const bctx = bar.getContext('2d');
    for (let y = 0; y < 200; y++) {
      bctx.fillStyle = colour(1 - y / 199);
      bctx.fillRect(0, y, 14, 1);
    }
    el.append(bar);
    add(log ? fmt(10 ** lo, unit) : fmt(lo, unit));
    add(log ? '(log scale)' : '');
    add('▪ dark red: no value');
  }
}
