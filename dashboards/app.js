// cpobench dashboard: the /ws event stream folded into state by the same module the server uses
// (/shared/fold.js), and rendered. No build step: every module here and in /shared is served as-is.
import { makeCharts } from '/charts.js';
import { fmt, LaneMap } from '/lanemap.js';
import { atKey, coordLabel } from '/shared/coordinates.js';
import { findings } from '/shared/findings.js';
import { applyEvent, createState, stateFromSnapshot } from '/shared/fold.js';
import { fmtDuration, fmtNum, limitText, workText } from '/shared/format.js';
import { laneIndex } from '/shared/lanes.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);

function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = v;
    else if (k === 'testid') el.dataset.testid = v;
    else if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) el.append(c instanceof Node ? c : String(c));
  return el;
}

// ---------------- state ----------------
let live = createState();
const ui = {
  /** the lane charted everywhere: chosen on the lane map, in the failure banner or in a table */
  selected: 1,
  metric: null,
  /** frame key chosen for the metric (step and coordinates), or null for the default (nominal, newest) */
  frameKey: null,
  lastSeq: null,
  chartsRun: null,
};

function selectLane(lane) {
  ui.selected = lane;
  schedule();
}

function applySnapshot(s) {
  live = stateFromSnapshot(s);
}

function applyBenchEvent(e) {
  applyEvent(live, e, e.ts ?? Date.now());
  if (e.type === 'run.finished') loadHistory();
}

// ---------------- connection ----------------
let ws = null;
let backoff = 250;
let lastMsgAt = 0;
let connState = 'disconnected';

function setConn(s) {
  connState = s;
  const el = $('connection-state');
  el.textContent = s;
  el.className = `badge ${s}`;
  schedule();
}

function token() {
  return sessionStorage.getItem('cpobench.token') || '';
}

function connect() {
  setConn('connecting');
  const q = new URLSearchParams();
  if (ui.lastSeq !== null) q.set('since', String(ui.lastSeq));
  if (token()) q.set('token', token());
  const proto = location.protocol === 'https:' ? 'wss' : 'ws';
  const sock = new WebSocket(`${proto}://${location.host}/ws?${q}`);
  ws = sock;
  sock.onmessage = (ev) => {
    lastMsgAt = Date.now();
    if (connState !== 'live') setConn('live');
    backoff = 250;
    let m;
    try {
      m = JSON.parse(ev.data);
    } catch {
      return;
    }
    onMessage(m);
  };
  sock.onclose = () => {
    if (ws !== sock) return;
    setConn('disconnected');
    const delay = backoff + Math.random() * backoff * 0.5;
    backoff = Math.min(backoff * 2, 10_000);
    setTimeout(connect, delay);
  };
}

function onMessage(m) {
  if (m.type === 'snapshot') {
    applySnapshot(m);
    ui.lastSeq = m.seq;
  } else if (m.type === 'resume') {
    ui.lastSeq = m.seq;
  } else if (m.type === 'pong') {
    return;
  } else if (m.type === 'error') {
    console.warn('server:', m.message);
    return;
  } else {
    if (ui.lastSeq !== null && m.seq <= ui.lastSeq) return;
    applyBenchEvent(m);
    ui.lastSeq = m.seq;
  }
  schedule();
}

setInterval(() => {
  if (ws?.readyState === WebSocket.OPEN) {
    ws.send(JSON.stringify({ type: 'ping' }));
    if (Date.now() - lastMsgAt > 5000 && connState === 'live') setConn('stale');
  }
}, 2000);

