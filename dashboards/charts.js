// Live charts on uPlot: energy per bit and rail power over time, TEC temperature, L-I and BER of one lane.
import uPlot from '/vendor/uplot.js';

const AXIS = { stroke: '#8b95a3', grid: { stroke: '#2c343f', width: 1 }, ticks: { stroke: '#2c343f' } };

function widthOf(el) {
  return Math.max(300, Math.floor(el.getBoundingClientRect().width) - 4);
}

function make(el, opts, data) {
  const u = new uPlot({ width: widthOf(el), height: 170, legend: { show: true }, ...opts }, data, el);
  return u;
}

/** Merge two [t, v] point lists into uPlot's aligned [xs, ys1, ys2]. */
export function align(a, b) {
  const xs = [...new Set([...a.map((p) => p[0]), ...b.map((p) => p[0])])].sort((x, y) => x - y);
  const ma = new Map(a);
  const mb = new Map(b);
  return [xs, xs.map((x) => ma.get(x) ?? null), xs.map((x) => mb.get(x) ?? null)];
}

export function makeCharts(els) {
  const energy = make(
    els.energy,
    {
      scales: { x: { time: true }, pj: {}, w: {} },
      axes: [
        { ...AXIS },
        { ...AXIS, scale: 'pj', label: 'pJ/bit', size: 60 },
        { ...AXIS, scale: 'w', side: 1, label: 'W', size: 60, grid: { show: false } },
      ],
      series: [
        {},
        { label: 'energy/bit (pJ)', scale: 'pj', stroke: '#58a6ff', width: 2, spanGaps: true, points: { size: 5 } },
        { label: 'rail power (W)', scale: 'w', stroke: '#d29922', width: 2, spanGaps: true, points: { size: 5 } },
      ],
    },
    [[], [], []],
  );
  const tec = make(
    els.tec,
    {
      scales: { x: { time: true } },
      axes: [{ ...AXIS }, { ...AXIS, label: '°C', size: 60 }],
      series: [{}, { label: 'TEC (°C)', stroke: '#f0883e', width: 2, spanGaps: true }],
    },
    [[], []],
  );
  const li = make(
    els.li,
    {
      scales: { x: { time: false } },
      axes: [
        { ...AXIS, label: 'bias (mA)' },
        { ...AXIS, label: 'µW', size: 60 },
      ],
      series: [{ label: 'I (mA)' }, { label: 'optical power (µW)', stroke: '#3fb950', width: 2, points: { size: 6 } }],
    },
    [[], []],
  );
  const ber = make(
    els.ber,
    {
      scales: { x: { time: true }, y: { distr: 3 } },
      axes: [
        { ...AXIS },
        {
          ...AXIS,
          label: 'BER (95 % UB)',
          size: 70,
          values: (_u, vals) => vals.map((v) => (v == null ? '' : v.toExponential(0))),
        },
      ],
      series: [{}, { label: 'BER upper bound', stroke: '#bc8cff', width: 2, spanGaps: true, points: { size: 5 } }],
    },
    [[], []],
  );
  const all = [energy, tec, li, ber];
  const containers = [els.energy, els.tec, els.li, els.ber];
  window.addEventListener('resize', () => {
    all.forEach((u, i) => {
      u.setSize({ width: widthOf(containers[i]), height: 170 });
    });
  });
  return {
    setEnergy(epb, rail) {
      energy.setData(align(epb, rail));
    },
    setTec(points) {
      tec.setData([points.map((p) => p[0]), points.map((p) => p[1])]);
    },
    setLi(points) {
      li.setData([points.map((p) => p[0]), points.map((p) => p[1])]);
    },
    setBer(points) {
      const ok = points.filter((p) => p[1] !== null && p[1] > 0);
      ber.setData([ok.map((p) => p[0]), ok.map((p) => p[1])]);
    },
  };
}
