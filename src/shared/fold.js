// The one fold of the bench's event stream into live state: the server's snapshot for new WebSocket clients
// (src/server/live-state.ts), the WebSocket hub's merging of lane frames for a client that is behind
// (src/server/ws-hub.ts) and the browser dashboard (served as-is at /shared/fold.js) all apply events here.
// A plain ES module, because the dashboard is served without a build step: the browser imports this very file,
// and TypeScript imports it too, with its types in fold.d.ts. The state is plain JSON (no Map), so a snapshot is
// the state itself, cloned.
import { atKey } from './coordinates.js';

const DEFAULT_MAX_MEASUREMENTS = 2000;
const DEFAULT_MAX_LOG = 200;
const DEFAULT_MAX_FRAMES = 400;

/** The key of a lane frame: one per step, metric and sweep coordinates ("t-ber|ber_upper_bound|temperature=85"). */
export function frameKey(e) {
  return `${e.step}|${e.metric}|${atKey(e.at)}`;
}

/** Two frames of one key merged, lane by lane, the newer value winning; lanes ascending. */
export function mergeFrames(a, b) {
  const byLane = new Map();
  for (let i = 0; i < a.lanes.length; i++) byLane.set(a.lanes[i], a.values[i] ?? null);
  for (let i = 0; i < b.lanes.length; i++) byLane.set(b.lanes[i], b.values[i] ?? null);
  const lanes = [...byLane.keys()].sort((x, y) => x - y);
  return { ...b, lanes, values: lanes.map((l) => byLane.get(l) ?? null) };
}

/**
 * A fresh live state.
 * @param {{station?: string, geometry?: object, instruments?: object[], maxMeasurements?: number, maxLog?: number,
 *   maxFrames?: number}} [opts]
 */
export function createState(opts = {}) {
  return {
    station: opts.station ?? '',
    geometry: opts.geometry,
    run: null,
    instruments: (opts.instruments ?? []).map((i) => ({ ...i })),
    /** the newest frame of each metric, merged over partial frames of one step (what the lane map shows first) */
    lanes: {},
    /** every frame of the run by frameKey: a measurement at 25 °C is not overwritten by the one at 85 °C */
    frames: {},
    log: [],
    limits: {
      maxMeasurements: opts.maxMeasurements ?? DEFAULT_MAX_MEASUREMENTS,
      maxLog: opts.maxLog ?? DEFAULT_MAX_LOG,
      maxFrames: opts.maxFrames ?? DEFAULT_MAX_FRAMES,
    },
  };
}

/** A state from a snapshot the server sent (a snapshot is a state). */
export function stateFromSnapshot(snap, opts = {}) {
  const s = createState({ ...opts, station: snap.station, geometry: snap.geometry, instruments: snap.instruments });
  s.run = snap.run ? structuredClone(snap.run) : null;
  s.lanes = structuredClone(snap.lanes ?? {});
  s.frames = structuredClone(snap.frames ?? {});
  s.log = (snap.log ?? []).slice(-s.limits.maxLog);
  return s;
}

/** The state as a snapshot: a deep copy without the bounds. */
export function snapshotOf(s) {
  return {
    station: s.station,
    geometry: s.geometry,
    run: s.run ? structuredClone(s.run) : null,
    instruments: s.instruments.map((i) => ({ ...i })),
    lanes: structuredClone(s.lanes),
    frames: structuredClone(s.frames),
    log: s.log.slice(),
  };
}

function addFrame(s, e) {
  const frame = { runId: e.runId, step: e.step, metric: e.metric, unit: e.unit, lanes: e.lanes, values: e.values };
  if (e.at && Object.keys(e.at).length > 0) frame.at = { ...e.at };
  const prevLatest = s.lanes[e.metric];
  s.lanes[e.metric] =
    prevLatest && prevLatest.step === e.step && atKey(prevLatest.at) === atKey(e.at)
      ? mergeFrames(prevLatest, frame)
      : mergeFrames({ lanes: [], values: [] }, frame);
  const key = frameKey(e);
  const prev = s.frames[key];
  if (prev) delete s.frames[key]; // re-inserted last: the object's key order is arrival order
  s.frames[key] = prev ? mergeFrames(prev, frame) : mergeFrames({ lanes: [], values: [] }, frame);
  const keys = Object.keys(s.frames);
  for (let i = 0; i < keys.length - s.limits.maxFrames; i++) delete s.frames[keys[i]];
}