// ---------------- API calls ----------------
async function api(method, path, body) {
  const headers = {};
  if (token()) headers.authorization = `Bearer ${token()}`;
  if (body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  const ct = res.headers.get('content-type') || '';
  const data = ct.includes('json') ? await res.json() : await res.text();
  if (!res.ok) throw new Error(`${res.status}: ${data?.message ?? res.statusText}`);
  return data;
}

function showError(msg) {
  $('control-error').textContent = msg || '';
}

// ---------------- rendering ----------------
let dirty = false;
function schedule() {
  if (dirty) return;
  dirty = true;
  requestAnimationFrame(() => {
    dirty = false;
    render();
  });
}

const laneMap = new LaneMap($('lane-map'), $('lane-tooltip'), $('lane-legend'), selectLane);
const charts = makeCharts({
  energy: $('chart-energy'),
  tec: $('chart-tec'),
  li: $('chart-li'),
  ber: $('chart-ber'),
  waterfall: $('chart-waterfall'),
  bathtub: $('chart-bathtub'),
});

function geometry() {
  if (live.geometry) return live.geometry;
  let max = 0;
  for (const f of Object.values(live.frames ?? {})) for (const l of f.lanes) max = Math.max(max, l);
  const cols = Math.max(1, Math.ceil(Math.sqrt(max || 400)));
  return { rows: Math.ceil((max || 400) / cols), cols, lanes: max || 400 };
}

function lanesOfRun() {
  return laneIndex(live.geometry, live.run?.laneMap);
}

function stepName(id) {
  return live.run?.steps.find((s) => s.id === id)?.name ?? id;
}

/** The declared spec of a step's measurement (limits, unit), from the run's plan. */
function specOf(step, name) {
  return live.run?.steps.find((s) => s.id === step)?.measurements.find((m) => m.name === name);
}

/** Connection lost while a run was going: what the bench does now is not known here. */
function stateUnknown() {
  return connState !== 'live' && live.run?.outcome === 'RUNNING';
}

function render() {
  $('station-name').textContent = live.station || '–';
  $('last-seq').textContent = `seq ${ui.lastSeq ?? '–'}`;
  const run = live.run;
  if ((run?.id ?? null) !== ui.chartsRun) {
    // a new run: every chart starts empty with fresh axes, the lane map with the run's first metric
    charts.reset();
    ui.chartsRun = run?.id ?? null;
    ui.metric = null;
    ui.frameKey = null;
  }
  const unknown = stateUnknown();
  const running = run?.outcome === 'RUNNING';
  document.body.classList.toggle('state-unknown', unknown);
  $('start-button').disabled = running || connState !== 'live';
  $('abort-button').disabled = !running || unknown;
  $('run-id').textContent = run?.id ?? '–';
  $('run-dut').textContent = run ? `${run.dut} (${run.operator}, ${run.sequence})` : '–';
  const outcome = unknown ? 'UNKNOWN' : (run?.outcome ?? 'IDLE');
  $('run-outcome').textContent = outcome;
  $('run-outcome').className = `outcome ${outcome}`;
  $('conn-note').hidden = !unknown;
  $('run-error').textContent = run?.error ?? '';
  $('run-error').hidden = !run?.error;
  renderSafety(run);
  const epb = run?.measurements.findLast((x) => x.measurement.spec.name === 'energy_per_bit')?.measurement.value;
  const lastEpb = epb ?? run?.summary?.energyPerBitPj;
  $('run-epb').textContent = lastEpb === undefined || lastEpb === null ? '–' : fmt(lastEpb, 'pJ/bit');

  renderFailures(run);
  renderLaneMap();
  renderPrompts(unknown);
  renderSteps();
  renderInstruments();
  renderLog();
  renderCharts(run);
}

/** A banner no one can miss when an instrument did not confirm its safe state (read back), naming each one. */
function renderSafety(run) {
  const banner = $('not-safe-banner');
  const check = run?.safeState;
  const bad = check && !check.safe ? check.instruments.filter((i) => !i.safe) : [];
  banner.hidden = bad.length === 0;
  if (bad.length === 0) return;
  banner.replaceChildren(
    h('strong', {}, 'BENCH NOT SAFE — check these instruments by hand before touching the DUT:'),
    h(
      'ul',
      {},
      ...bad.map((i) => h('li', {}, `${i.role}${i.resource ? ` (${i.resource})` : ''}: ${i.error ?? 'not confirmed'}`)),
    ),
  );
}

/** The run's measurements as findings.js takes them: one entry per measurement, and each step run that erred. */
function liveSteps(run) {
  const out = run.measurements.map((x) => ({
    id: x.step,
    name: stepName(x.step),
    measurements: [x.measurement],
  }));
  for (const r of run.stepRuns ?? []) {
    if (r.verdict === 'ERROR')
      out.push({ id: r.id, name: r.name, at: r.at, verdict: 'ERROR', error: r.error, measurements: [] });
  }
  return out;
}

let failuresKey = '';
/** Failures first: each failing or marginal measurement with its step, coordinates, value, limit and lanes. */
function renderFailures(run) {
  const el = $('failure-banner');
  const found = run ? findings(liveSteps(run), { geometry: live.geometry, laneMap: run.laneMap, maxLanes: 6 }) : [];
  const key = `${run?.id}:${found.map((f) => f.text).join('\n')}`;
  if (key === failuresKey) return;
  failuresKey = key;
  el.hidden = found.length === 0;
  if (found.length === 0) {
    el.replaceChildren();
    return;
  }
  const fails = found.filter((f) => f.severity !== 'MARGINAL').length;
  el.className = `failures ${fails > 0 ? 'has-fail' : 'marginal-only'}`;
  el.replaceChildren(
    h('strong', {}, `${fails} failing, ${found.length - fails} marginal`),
    h(
      'ul',
      {},
      ...found
        .slice(0, 30)
        .map((f) =>
          h(
            'li',
            { class: f.severity, testid: 'failure-item' },
            h('span', { class: `verdict ${f.severity}` }, f.severity),
            ` ${f.stepName}${f.at ? ` @ ${coordLabel(f.at)}` : ''}: `,
            f.measurement
              ? f.lanes.length
                ? [
                    `${f.measurement} on ${f.laneCount} lane(s)${f.limit ? ` (limit ${f.limit})` : ''}: `,
                    ...f.lanes
                      .slice(0, 6)
                      .map((l) =>
                        h(
                          'button',
                          { type: 'button', class: 'lane-link', title: l.text, onclick: () => selectLane(l.lane) },
                          `lane ${l.lane}${l.dead ? ' dead' : ''}${l.remappedTo !== null ? ` →${l.remappedTo}` : ''}`,
                        ),
                      ),
                    f.laneCount > 6 ? ` … ${f.laneCount - 6} more` : '',
                  ]
                : `${f.measurement} = ${fmt(f.value, f.unit)}${f.limit ? `, limit ${f.limit}` : ''}`
              : f.text.replace(/^ERROR [^:]*: /, ''),
          ),
        ),
    ),
  );
}

/** Frames of a metric, and the one shown: the chosen one, else the newest at nominal conditions, else the newest. */
function framesOf(metric) {
  return Object.entries(live.frames ?? {})
    .filter(([, f]) => f.metric === metric)
    .map(([key, f]) => ({ key, f }));
}

function frameLabel(f) {
  return `${stepName(f.step)}${f.at ? ` @ ${coordLabel(f.at)}` : ''}`;
}

function renderLaneMap() {
  const metrics = [...new Set(Object.values(live.frames ?? {}).map((f) => f.metric))];
  if (!ui.metric || !metrics.includes(ui.metric)) ui.metric = metrics[0] ?? null;
  const sel = $('metric-select');
  if (sel.options.length !== metrics.length || metrics.some((m, i) => sel.options[i]?.value !== m)) {
    sel.replaceChildren(
      ...metrics.map((m) => {
        const f = Object.values(live.frames).find((x) => x.metric === m);
        return h('option', { value: m }, `${m} (${f?.unit || '–'})`);
      }),
    );
  }
  if (ui.metric) sel.value = ui.metric;
  const options = ui.metric ? framesOf(ui.metric) : [];
  const nominal = options.filter((o) => !o.f.at);
  const fallback = (nominal.at(-1) ?? options.at(-1))?.key ?? null;
  const shownKey = ui.frameKey && options.some((o) => o.key === ui.frameKey) ? ui.frameKey : fallback;
  const csel = $('coord-select');
  const want = options.map((o) => o.key).join('\n');
  if (csel.dataset.keys !== want) {
    csel.replaceChildren(...options.map((o) => h('option', { value: o.key }, frameLabel(o.f))));
    csel.dataset.keys = want;
  }
  if (shownKey) csel.value = shownKey;
  csel.disabled = options.length < 2;
  const frame = shownKey ? live.frames[shownKey] : undefined;
  const g = geometry();
  laneMap.setGeometry(g.rows, g.cols, g.order);
  const others = metrics
    .filter((m) => m !== ui.metric)
    .map((m) => live.lanes[m])
    .filter(Boolean);
  laneMap.render({
    frame,
    label: frame ? frameLabel(frame) : '',
    spec: frame ? specOf(frame.step, frame.metric) : undefined,
    lanes: lanesOfRun(),
    others,
    selected: ui.selected,
  });
  let filled = 0;
  if (frame) for (const v of frame.values) if (v !== null) filled++;
  $('lane-count-filled').textContent = String(filled);
  $('lane-count-total').textContent = String(g.lanes);
  $('selected-lane').textContent = laneTitle(ui.selected);
}

function laneTitle(lane) {
  const d = lanesOfRun().describe(lane);
  return `${lane}${d.logical !== null ? ` (logical #${d.logical})` : ''}${d.dead ? ' dead' : ''}`;
}

function renderCharts(run) {
  const lane = ui.selected;
  $('li-lane').textContent = laneTitle(lane);
  $('ber-lane').textContent = laneTitle(lane);
  $('waterfall-lane').textContent = laneTitle(lane);
  $('bathtub-lane').textContent = laneTitle(lane);
  if (!run) return;
  const ms = run.measurements;
  // energy: the last energy step's rails, in pJ/bit (each rail's share of the module's energy per bit)
  const epb = ms.findLast((x) => x.measurement.spec.name === 'energy_per_bit');
  if (epb && epb.measurement.value !== null) {
    const same = ms.filter((x) => x.step === epb.step && x.measurement.kind === 'scalar');
    // each rail's power at full load (rail_<name>_w), not its idle power (rail_<name>_idle_w)
    const rails = same.filter(
      (x) => /^rail_.*_w$/.test(x.measurement.spec.name) && !/_idle_w$/.test(x.measurement.spec.name),
    );
    const total =
      same.find((x) => x.measurement.spec.name === 'total_power_w')?.measurement.value ??
      rails.reduce((a, x) => a + (x.measurement.value ?? 0), 0);
    const perW = total > 0 ? epb.measurement.value / total : 0;
    const bars = rails.map((x) => ({
      label: x.measurement.spec.name.replace(/^rail_|_w$/g, ''),
      pj: (x.measurement.value ?? 0) * perW,
    }));
    bars.push({ label: 'module', pj: epb.measurement.value });
    charts.setEnergy(bars, epb.measurement.spec.limits?.high);
  }
  // TEC: the temperatures the TEC reached, as measured (°C only: a settle time is not a temperature)
  const tec = ms.filter(
    (x) => x.measurement.kind === 'scalar' && x.measurement.spec.unit === 'degC' && x.measurement.value !== null,
  );
  if (tec.length) charts.setTec(tec.map((x) => [x.ts / 1000, x.measurement.value]));
  // L-I of the selected lane, one curve per temperature, all lanes' range faint behind, outlier lanes marked
  const li = liView(run, lane);
  $('li-outliers').textContent = li?.outliers.length
    ? `outliers (power at I_op): ${li.outliers.map((o) => `lane ${o.lane} ${o.db > 0 ? '+' : ''}${fmtNum(o.db)} dB`).join(', ')}`
    : '';
  if (li) charts.setLi(li);
  // BER of each gate and screen, for the selected lane, each its own point
  const screens = Object.values(live.frames).filter((f) => f.metric === 'ber_upper_bound');
  if (screens.length) {
    charts.setBer(
      screens.map((f) => {
        const i = f.lanes.indexOf(lane);
        return {
          label: `${f.step}${f.at ? ` @ ${coordLabel(f.at)}` : ''}`,
          value: i >= 0 ? f.values[i] : null,
          target: specOf(f.step, f.metric)?.limits?.high,
        };
      }),
    );
  }
  // the waterfall: BER against drive (received power) for the selected lane, the median lane faint
  const wf = Object.values(live.frames).filter((f) => f.metric === 'waterfall_ber' && f.at?.drive_db !== undefined);
  if (wf.length) {
    const sorted = wf.slice().sort((a, b) => a.at.drive_db - b.at.drive_db);
    charts.setWaterfall({
      xs: sorted.map((f) => f.at.drive_db),
      lane: sorted.map((f) => {
        const i = f.lanes.indexOf(lane);
        return i >= 0 ? f.values[i] : null;
      }),
      median: sorted.map(medianBer),
    });
  }
  // the bathtub: BER counted at each decision threshold, the selected lane over the median lane
  const tub = Object.values(live.frames).filter((f) => f.metric === 'bathtub_ber' && f.at?.threshold !== undefined);
  if (tub.length) {
    const sorted = tub.slice().sort((a, b) => a.at.threshold - b.at.threshold);
    charts.setBathtub({
      xs: sorted.map((f) => f.at.threshold),
      lane: sorted.map((f) => {
        const i = f.lanes.indexOf(lane);
        return i >= 0 ? f.values[i] : null;
      }),
      median: sorted.map(medianBer),
    });
  }
}

/**
 * The L-I chart's curves from what the run recorded. Per temperature (a top-level sweep is "nominal"): the points
 * streamed per current (`received_power` frames) where the step streamed them, else its stored per-lane fit
 * (li_slope·(I − li_threshold), 0 below threshold) at the currents of its median-lane curve (li_curve). The range
 * of all lanes and the outliers come from the first temperature; outliers are the lanes li_outlier_db names
 * (power at I_op outside the array's median ± k·MAD, computed by the step). Currents in mA, powers in µW.
 */
function liView(run, lane) {
  const frames = Object.values(live.frames).filter((f) => f.metric === 'received_power' && f.at?.current !== undefined);
  const tempOf = (at) => at?.temperature ?? null;
  const temps = [];
  const addTemp = (t) => {
    if (!temps.includes(t)) temps.push(t);
  };
  const fits = new Map();
  const xsAll = new Set();
  for (const f of frames) {
    addTemp(tempOf(f.at));
    xsAll.add(f.at.current);
  }
  for (const x of run.measurements) {
    const m = x.measurement;
    const name = m.spec.name;
    if (!['li_slope', 'li_threshold', 'li_outlier_db', 'li_curve'].includes(name)) continue;
    const t = tempOf(m.at);
    addTemp(t);
    const fit = fits.get(t) ?? { currents: new Set() };
    if (name === 'li_curve') {
      if (m.at?.current !== undefined) fit.currents.add(m.at.current);
    } else fit[name] = m;
    fits.set(t, fit);
  }
  const measured = (t) => frames.filter((f) => tempOf(f.at) === t);
  for (const t of temps) if (measured(t).length === 0) for (const c of fits.get(t)?.currents ?? []) xsAll.add(c);
  const xs = [...xsAll].sort((a, b) => a - b);
  if (xs.length === 0 || temps.length === 0) return null;
  const laneValue = (m, l) => {
    const i = m ? m.lanes.indexOf(l) : -1;
    return i >= 0 ? m.values[i] : null;
  };
  // one lane's curve at one temperature, µW at each current of xs (null where that temperature has no point)
  const curve = (t, l) => {
    const own = measured(t);
    if (own.length)
      return xs.map((x) => {
        const v = laneValue(
          own.find((f) => f.at.current === x),
          l,
        );
        return v === null ? null : v * 1e6;
      });
    const fit = fits.get(t);
    const slope = laneValue(fit?.li_slope, l);
    const thr = laneValue(fit?.li_threshold, l);
    return xs.map((x) =>
      slope === null || thr === null || !fit.currents.has(x) ? null : Math.max(0, slope * (x - thr)) * 1e6,
    );
  };
  const first = temps[0];
  const firstFit = fits.get(first);
  const laneSet = measured(first).length
    ? [...new Set(measured(first).flatMap((f) => f.lanes))]
    : (firstFit?.li_slope?.lanes ?? []);
  const all = laneSet.map((l) => curve(first, l));
  const range = (pick) =>
    xs.map((_, k) => {
      const vals = all.map((c) => c[k]).filter((v) => v !== null);
      return vals.length ? pick(...vals) : null;
    });
  const out = firstFit?.li_outlier_db;
  const outliers = out ? out.lanes.map((l, i) => ({ lane: l, db: out.values[i] })) : [];
  return {
    xs: xs.map((x) => x * 1e3),
    min: range(Math.min),
    max: range(Math.max),
    byTemp: temps.map((t) => ({
      label: `${t === null ? '(nominal)' : `${t} °C`}${measured(t).length ? '' : ' (fit)'}`,
      ys: curve(t, lane),
    })),
    outliers: outliers
      .slice(0, 6)
      .map((o) => ({ label: `outlier lane ${o.lane}`, lane: o.lane, db: o.db, ys: curve(first, o.lane) })),
  };
}

/** The median over a frame's lanes of the BER counted (lanes that counted no error left out: a log axis). */
function medianBer(f) {
  const v = f.values.filter((x) => x !== null && x > 0).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
}

let promptKey = '';
function renderPrompts(unknown) {
  const el = $('prompt-panel');
  const prompts = live.run?.openPrompts ?? [];
  // Only rebuild when the open prompts change, so buttons are not replaced under the operator's pointer.
  const key = `${live.run?.id}:${prompts.map((p) => p.id).join(',')}:${unknown}`;
  if (key === promptKey) return;
  promptKey = key;
  el.replaceChildren(
    ...prompts.map((p) => {
      const answer = async (value) => {
        try {
          await api('POST', `/api/runs/${encodeURIComponent(live.run.id)}/prompts/${encodeURIComponent(p.id)}`, {
            answer: value,
            by: $('operator-input').value || 'dashboard',
          });
          showError('');
        } catch (err) {
          showError(err.message);
        }
      };
      const box = h('div', { class: 'prompt', testid: `prompt-${p.id}` }, h('p', {}, `${p.step}: ${p.message}`));
      if (p.kind === 'value') {
        const input = h('input', { testid: 'prompt-value' });
        box.append(
          input,
          h(
            'button',
            { type: 'button', testid: 'prompt-submit', disabled: unknown, onclick: () => answer(input.value) },
            'Submit',
          ),
        );
      } else if (p.kind === 'passfail') {
        box.append(
          h(
            'button',
            { type: 'button', testid: 'prompt-pass', disabled: unknown, onclick: () => answer(true) },
            'Pass',
          ),
          h(
            'button',
            { type: 'button', testid: 'prompt-fail', disabled: unknown, onclick: () => answer(false) },
            'Fail',
          ),
        );
      } else {
        box.append(
          h(
            'button',
            { type: 'button', testid: 'prompt-confirm', disabled: unknown, onclick: () => answer(true) },
            'Confirm',
          ),
        );
      }
      return box;
    }),
  );
}

/** A measurement as one line; a value without limits is information: no verdict colour. */
function measSpan(m) {
  const informational = !m.spec.limits || (m.spec.limits.low === undefined && m.spec.limits.high === undefined);
  const cls = informational ? 'info' : m.verdict;
  const lt = limitText(m.spec.limits, m.spec.unit);
  const at = m.at ? ` @ ${coordLabel(m.at)}` : '';
  if (m.kind === 'scalar') {
    return h('span', { class: cls }, `${m.spec.name}${at} = ${fmt(m.value, m.spec.unit)}${lt ? ` (limit ${lt})` : ''}`);
  }
  const bad = m.verdicts.filter((v) => v === 'FAIL').length;
  return h(
    'span',
    { class: cls },
    `${m.spec.name}${at}: ${m.lanes.length} lanes${informational ? '' : `, ${bad} fail`}${lt ? ` (limit ${lt})` : ''}`,
  );
}

/** Measurements of a step, curve points folded into one line per curve (8 points of li_curve, not 8 lines). */
function measLines(list) {
  const out = [];
  const curves = new Map();
  for (const m of list) {
    if (m.kind === 'scalar' && m.at && m.at.point !== undefined) {
      const { point, current, ...rest } = m.at;
      const key = `${m.spec.name}|${atKey(rest)}`;
      const c = curves.get(key);
      if (c) c.n++;
      else {
        const entry = { n: 1, name: m.spec.name, at: rest };
        curves.set(key, entry);
        out.push(entry);
      }
    } else out.push(m);
  }
  return out.map((x) =>
    x.spec
      ? measSpan(x)
      : h(
          'span',
          { class: 'info' },
          `${x.name}${Object.keys(x.at).length ? ` @ ${coordLabel(x.at)}` : ''}: ${x.n} points`,
        ),
  );
}

/** "1.5e12/3.0e12 bits · 2 errors · 50% · 12s left": the work in its unit, errors so far (a gate), time left. */
function progressText(p) {
  if (!p) return '';
  const pct = `${Math.round((100 * p.done) / Math.max(1e-300, p.total))}%`;
  const left = p.etaS !== undefined && p.done < p.total ? ` · ${fmtDuration(p.etaS)} left` : '';
  return `${p.unit ? `${workText(p.done, p.total, p.unit, p.errors)} · ` : ''}${pct}${left}`;
}

function renderSteps() {
  const tbody = $('step-timeline').tBodies[0];
  const run = live.run;
  if (!run) {
    tbody.replaceChildren();
    return;
  }
  const byStep = new Map();
  for (const x of run.measurements) {
    if (!byStep.has(x.step)) byStep.set(x.step, []);
    byStep.get(x.step).push(x.measurement);
  }
  tbody.replaceChildren(
    ...run.steps.map((s) => {
      const st = run.stepStates[s.id] ?? { state: 'pending' };
      // once the run has ended (ERROR, ABORTED), a step it never reached will not run: it is not "pending"
      const notRun = run.outcome !== 'RUNNING' && st.state === 'pending';
      const runs = (run.stepRuns ?? []).filter((r) => r.id === s.id && r.at);
      const prog = st.state === 'running' && st.progress ? h('span', { class: 'progress' }, h('i')) : null;
      if (prog)
        prog.firstChild.style.width = `${Math.round((100 * st.progress.done) / Math.max(1, st.progress.total))}%`;
      return h(
        'tr',
        { testid: `step-${s.id}`, class: s.parent ? 'nested' : '' },
        h('td', {}, String(s.index + 1)),
        h('td', {}, s.parent ? '› ' : '', s.name),
        h(
          'td',
          { class: notRun ? 'not-run' : st.state },
          notRun ? 'not run' : st.state,
          st.state === 'running' && st.at ? ` @ ${coordLabel(st.at)}` : '',
          ' ',
          prog,
          st.state === 'running'
            ? h('span', { class: 'work', testid: `step-progress-${s.id}` }, progressText(st.progress))
            : null,
        ),
        h(
          'td',
          { class: `verdict ${st.verdict ?? ''}`, testid: `step-verdict-${s.id}` },
          runs.length > 0
            ? runs.map((r) =>
                h('span', { class: `verdict ${r.verdict ?? ''}` }, `${coordLabel(r.at)} ${r.verdict ?? r.state} `),
              )
            : [st.verdict ?? '', st.error ? ` (${st.error})` : ''],
        ),
        h('td', { class: 'meas' }, ...measLines(byStep.get(s.id) ?? [])),
      );
    }),
  );
}

function renderInstruments() {
  const tbody = $('instrument-panel').tBodies[0];
  tbody.replaceChildren(
    ...live.instruments.map((i) =>
      h(
        'tr',
        {},
        h('td', {}, i.role),
        h(
          'td',
          {
            testid: `instrument-state-${i.role}`,
            class: i.state === 'safe' ? 'PASS' : i.state === 'error' ? 'FAIL' : '',
          },
          i.state,
        ),
        h('td', { class: 'mono' }, i.identity ?? '–'),
        h('td', { class: 'mono' }, i.resource ?? ''),
      ),
    ),
  );
}

function renderLog() {
  const el = $('log-tail');
  const atBottom = el.scrollTop + el.clientHeight >= el.scrollHeight - 4;
  el.replaceChildren(
    ...live.log
      .slice(-100)
      .map((l) => h('li', { class: l.level }, `${new Date(l.ts).toLocaleTimeString()} ${l.level.padEnd(5)} ${l.msg}`)),
  );
  if (atBottom) el.scrollTop = el.scrollHeight;
}

// ---------------- history ----------------
const picked = new Set();

async function loadHistory() {
  try {
    const runs = await api('GET', '/api/runs?limit=50');
    const tbody = $('history-table').tBodies[0];
    tbody.replaceChildren(
      ...runs.map((r) => {
        const cb = h('input', { type: 'checkbox', testid: 'history-check', checked: picked.has(r.id) });
        cb.addEventListener('click', (ev) => {
          ev.stopPropagation();
          if (cb.checked) picked.add(r.id);
          else picked.delete(r.id);
          $('compare-button').disabled = picked.size !== 2;
        });
        return h(
          'tr',
          { testid: 'history-row', 'data-run': r.id, onclick: () => openRun(r.id) },
          h('td', {}, cb),
          h('td', { class: 'mono' }, r.id),
          h('td', {}, r.sequence ?? ''),
          h('td', {}, r.dut ?? ''),
          h('td', {}, r.operator ?? ''),
          h('td', { class: `verdict ${r.outcome}` }, r.outcome),
          h('td', {}, r.startedAt ? new Date(r.startedAt).toLocaleString() : ''),
          h('td', { class: 'mono' }, fmt(r.summary?.energyPerBitPj ?? null)),
        );
      }),
    );
  } catch (err) {
    showError(`history: ${err.message}`);
  }
}

async function download(ev, href, name) {
  ev.preventDefault();
  try {
    const headers = token() ? { authorization: `Bearer ${token()}` } : {};
    const res = await fetch(href, { headers });
    if (!res.ok) throw new Error(`${res.status}`);
    const url = URL.createObjectURL(await res.blob());
    const a = h('a', { href: url, download: name });
    document.body.append(a);
    a.click();
    a.remove();
    setTimeout(() => URL.revokeObjectURL(url), 10_000);
  } catch (err) {
    showError(`export: ${err.message}`);
  }
}

async function openRun(id) {
  const el = $('run-detail');
  try {
    const rec = await api('GET', `/api/runs/${encodeURIComponent(id)}`);
    const links = ['json', 'csv', 'junit', 'html', 'pdf'].map((f) => {
      const href = `/api/runs/${encodeURIComponent(id)}/export?format=${f}`;
      return h(
        'a',
        { href, testid: `export-${f}`, onclick: (ev) => download(ev, href, `${id}.${f === 'junit' ? 'xml' : f}`) },
        f.toUpperCase(),
      );
    });
    const steps = (rec.steps ?? []).map((s) =>
      h(
        'tr',
        {},
        h('td', {}, s.name, s.at ? ` @ ${coordLabel(s.at)}` : ''),
        h('td', { class: `verdict ${s.verdict ?? ''}` }, s.verdict ?? '', s.error ? ` (${s.error})` : ''),
        h('td', { class: 'meas' }, ...measLines(s.measurements ?? [])),
      ),
    );
    el.replaceChildren(
      h(
        'h2',
        {},
        `Run ${rec.id}: `,
        h('span', { class: `verdict ${rec.outcome}`, testid: 'detail-outcome' }, rec.outcome),
      ),
      h(
        'div',
        {},
        `${rec.sequence?.name} · DUT ${rec.dut} · ${rec.operator} · ${rec.startedAt}`,
        rec.abort ? ` · aborted by ${rec.abort.by}` : '',
      ),
      rec.error ? h('div', { class: 'error', testid: 'detail-error', role: 'alert' }, rec.error) : null,
      h('div', {}, 'export: ', ...links),
      h(
        'table',
        {},
        h('thead', {}, h('tr', {}, h('th', {}, 'step'), h('th', {}, 'verdict'), h('th', {}, 'measurements'))),
        h('tbody', {}, ...steps),
      ),
    );
  } catch (err) {
    el.textContent = err.message;
  }
}

/** Every judged value of a record by step, coordinates and name, for compare. */
function valueTable(rec) {
  const out = new Map();
  for (const s of rec.steps ?? []) {
    for (const m of s.measurements ?? []) {
      const key = `${s.id} · ${m.spec.name}${m.at ? ` @ ${coordLabel(m.at)}` : ''}`;
      out.set(key, m);
    }
  }
  return out;
}

function median(values) {
  const v = values.filter((x) => x !== null && Number.isFinite(x)).sort((a, b) => a - b);
  return v.length ? v[Math.floor(v.length / 2)] : null;
}

async function compare() {
  const [a, b] = [...picked];
  const el = $('compare-panel');
  try {
    const [ra, rb] = await Promise.all([a, b].map((id) => api('GET', `/api/runs/${encodeURIComponent(id)}`)));
    const delta = (x, y) => (typeof x === 'number' && typeof y === 'number' ? fmtNum(y - x) : '');
    const rows = [
      ['outcome', ra.outcome, rb.outcome, '', ra.outcome !== rb.outcome],
      ['DUT', ra.dut, rb.dut, '', false],
      ['sequence', ra.sequence?.name, rb.sequence?.name, '', false],
      [
        'energy/bit (pJ)',
        fmtNum(ra.summary?.energyPerBitPj ?? null),
        fmtNum(rb.summary?.energyPerBitPj ?? null),
        delta(ra.summary?.energyPerBitPj, rb.summary?.energyPerBitPj),
        false,
      ],
      [
        'lanes active',
        ra.summary?.lanesActive,
        rb.summary?.lanesActive,
        delta(ra.summary?.lanesActive, rb.summary?.lanesActive),
        false,
      ],
      [
        'lanes dead',
        ra.summary?.lanesDead,
        rb.summary?.lanesDead,
        delta(ra.summary?.lanesDead, rb.summary?.lanesDead),
        false,
      ],
    ];
    const va = valueTable(ra);
    const vb = valueTable(rb);
    let laneDiff = null;
    for (const k of new Set([...va.keys(), ...vb.keys()])) {
      const ma = va.get(k);
      const mb = vb.get(k);
      const changed = (ma?.verdict ?? '–') !== (mb?.verdict ?? '–');
      const show = (m) =>
        !m
          ? '–'
          : m.kind === 'scalar'
            ? `${fmt(m.value, m.spec.unit)} ${m.verdict}`
            : `median ${fmt(median(m.values), m.spec.unit)} ${m.verdict}`;
      const num = (m) => (!m ? undefined : m.kind === 'scalar' ? m.value : median(m.values));
      rows.push([k, show(ma), show(mb), delta(num(ma), num(mb)), changed]);
      // the per-lane difference map: the first per-lane measurement both runs have, or the one picked
      if (ma?.kind === 'lanes' && mb?.kind === 'lanes' && (!laneDiff || k === $('compare-metric')?.value))
        laneDiff = { k, ma, mb };
    }
    const laneKeys = [...va.keys()].filter((k) => va.get(k).kind === 'lanes' && vb.get(k)?.kind === 'lanes');
    el.replaceChildren(
      h('h2', {}, 'Compare'),
      h(
        'table',
        { testid: 'compare-table' },
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            h('th', {}, ''),
            h('th', {}, ra.id),
            h('th', {}, rb.id),
            h('th', {}, 'Δ (B − A)'),
            h('th', {}, ''),
          ),
        ),
        h(
          'tbody',
          {},
          ...rows.map(([k, x, y, d, changed]) =>
            h(
              'tr',
              { class: changed ? 'changed' : '', testid: changed ? 'compare-changed' : undefined },
              h('td', {}, k),
              h('td', {}, x ?? '–'),
              h('td', {}, y ?? '–'),
              h('td', { class: 'mono' }, d),
              h('td', {}, changed ? 'verdict changed' : ''),
            ),
          ),
        ),
      ),
      laneDiff ? compareMap(laneKeys, laneDiff, ra) : null,
    );
  } catch (err) {
    el.textContent = err.message;
  }
}

