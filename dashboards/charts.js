// Live charts on uPlot. Each chart is built afresh for each run (no axes kept from the previous one), with
// labelled axes and units; every container says what it shows in data attributes (axes, points drawn), which the
// browser tests read as a person reads the chart.
import uPlot from '/vendor/uplot.js';

const AXIS = { stroke: '#8b95a3', grid: { stroke: '#2c343f', width: 1 }, ticks: { stroke: '#2c343f' } };
const PALETTE = ['#58a6ff', '#3fb950', '#d29922', '#f0883e', '#bc8cff', '#ff7b72', '#79c0ff', '#56d364'];
const HEIGHT = 180;

function widthOf(el) {
  return Math.max(260, Math.floor(el.getBoundingClientRect().width) - 4);
}

const expLabels = (_u, vals) => vals.map((v) => (v == null ? '' : Number(v).toExponential(0)));
const barPaths = uPlot.paths.bars({ size: [0.6, 60] });
const noLine = () => null;

/** A chart that is rebuilt whenever its series change (a new temperature, a new run). */
class Chart {
  constructor(el, build) {
    this.el = el;
    this.build = build;
    this.u = null;
    this.key = '';
  }

  /** data: uPlot's aligned arrays; shape: a string naming the series (rebuilds when it changes); cfg: for build */
  set(data, shape, cfg) {
    if (!this.u || shape !== this.key) {
      this.u?.destroy();
      this.el.replaceChildren();
      const opts = this.build(cfg);
      this.u = new uPlot({ width: widthOf(this.el), height: HEIGHT, legend: { show: true }, ...opts }, data, this.el);
      this.key = shape;
      this.el.dataset.axes = opts.axes.map((a) => a.label ?? '').join('|');
    } else this.u.setData(data);
    let points = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    const perSeries = [];
    for (let s = 1; s < data.length; s++) {
      let n = 0;
      for (const v of data[s]) {
        if (v === null || v === undefined) continue;
        n++;
        lo = Math.min(lo, v);
        hi = Math.max(hi, v);
      }
      points += n;
      perSeries.push(n);
    }
    this.el.dataset.points = String(points);
    // points drawn per series, in legend order ("12|9": the median lane's, the selected lane's)
    this.el.dataset.seriesPoints = perSeries.join('|');
    this.el.dataset.range = points ? `${lo},${hi}` : '';
  }

  reset() {
    this.u?.destroy();
    this.u = null;
    this.key = '';
    this.el.replaceChildren();
    this.el.dataset.points = '0';
    this.el.dataset.seriesPoints = '';
  }

  resize() {
    this.u?.setSize({ width: widthOf(this.el), height: HEIGHT });
  }
}

/** Energy per rail as bars in pJ/bit, the module's energy per bit beside them, the limit as a line. */
function energyOpts({ labels }) {
  return {
    scales: {
      x: { time: false, range: (_u, lo, hi) => [lo - 0.6, hi + 0.6] },
      y: { range: (_u, _lo, hi) => [0, hi * 1.15] },
    },
    axes: [
      {
        ...AXIS,
        label: 'rail',
        values: (_u, vals) => vals.map((v) => labels[v] ?? ''),
        splits: () => labels.map((_, i) => i),
      },
      { ...AXIS, label: 'energy per bit (pJ/bit)', size: 60 },
    ],
    series: [
      { label: 'rail' },
      { label: 'pJ/bit', stroke: '#58a6ff', fill: '#58a6ff88', paths: barPaths, points: { show: false } },
      { label: 'limit (pJ/bit)', stroke: '#f85149', width: 2, dash: [6, 4], points: { show: false } },
    ],
  };
}

function tecOpts() {
  return {
    scales: { x: { time: true } },
    axes: [
      { ...AXIS, label: 'time' },
      { ...AXIS, label: 'TEC temperature (°C)', size: 60 },
    ],
    series: [{}, { label: 'measured (°C)', stroke: '#f0883e', width: 2, points: { size: 6 } }],
  };
}

function liOpts({ temps, outliers }) {
  return {
    scales: { x: { time: false } },
    axes: [
      { ...AXIS, label: 'drive current (mA)' },
      { ...AXIS, label: 'received power (µW)', size: 60 },
    ],
    series: [
      { label: 'I (mA)' },
      { label: 'all lanes min', stroke: '#8b95a355', width: 1, points: { show: false } },
      { label: 'all lanes max', stroke: '#8b95a355', width: 1, points: { show: false } },
      ...temps.map((t, i) => ({
        label: `selected lane ${t}`,
        stroke: PALETTE[i % PALETTE.length],
        width: 2.5,
        points: { size: 5 },
      })),
      ...outliers.map((o) => ({ label: o, stroke: '#f85149', width: 1, dash: [4, 3], points: { size: 3 } })),
    ],
  };
}

