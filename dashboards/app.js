// cpobench dashboard: folds the /ws event stream into view state and renders it. No build step.
import { makeCharts } from '/charts.js';
import { fmt, LaneMap } from '/lanemap.js';

const $ = (id) => document.querySelector(`[data-testid="${id}"]`);
const MAX_POINTS = 2000;

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
const state = {
  station: '',
  geometry: null,
  run: null,
  instruments: new Map(),
  lanes: new Map(), // metric -> { unit, step, values: Map<lane, v> }
  epb: [],
  rail: [],
  tec: [],
  li: [], // { x, values: Map<lane, v> }
  ber: [], // { t, values: Map<lane, v> }
  log: [],
  metric: null,
  selected: 1,
  lastSeq: null,
};

function resetRunData() {
  state.lanes = new Map();
  state.epb = [];
  state.rail = [];
  state.tec = [];
  state.li = [];
  state.ber = [];
}

function push(arr, p) {
  arr.push(p);
  if (arr.length > MAX_POINTS) arr.splice(0, arr.length - MAX_POINTS);
}

function applyMeasurement(step, m, ts) {
  const t = ts / 1000;
  const name = m.spec.name;
  if (m.kind === 'scalar') {
    // the module figure the limit applies to (energy_per_bit), not the dynamic share
    if (m.spec.name === 'energy_per_bit') push(state.epb, [t, m.value]);
    else if (/rail/i.test(name) && m.spec.unit === 'W') push(state.rail, [t, m.value]);
    else if (/tec|temp/i.test(name)) push(state.tec, [t, m.value]);
  } else if (m.kind === 'lanes' && m.at) {
    const key = Object.keys(m.at).find((k) => /bias|curr/i.test(k));
    if (key && /li|power/i.test(name)) {
      const values = new Map();
      for (let i = 0; i < m.lanes.length; i++) values.set(m.lanes[i], m.values[i]);
      state.li = state.li.filter((p) => p.x !== m.at[key]);
      state.li.push({ x: m.at[key], values });
      state.li.sort((a, b) => a.x - b.x);
    }
  }
  if (state.run) {
    if (!state.run.measurements) state.run.measurements = [];
    const list = state.run.measurements;
    list.push({ step, ts, measurement: m });
    if (list.length > MAX_POINTS) list.shift();
  }
}

function applyLanes(e, ts) {
  let entry = state.lanes.get(e.metric);
  if (!entry || entry.step !== e.step) {
    entry = { unit: e.unit, step: e.step, values: new Map() };
    state.lanes.set(e.metric, entry);
  }
  for (let i = 0; i < e.lanes.length; i++) entry.values.set(e.lanes[i], e.values[i] ?? null);
  if (/^ber_upper/i.test(e.metric)) {
    const values = new Map();
    for (let i = 0; i < e.lanes.length; i++) values.set(e.lanes[i], e.values[i] ?? null);
    push(state.ber, { t: ts / 1000, values });
  }
  if (!state.metric) state.metric = e.metric;
}

function applySnapshot(s) {
  state.station = s.station ?? '';
  state.geometry = s.geometry ?? null;
  state.instruments = new Map((s.instruments ?? []).map((i) => [i.role, i]));
  state.log = (s.log ?? []).slice(-200);
  resetRunData();
  state.run = s.run ? { ...s.run, measurements: [] } : null;
  for (const x of s.run?.measurements ?? []) applyMeasurement(x.step, x.measurement, x.ts);
  for (const [metric, f] of Object.entries(s.lanes ?? {})) applyLanes({ ...f, metric }, Date.now());
  if (state.metric && !state.lanes.has(state.metric)) state.metric = state.lanes.keys().next().value ?? null;
}