/** Per-lane difference (B − A) of one per-lane measurement both runs have, on the lane grid. */
function compareMap(keys, { k, ma, mb }, ra) {
  const sel = h(
    'select',
    { testid: 'compare-metric', onchange: () => compare() },
    ...keys.map((x) => h('option', { value: x }, x)),
  );
  sel.value = k;
  const canvas = h('canvas', { testid: 'compare-map', width: 300, height: 300 });
  const wrap = h(
    'div',
    { class: 'lanewrap' },
    canvas,
    h('div', { class: 'legend' }),
    h('div', { class: 'tooltip', hidden: true }),
  );
  const g = ra.station?.snapshot?.lanes ?? live.geometry ?? geometry();
  const map = new LaneMap(canvas, wrap.children[2], wrap.children[1], selectLane);
  map.setGeometry(g.rows, g.cols, g.order);
  const byLane = new Map(ma.lanes.map((l, i) => [l, ma.values[i]]));
  const lanes = [];
  const values = [];
  mb.lanes.forEach((l, i) => {
    const x = byLane.get(l);
    if (x === undefined) return;
    lanes.push(l);
    values.push(x !== null && mb.values[i] !== null ? mb.values[i] - x : null);
  });
  map.render({
    frame: { metric: `Δ ${ma.spec.name}`, unit: ma.spec.unit, lanes, values },
    label: `Δ ${k} (B − A)`,
    lanes: laneIndex(g, ra.laneMap),
    others: [],
    selected: ui.selected,
  });
  canvas.dataset.lanes = String(lanes.length);
  return h('div', { class: 'compare-map' }, h('h3', {}, 'per-lane difference B − A: ', sel), wrap);
}