/**
 * Applies one event to the state (in place). `ts` is the event's time in ms (the WebSocket's `ts`, or now).
 */
export function applyEvent(s, e, ts = Date.now()) {
  const run = s.run;
  switch (e.type) {
    case 'run.started':
      s.run = {
        id: e.run.id,
        sequence: e.run.sequence.name,
        dut: e.run.dut,
        operator: e.run.operator,
        startedAt: e.run.startedAt,
        outcome: 'RUNNING',
        steps: e.steps,
        stepStates: Object.fromEntries(e.steps.map((st) => [st.id, { state: 'pending' }])),
        stepRuns: [],
        measurements: [],
        openPrompts: [],
      };
      s.lanes = {};
      s.frames = {};
      break;
    case 'step.started':
      if (run?.id === e.runId) {
        const at = e.step.at && Object.keys(e.step.at).length > 0 ? { ...e.step.at } : undefined;
        run.stepStates[e.step.id] = { state: 'running', startedAt: new Date(ts).toISOString(), ...(at ? { at } : {}) };
        if (!run.stepRuns) run.stepRuns = [];
        run.stepRuns.push({ id: e.step.id, name: e.step.name, ...(at ? { at } : {}), state: 'running' });
      }
      break;
    case 'progress': {
      const st = run?.id === e.runId ? run.stepStates[e.step] : undefined;
      if (st) {
        st.progress = { done: e.done, total: e.total };
        if (e.etaS !== undefined) st.progress.etaS = e.etaS;
        if (e.unit !== undefined) st.progress.unit = e.unit;
        if (e.detail !== undefined) st.progress.detail = e.detail;
        if (e.errors !== undefined) st.progress.errors = e.errors;
      }
      break;
    }
    case 'step.finished': {
      if (run?.id !== e.runId) break;
      const prev = run.stepStates[e.step];
      run.stepStates[e.step] = { ...prev, state: 'done', verdict: e.verdict, finishedAt: new Date(ts).toISOString() };
      if (e.error !== undefined) run.stepStates[e.step].error = e.error;
      else delete run.stepStates[e.step].error;
      const last = (run.stepRuns ?? []).findLast((r) => r.id === e.step && r.state === 'running');
      if (last) {
        last.state = 'done';
        last.verdict = e.verdict;
        if (e.error !== undefined) last.error = e.error;
      }
      break;
    }
    case 'measurement':
      if (run?.id === e.runId) {
        run.measurements.push({ step: e.step, ts, measurement: e.measurement });
        if (run.measurements.length > s.limits.maxMeasurements) run.measurements.shift();
      }
      break;
    case 'lanes':
      if (!run || run.id === e.runId) addFrame(s, e);
      break;
    case 'lanemap':
      if (run?.id === e.runId) run.laneMap = e.laneMap;
      break;
    case 'safe-state':
      if (run?.id === e.runId) run.safeState = e.check;
      break;
    case 'run.finished':
      if (run?.id === e.runId) {
        run.outcome = e.outcome;
        if (e.summary !== undefined) run.summary = e.summary;
        if (e.error !== undefined) run.error = e.error;
        if (e.safeState) run.safeState = e.safeState;
        run.finishedAt = new Date(ts).toISOString();
        run.openPrompts = [];
      }
      break;
    case 'instrument': {
      const i = s.instruments.findIndex((x) => x.role === e.role);
      const prev = i >= 0 ? s.instruments[i] : undefined;
      const next = { role: e.role, resource: e.resource ?? prev?.resource ?? '', state: e.state };
      const identity = e.identity ?? prev?.identity;
      if (identity !== undefined) next.identity = identity;
      if (i >= 0) s.instruments[i] = next;
      else s.instruments.push(next);
      break;
    }
    case 'prompt':
      if (run?.id === e.runId) {
        run.openPrompts = run.openPrompts.filter((p) => p.id !== e.prompt.id);
        if (e.prompt.answeredAt === undefined) run.openPrompts.push(e.prompt);
      }
      break;
    case 'log':
      s.log.push({ ts, level: e.level, msg: e.msg });
      if (s.log.length > s.limits.maxLog) s.log.splice(0, s.log.length - s.limits.maxLog);
      break;
    default:
      break;
  }
  return s;
}