/** BER of each gate or screen as its own point (a 1e-12 gate and a 1e-9 screen are not one curve). */
function berOpts({ labels }) {
  return {
    scales: { x: { time: false, range: (_u, lo, hi) => [lo - 0.5, hi + 0.5] }, y: { distr: 3 } },
    axes: [
      {
        ...AXIS,
        label: 'gate / screen',
        values: (_u, vals) => vals.map((v) => labels[v] ?? ''),
        splits: () => labels.map((_, i) => i),
      },
      { ...AXIS, label: 'BER (95 % upper bound)', size: 70, values: expLabels },
    ],
    series: [
      { label: 'screen' },
      { label: 'selected lane', stroke: '#bc8cff', paths: noLine, points: { show: true, size: 9, fill: '#bc8cff' } },
      { label: 'target BER', stroke: '#f85149', paths: noLine, points: { show: true, size: 7, fill: '#f85149' } },
    ],
  };
}

function waterfallOpts() {
  return {
    scales: { x: { time: false }, y: { distr: 3 } },
    axes: [
      { ...AXIS, label: 'drive relative to nominal (dB)' },
      { ...AXIS, label: 'BER (95 % upper bound)', size: 70, values: expLabels },
    ],
    series: [
      { label: 'dB' },
      { label: 'all lanes median', stroke: '#8b95a366', width: 1, points: { show: false } },
      { label: 'selected lane', stroke: '#58a6ff', width: 2, points: { size: 6 } },
    ],
  };
}

function bathtubOpts() {
  return {
    scales: { x: { time: false, range: [0, 1] }, y: { distr: 3 } },
    axes: [
      { ...AXIS, label: 'decision threshold (fraction of the eye)' },
      { ...AXIS, label: 'BER (counted)', size: 70, values: expLabels },
    ],
    series: [
      { label: 'threshold' },
      { label: 'all lanes median', stroke: '#8b95a366', width: 1, points: { show: false } },
      { label: 'selected lane', stroke: '#d29922', width: 2, points: { size: 6 } },
    ],
  };
}

export function makeCharts(els) {
  const charts = {
    energy: new Chart(els.energy, energyOpts),
    tec: new Chart(els.tec, tecOpts),
    li: new Chart(els.li, liOpts),
    ber: new Chart(els.ber, berOpts),
    waterfall: new Chart(els.waterfall, waterfallOpts),
    bathtub: new Chart(els.bathtub, bathtubOpts),
  };
  window.addEventListener('resize', () => {
    for (const c of Object.values(charts)) c.resize();
  });
  return {
    /** A new run: every chart starts empty, with fresh axes. */
    reset() {
      for (const c of Object.values(charts)) c.reset();
    },
    /** bars: [{label, pj}], limit: pJ/bit or undefined */
    setEnergy(bars, limit) {
      const labels = bars.map((b) => b.label);
      const xs = bars.map((_, i) => i);
      charts.energy.set([xs, bars.map((b) => b.pj), xs.map(() => limit ?? null)], `energy:${labels.join(',')}`, {
        labels,
      });
    },
    /** points: [[t seconds, °C]] */
    setTec(points) {
      charts.tec.set([points.map((p) => p[0]), points.map((p) => p[1])], 'tec', {});
    },
    /** curves: {xs (mA), min, max, byTemp: [{label, ys}], outliers: [{label, ys}]} (outliers drawn red, dashed) */
    setLi(c) {
      const temps = c.byTemp.map((t) => t.label);
      const outliers = (c.outliers ?? []).map((o) => o.label);
      charts.li.set(
        [c.xs, c.min, c.max, ...c.byTemp.map((t) => t.ys), ...(c.outliers ?? []).map((o) => o.ys)],
        `li:${temps.join(',')}:${outliers.join(',')}`,
        { temps, outliers },
      );
    },
    /** screens: [{label, value, target}] */
    setBer(screens) {
      const labels = screens.map((s) => s.label);
      const xs = screens.map((_, i) => i);
      charts.ber.set(
        [xs, screens.map((s) => (s.value > 0 ? s.value : null)), screens.map((s) => s.target ?? null)],
        `ber:${labels.join(',')}`,
        { labels },
      );
    },
    /** w: {xs (dB), median, lane} */
    setWaterfall(w) {
      const pos = (a) => a.map((v) => (v !== null && v > 0 ? v : null));
      charts.waterfall.set([w.xs, pos(w.median), pos(w.lane)], 'waterfall', {});
    },
    /** b: {xs (threshold, fraction of the eye), median, lane}: a point that counted no error is not drawn (log) */
    setBathtub(b) {
      const pos = (a) => a.map((v) => (v !== null && v > 0 ? v : null));
      charts.bathtub.set([b.xs, pos(b.median), pos(b.lane)], 'bathtub', {});
    },
  };
}