// ---------------- wiring ----------------
async function loadSequences() {
  try {
    const seqs = await api('GET', '/api/sequences');
    const sel = $('sequence-select');
    sel.replaceChildren(
      ...seqs.map((s) =>
        h(
          'option',
          { value: s.name, title: s.description ?? '', 'data-dut-required': s.dutRequired === false ? 'no' : 'yes' },
          `${s.name} (${s.steps} steps)`,
        ),
      ),
    );
    // the last choice is remembered (per browser)
    const last = localStorage.getItem('cpobench.sequence');
    if (last && seqs.some((s) => s.name === last)) sel.value = last;
    dutRule();
  } catch (err) {
    showError(`sequences: ${err.message}`);
  }
}

/** The DUT serial is required unless the chosen sequence says otherwise. */
function dutRule() {
  const opt = $('sequence-select').selectedOptions[0];
  const required = opt?.dataset.dutRequired !== 'no';
  $('dut-input').required = required;
  $('dut-input').placeholder = required ? 'scan or type the DUT serial' : 'optional for this sequence';
}

async function init() {
  $('token-input').value = token();
  $('token-save').addEventListener('click', () => {
    sessionStorage.setItem('cpobench.token', $('token-input').value.trim());
    showError('');
    loadHistory();
  });
  $('operator-input').value = localStorage.getItem('cpobench.operator') || '';
  $('metric-select').addEventListener('change', (ev) => {
    ui.metric = ev.target.value;
    ui.frameKey = null;
    schedule();
  });
  $('coord-select').addEventListener('change', (ev) => {
    ui.frameKey = ev.target.value;
    schedule();
  });
  $('sequence-select').addEventListener('change', () => {
    localStorage.setItem('cpobench.sequence', $('sequence-select').value);
    dutRule();
  });
  $('run-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      sequence: $('sequence-select').value,
      dut: $('dut-input').value.trim(),
      operator: $('operator-input').value.trim(),
    };
    if ($('dut-input').required && !body.dut) {
      showError('DUT serial: scan or type it (this sequence needs one)');
      $('dut-input').focus();
      return;
    }
    // the DUT's origin, each optional: sent only when given; the server checks them (400 names the field)
    for (const f of ['lot', 'wafer']) {
      const v = $(`${f}-input`).value.trim();
      if (v) body[f] = v;
    }
    const dieX = $('die-x-input').value.trim();
    const dieY = $('die-y-input').value.trim();
    if (dieX || dieY) {
      if (!dieX || !dieY) {
        showError('die: give both x and y (or neither)');
        $(dieX ? 'die-y-input' : 'die-x-input').focus();
        return;
      }
      body.die = { x: Number(dieX), y: Number(dieY) };
    }
    localStorage.setItem('cpobench.operator', body.operator);
    localStorage.setItem('cpobench.sequence', body.sequence);
    try {
      $('start-button').disabled = true;
      await api('POST', '/api/runs', body.dut ? body : { ...body, dut: 'UNSPECIFIED' });
      showError('');
    } catch (err) {
      showError(err.message);
    } finally {
      schedule();
    }
  });
  $('abort-button').addEventListener('click', async () => {
    if (!live.run) return;
    try {
      $('abort-button').disabled = true;
      await api('POST', `/api/runs/${encodeURIComponent(live.run.id)}/abort`);
      showError('');
    } catch (err) {
      showError(err.message);
      schedule();
    }
  });
  $('history-refresh').addEventListener('click', loadHistory);
  $('compare-button').addEventListener('click', compare);
  connect();
  await loadSequences();
  loadHistory();
  schedule();
}

init();