function applyEvent(e) {
  const run = state.run;
  switch (e.type) {
    case 'run.started':
      resetRunData();
      state.metric = null;
      state.run = {
        id: e.run.id,
        sequence: e.run.sequence.name,
        dut: e.run.dut,
        operator: e.run.operator,
        startedAt: e.run.startedAt,
        outcome: 'RUNNING',
        steps: e.steps,
        stepStates: Object.fromEntries(e.steps.map((s) => [s.id, { state: 'pending' }])),
        measurements: [],
        openPrompts: [],
      };
      break;
    case 'step.started':
      if (run?.id === e.runId) run.stepStates[e.step.id] = { state: 'running' };
      break;
    case 'progress':
      if (run?.id === e.runId && run.stepStates[e.step])
        run.stepStates[e.step].progress = { done: e.done, total: e.total };
      break;
    case 'step.finished':
      if (run?.id === e.runId)
        run.stepStates[e.step] = { ...run.stepStates[e.step], state: 'done', verdict: e.verdict, error: e.error };
      break;
    case 'measurement':
      if (!run || run.id === e.runId) applyMeasurement(e.step, e.measurement, e.ts);
      break;
    case 'lanes':
      if (!run || run.id === e.runId) applyLanes(e, e.ts);
      break;
    case 'safe-state':
      if (run?.id === e.runId) run.safeState = e.check;
      break;
    case 'run.finished':
      if (run?.id === e.runId) {
        run.outcome = e.outcome;
        run.summary = e.summary;
        run.error = e.error;
        if (e.safeState) run.safeState = e.safeState;
        run.openPrompts = [];
      }
      loadHistory();
      break;
    case 'instrument': {
      const prev = state.instruments.get(e.role) ?? {};
      state.instruments.set(e.role, {
        ...prev,
        role: e.role,
        state: e.state,
        identity: e.identity ?? prev.identity,
        resource: e.resource ?? prev.resource,
      });
      break;
    }
    case 'prompt':
      if (run?.id === e.runId) {
        run.openPrompts = (run.openPrompts ?? []).filter((p) => p.id !== e.prompt.id);
        if (!e.prompt.answeredAt) run.openPrompts.push(e.prompt);
      }
      break;
    case 'log':
      state.log.push({ ts: e.ts, level: e.level, msg: e.msg });
      if (state.log.length > 200) state.log.splice(0, state.log.length - 200);
      break;
  }
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
}

function token() {
  return sessionStorage.getItem('cpobench.token') || '';
}

function connect() {
  setConn('connecting');
  const q = new URLSearchParams();
  if (state.lastSeq !== null) q.set('since', String(state.lastSeq));
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
    state.lastSeq = m.seq;
  } else if (m.type === 'resume') {
    state.lastSeq = m.seq;
  } else if (m.type === 'pong') {
    return;
  } else if (m.type === 'error') {
    console.warn('server:', m.message);
    return;
  } else {
    if (state.lastSeq !== null && m.seq <= state.lastSeq) return;
    applyEvent(m);
    state.lastSeq = m.seq;
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

const laneMap = new LaneMap($('lane-map'), $('lane-tooltip'), $('lane-legend'), (lane) => {
  state.selected = lane;
  schedule();
});
const charts = makeCharts({ energy: $('chart-energy'), tec: $('chart-tec'), li: $('chart-li'), ber: $('chart-ber') });

function geometry() {
  if (state.geometry) return state.geometry;
  let max = 0;
  for (const m of state.lanes.values()) for (const l of m.values.keys()) max = Math.max(max, l);
  const cols = Math.max(1, Math.ceil(Math.sqrt(max || 400)));
  return { rows: Math.ceil((max || 400) / cols), cols, lanes: max || 400 };
}

function render() {
  $('station-name').textContent = state.station || '–';
  $('last-seq').textContent = `seq ${state.lastSeq ?? '–'}`;
  const run = state.run;
  const running = run?.outcome === 'RUNNING';
  $('start-button').disabled = running;
  $('abort-button').disabled = !running;
  $('run-id').textContent = run?.id ?? '–';
  $('run-dut').textContent = run ? `${run.dut} (${run.operator}, ${run.sequence})` : '–';
  const outcome = run?.outcome ?? 'IDLE';
  $('run-outcome').textContent = outcome;
  $('run-outcome').className = `outcome ${outcome}`;
  // why a run ended ERROR or ABORTED (an instrument that stopped answering, who aborted): the record's error
  $('run-error').textContent = run?.error ?? '';
  $('run-error').hidden = !run?.error;
  renderSafety(run);
  const lastEpb = state.epb.at(-1)?.[1] ?? run?.summary?.energyPerBitPj;
  $('run-epb').textContent = lastEpb === undefined ? '–' : fmt(lastEpb, 'pJ/bit');

  renderLaneMap();
  renderPrompts();
  renderSteps();
  renderInstruments();
  renderLog();
  charts.setEnergy(state.epb, state.rail);
  charts.setTec(state.tec);
  const lane = state.selected;
  $('li-lane').textContent = String(lane);
  $('ber-lane').textContent = String(lane);
  charts.setLi(state.li.map((p) => [p.x, p.values.get(lane) ?? null]));
  charts.setBer(state.ber.map((p) => [p.t, p.values.get(lane) ?? null]));
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

function renderLaneMap() {
  const sel = $('metric-select');
  const metrics = [...state.lanes.keys()];
  if (sel.options.length !== metrics.length || metrics.some((m, i) => sel.options[i]?.value !== m)) {
    sel.replaceChildren(...metrics.map((m) => h('option', { value: m }, `${m} (${state.lanes.get(m).unit || '–'})`)));
  }
  if (state.metric) sel.value = state.metric;
  const g = geometry();
  laneMap.setGeometry(g.rows, g.cols);
  const m = state.metric ? state.lanes.get(state.metric) : undefined;
  laneMap.render(state.metric, m, state.lanes, state.selected);
  let filled = 0;
  if (m) for (const v of m.values.values()) if (v !== null) filled++;
  $('lane-count-filled').textContent = String(filled);
  $('lane-count-total').textContent = String(g.lanes);
  $('selected-lane').textContent = String(state.selected);
}

let promptKey = '';
function renderPrompts() {
  const el = $('prompt-panel');
  const prompts = state.run?.openPrompts ?? [];
  // Only rebuild when the open prompts change, so buttons are not replaced under the operator's pointer.
  const key = `${state.run?.id}:${prompts.map((p) => p.id).join(',')}`;
  if (key === promptKey) return;
  promptKey = key;
  el.replaceChildren(
    ...prompts.map((p) => {
      const answer = async (value) => {
        try {
          await api('POST', `/api/runs/${encodeURIComponent(state.run.id)}/prompts/${encodeURIComponent(p.id)}`, {
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
          h('button', { type: 'button', testid: 'prompt-submit', onclick: () => answer(input.value) }, 'Submit'),
        );
      } else if (p.kind === 'passfail') {
        box.append(
          h('button', { type: 'button', testid: 'prompt-pass', onclick: () => answer(true) }, 'Pass'),
          h('button', { type: 'button', testid: 'prompt-fail', onclick: () => answer(false) }, 'Fail'),
        );
      } else {
        box.append(h('button', { type: 'button', testid: 'prompt-confirm', onclick: () => answer(true) }, 'Confirm'));
      }
      return box;
    }),
  );
}

function limitText(spec) {
  const l = spec.limits;
  if (!l) return '';
  return ` [${l.low ?? '−∞'} … ${l.high ?? '+∞'}]`;
}

function measText(m) {
  if (m.kind === 'scalar') return `${m.spec.name} = ${fmt(m.value, m.spec.unit)}${limitText(m.spec)}`;
  const bad = m.verdicts.filter((v) => v === 'FAIL').length;
  const at = m.at
    ? ` @ ${Object.entries(m.at)
        .map(([k, v]) => `${k}=${v}`)
        .join(',')}`
    : '';
  return `${m.spec.name}${at}: ${m.lanes.length} lanes, ${bad} fail${limitText(m.spec)}`;
}

function renderSteps() {
  const tbody = $('step-timeline').tBodies[0];
  const run = state.run;
  if (!run) {
    tbody.replaceChildren();
    return;
  }
  const latest = new Map();
  for (const x of run.measurements ?? []) {
    const key = `${x.step}/${x.measurement.spec.name}`;
    latest.set(key, x.measurement);
  }
  tbody.replaceChildren(
    ...run.steps.map((s) => {
      const st = run.stepStates[s.id] ?? { state: 'pending' };
      // once the run has ended (ERROR, ABORTED), a step it never reached will not run: it is not "pending"
      const notRun = run.outcome !== 'RUNNING' && st.state === 'pending';
      const meas = [...latest.entries()].filter(([k]) => k.startsWith(`${s.id}/`)).map(([, m]) => m);
      const prog = st.state === 'running' && st.progress ? h('span', { class: 'progress' }, h('i')) : null;
      if (prog)
        prog.firstChild.style.width = `${Math.round((100 * st.progress.done) / Math.max(1, st.progress.total))}%`;
      return h(
        'tr',
        { testid: `step-${s.id}` },
        h('td', {}, String(s.index + 1)),
        h('td', {}, s.name),
        h('td', { class: notRun ? 'not-run' : st.state }, notRun ? 'not run' : st.state, ' ', prog),
        h(
          'td',
          { class: `verdict ${st.verdict ?? ''}`, testid: `step-verdict-${s.id}` },
          st.verdict ?? '',
          st.error ? ` (${st.error})` : '',
        ),
        h('td', { class: 'meas' }, ...meas.map((m) => h('span', { class: m.verdict }, measText(m)))),
      );
    }),
  );
}

function renderInstruments() {
  const tbody = $('instrument-panel').tBodies[0];
  tbody.replaceChildren(
    ...[...state.instruments.values()].map((i) =>
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
    ...state.log
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

function scalarTable(rec) {
  const out = new Map();
  for (const s of rec.steps ?? [])
    for (const m of s.measurements ?? []) if (m.kind === 'scalar') out.set(`${s.id}/${m.spec.name}`, m);
  return out;
}

async function openRun(id) {
  const el = $('run-detail');
  try {
    const rec = await api('GET', `/api/runs/${encodeURIComponent(id)}`);
    const links = ['json', 'csv', 'junit', 'html'].map((f) => {
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
        h('td', {}, s.name),
        h('td', { class: `verdict ${s.verdict ?? ''}` }, s.verdict ?? '', s.error ? ` (${s.error})` : ''),
        h('td', { class: 'meas' }, ...(s.measurements ?? []).map((m) => h('span', { class: m.verdict }, measText(m)))),
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

async function compare() {
  const [a, b] = [...picked];
  const el = $('compare-panel');
  try {
    const [ra, rb] = await Promise.all([a, b].map((id) => api('GET', `/api/runs/${encodeURIComponent(id)}`)));
    const rows = [
      ['outcome', ra.outcome, rb.outcome],
      ['DUT', ra.dut, rb.dut],
      ['sequence', ra.sequence?.name, rb.sequence?.name],
      ['energy/bit (pJ)', fmt(ra.summary?.energyPerBitPj ?? null), fmt(rb.summary?.energyPerBitPj ?? null)],
      ['lanes active', ra.summary?.lanesActive, rb.summary?.lanesActive],
      ['lanes dead', ra.summary?.lanesDead, rb.summary?.lanesDead],
    ];
    const sa = scalarTable(ra);
    const sb = scalarTable(rb);
    for (const k of new Set([...sa.keys(), ...sb.keys()])) {
      const ma = sa.get(k);
      const mb = sb.get(k);
      rows.push([k, ma ? fmt(ma.value, ma.spec.unit) : '–', mb ? fmt(mb.value, mb.spec.unit) : '–']);
    }
    el.replaceChildren(
      h('h2', {}, 'Compare'),
      h(
        'table',
        { testid: 'compare-table' },
        h('thead', {}, h('tr', {}, h('th', {}, ''), h('th', {}, ra.id), h('th', {}, rb.id))),
        h('tbody', {}, ...rows.map((r) => h('tr', {}, ...r.map((c) => h('td', {}, c ?? '–'))))),
      ),
    );
  } catch (err) {
    el.textContent = err.message;
  }
}

// ---------------- wiring ----------------
async function init() {
  $('token-input').value = token();
  $('token-save').addEventListener('click', () => {
    sessionStorage.setItem('cpobench.token', $('token-input').value.trim());
    showError('');
    loadHistory();
  });
  $('operator-input').value = localStorage.getItem('cpobench.operator') || '';
  $('metric-select').addEventListener('change', (ev) => {
    state.metric = ev.target.value;
    schedule();
  });
  $('run-form').addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const body = {
      sequence: $('sequence-select').value,
      dut: $('dut-input').value.trim(),
      operator: $('operator-input').value.trim(),
    };
    localStorage.setItem('cpobench.operator', body.operator);
    try {
      $('start-button').disabled = true;
      await api('POST', '/api/runs', body);
      showError('');
    } catch (err) {
      showError(err.message);
    } finally {
      schedule();
    }
  });
  $('abort-button').addEventListener('click', async () => {
    if (!state.run) return;
    try {
      $('abort-button').disabled = true;
      await api('POST', `/api/runs/${encodeURIComponent(state.run.id)}/abort`);
      showError('');
    } catch (err) {
      showError(err.message);
      schedule();
    }
  });
  $('history-refresh').addEventListener('click', loadHistory);
  $('compare-button').addEventListener('click', compare);
  connect();
  try {
    const seqs = await api('GET', '/api/sequences');
    $('sequence-select').replaceChildren(
      ...seqs.map((s) => h('option', { value: s.name, title: s.description ?? '' }, `${s.name} (${s.steps} steps)`)),
    );
  } catch (err) {
    showError(`sequences: ${err.message}`);
  }
  loadHistory();
  schedule();
}

init();
