/**
 * An in-test BenchController that plays a plausible MOSAIC-class qualification run: instrument connects, a
 * lane map filling in row by row, an L-I sweep, a BER gate, energy per bit and rail power, TEC temperature.
 * Abort brings every instrument to 'safe' and finishes the run ABORTED. Finished runs are kept and exported.
 */

import type {
  BenchEvent,
  LaneMeasurement,
  MeasurementSpec,
  Outcome,
  PromptRecord,
  RunRecord,
  ScalarMeasurement,
  StepPlan,
  Verdict,
} from '../../src/core/record.ts';
import { judge, worst } from '../../src/orchestrator/limits.ts';
import type {
  BenchController,
  BenchSnapshot,
  ExportedRun,
  ExportFormat,
  InstrumentView,
  RunFilter,
  SequenceView,
  StartRunRequest,
} from '../../src/server/controller.ts';
import {
  BenchBusyError,
  ReportUnavailableError,
  UnknownPromptError,
  UnknownRunError,
  UnknownSequenceError,
  ValidationError,
} from '../../src/server/errors.ts';
import { LiveState } from '../../src/server/live-state.ts';

export interface FakeOptions {
  /** Milliseconds between simulated acquisitions. */
  tickMs?: number;
  /** Ticks the BER gate runs (each tick updates the BER bound of every lane). */
  berTicks?: number;
  rows?: number;
  cols?: number;
  seed?: number;
}

const ROLES: InstrumentView[] = [
  { role: 'led-driver', resource: 'TCPIP0::127.0.0.1::5101::SOCKET', state: 'idle' },
  { role: 'pd-receiver', resource: 'TCPIP0::127.0.0.1::5102::SOCKET', state: 'idle' },
  { role: 'power-analyzer', resource: 'TCPIP0::127.0.0.1::5103::SOCKET', state: 'idle' },
  { role: 'tec', resource: 'ASRL/dev/pts/7::INSTR', state: 'idle' },
];

const SPEC = {
  rxPower: { name: 'rx_power', unit: 'uW', dimensions: ['lane'], limits: { low: 8, marginal: 2 } },
  liPower: { name: 'li_power', unit: 'uW', dimensions: ['lane'] },
  liSlope: { name: 'li_slope', unit: 'W/A', dimensions: ['lane'], limits: { low: 0.004 } },
  ber: { name: 'ber_upper_95', unit: '', dimensions: ['lane'], limits: { high: 1e-12 } },
  epb: { name: 'energy_per_bit', unit: 'pJ/bit', dimensions: [], limits: { high: 1.5, marginal: 0.1 } },
  rail: { name: 'rail_power', unit: 'W', dimensions: [], limits: { high: 2.5 } },
  tec: { name: 'tec_temperature', unit: 'degC', dimensions: [], limits: { low: 24, high: 26 } },
  lanesAlive: { name: 'lanes_alive', unit: '', dimensions: [], limits: { low: 390 } },
} satisfies Record<string, MeasurementSpec>;

const SEQUENCES: Record<string, { description: string; steps: StepPlan[] }> = {
  'mosaic-qual': {
    description: 'MOSAIC 400-lane qualification: lane map, L-I, BER gate, energy per bit',
    steps: [
      { index: 0, id: 'connect', name: 'Connect instruments', type: 'connect', measurements: [] },
      { index: 1, id: 'lane-map', name: 'Lane map', type: 'lane_map', measurements: [SPEC.rxPower, SPEC.lanesAlive] },
      { index: 2, id: 'li', name: 'L-I sweep', type: 'li_sweep', measurements: [SPEC.liPower, SPEC.liSlope] },
      { index: 3, id: 'ber', name: 'BER gate', type: 'ber', measurements: [SPEC.ber] },
      { index: 4, id: 'energy', name: 'Energy per bit', type: 'energy', measurements: [SPEC.epb, SPEC.rail] },
    ],
  },
  'quick-check': {
    description: 'Lane map and energy per bit only',
    steps: [
      { index: 0, id: 'connect', name: 'Connect instruments', type: 'connect', measurements: [] },
      { index: 1, id: 'lane-map', name: 'Lane map', type: 'lane_map', measurements: [SPEC.rxPower, SPEC.lanesAlive] },
      { index: 2, id: 'energy', name: 'Energy per bit', type: 'energy', measurements: [SPEC.epb, SPEC.rail] },
    ],
  },
};

/** Verdicts come from the production judge, never a copy of it. */
function verdictOf(v: number | null, spec: MeasurementSpec): Verdict {
  return judge(v, spec.limits);
}

export class FakeController implements BenchController {
  readonly tickMs: number;
  readonly berTicks: number;
  readonly rows: number;
  readonly cols: number;
  private readonly listeners = new Set<(e: BenchEvent) => void>();
  private readonly live: LiveState;
  private readonly records = new Map<string, RunRecord>();
  private readonly instrumentState = new Map<string, InstrumentView>();
  private active: { id: string; abort: (by: string) => Promise<void> } | null = null;
  private readonly promptWaiters = new Map<string, (answer: unknown, by: string) => void>();
  private seed: number;
  private runCounter = 0;
  /** Every startRun request, for assertions. */
  readonly started: StartRunRequest[] = [];

  constructor(opts: FakeOptions = {}) {
    this.tickMs = opts.tickMs ?? 10;
    this.berTicks = opts.berTicks ?? 10;
    this.rows = opts.rows ?? 20;
    this.cols = opts.cols ?? 20;
    this.seed = opts.seed ?? 7;
    for (const i of ROLES) this.instrumentState.set(i.role, { ...i });
    this.live = new LiveState({
      station: 'sim-mosaic',
      geometry: { rows: this.rows, cols: this.cols, lanes: this.rows * this.cols },
      instruments: ROLES,
    });
  }

  get lanes(): number {
    return this.rows * this.cols;
  }

  // --- BenchController ---
  health() {
    return { ok: true, station: 'sim-mosaic', version: '0.1.0-test', running: this.active?.id ?? null };
  }
  instruments(): InstrumentView[] {
    return [...this.instrumentState.values()].map((i) => ({ ...i }));
  }
  sequences(): SequenceView[] {
    return Object.entries(SEQUENCES).map(([name, s]) => ({
      name,
      file: `sequences/${name}.yaml`,
      description: s.description,
      steps: s.steps.length,
    }));
  }

  async startRun(req: StartRunRequest): Promise<{ id: string }> {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(req.dut)) throw new ValidationError('dut', 'dut: letters, digits, . _ - only');
    const seq = SEQUENCES[req.sequence];
    if (!seq) throw new UnknownSequenceError(req.sequence);
    if (this.active) throw new BenchBusyError(this.active.id);
    this.started.push(req);
    const id = `run-${String(++this.runCounter).padStart(4, '0')}-${req.dut}`;
    const record: RunRecord = {
      schema: 1,
      id,
      sequence: { name: req.sequence, hash: 'sha256:fake', file: `sequences/${req.sequence}.yaml` },
      station: { name: 'sim-mosaic', snapshot: {} },
      dut: req.dut,
      operator: req.operator,
      software: { version: '0.1.0-test' },
      startedAt: new Date().toISOString(),
      outcome: 'RUNNING',
      instruments: ROLES.map((r) => ({ role: r.role, resource: r.resource, driver: `sim-${r.role}` })),
      steps: [],
      holds: [],
      prompts: [],
    };
    this.records.set(id, record);
    let aborted: string | null = null;
    let wake: (() => void) | null = null;
    const finished = new Promise<void>((resolve) => {
      void this.play(
        record,
        seq.steps,
        req.params ?? {},
        () => aborted,
        (w) => (wake = w),
      ).then(resolve);
    });
    this.active = {
      id,
      abort: async (by: string) => {
        aborted = by;
        record.abort = { requestedAt: new Date().toISOString(), by };
        (wake as (() => void) | null)?.();
        await finished;
      },
    };
    return { id };
  }

  async abortRun(id: string, by: string): Promise<void> {
    if (!this.records.has(id)) throw new UnknownRunError(id);
    if (this.active?.id !== id) throw new BenchBusyError(null, `run ${id} is not running`);
    await this.active.abort(by);
  }

  async answerPrompt(runId: string, promptId: string, answer: unknown, by: string): Promise<void> {
    if (!this.records.has(runId)) throw new UnknownRunError(runId);
    const w = this.promptWaiters.get(`${runId}/${promptId}`);
    if (!w) throw new UnknownPromptError(promptId);
    if (!['string', 'number', 'boolean'].includes(typeof answer)) throw new ValidationError('answer');
    w(answer, by);
  }

  listRuns(filter: RunFilter): unknown[] {
    return [...this.records.values()]
      .filter((r) => !filter.dut || r.dut === filter.dut)
      .filter((r) => !filter.sequence || r.sequence.name === filter.sequence)
      .filter((r) => !filter.outcome || r.outcome === filter.outcome)
      .reverse()
      .slice(0, filter.limit ?? 100)
      .map((r) => ({
        id: r.id,
        sequence: r.sequence.name,
        dut: r.dut,
        operator: r.operator,
        outcome: r.outcome,
        startedAt: r.startedAt,
        finishedAt: r.finishedAt,
        summary: r.summary,
      }));
  }

  getRun(id: string): RunRecord | undefined {
    const r = this.records.get(id);
    return r ? structuredClone(r) : undefined;
  }

  async exportRun(id: string, format: ExportFormat): Promise<ExportedRun | undefined> {
    const r = this.records.get(id);
    if (!r) return undefined;
    const rows: string[][] = [];
    for (const s of r.steps)
      for (const m of s.measurements) {
        if (m.kind === 'scalar') rows.push([s.id, m.spec.name, '', String(m.value), m.spec.unit, m.verdict]);
        else
          for (let i = 0; i < m.lanes.length; i++)
            rows.push([s.id, m.spec.name, String(m.lanes[i]), String(m.values[i]), m.spec.unit, m.verdicts[i]]);
      }
    switch (format) {
      case 'json':
        return { contentType: 'application/json', filename: `${id}.json`, body: JSON.stringify(r, null, 2) };
      case 'csv':
        return {
          contentType: 'text/csv; charset=utf-8',
          filename: `${id}.csv`,
          body: ['step,measurement,lane,value,unit,verdict', ...rows.map((x) => x.join(','))].join('\n') + '\n',
        };
      case 'junit': {
        const cases = r.steps
          .map((s) => `<testcase name="${s.name}">${s.verdict === 'FAIL' ? '<failure/>' : ''}</testcase>`)
          .join('');
        return {
          contentType: 'application/xml',
          filename: `${id}.xml`,
          body: `<?xml version="1.0"?><testsuite name="${r.sequence.name}" tests="${r.steps.length}">${cases}</testsuite>`,
        };
      }
      case 'html':
        return {
          contentType: 'text/html; charset=utf-8',
          filename: `${id}.html`,
          body: `<!doctype html><title>${r.id}</title><h1>${r.id}: ${r.outcome}</h1>`,
        };
      case 'pdf':
        // the real controller prints through Chromium (test/e2e/server.test.ts); this one has none, as a bench may not
        throw new ReportUnavailableError(`no PDF of run ${id}: Chromium (/nonexistent/chromium) cannot be started`);
    }
  }

  snapshot(): BenchSnapshot {
    return this.live.snapshot();
  }

  onEvent(listener: (e: BenchEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Emit an arbitrary event (tests drive the hub with it). State is updated before listeners run. */
  emit(e: BenchEvent): void {
    this.live.apply(e);
    if (e.type === 'instrument') {
      const prev = this.instrumentState.get(e.role);
      this.instrumentState.set(e.role, {
        role: e.role,
        resource: e.resource ?? prev?.resource ?? '',
        state: e.state,
        identity: e.identity ?? prev?.identity,
      });
    }
    for (const l of this.listeners) l(e);
  }

  /** Wait until the active run (if any) is finished. */
  async idle(): Promise<void> {
    while (this.active) await new Promise((r) => setTimeout(r, 5));
  }

  // --- the simulated run ---
  private rand(): number {
    this.seed = (this.seed * 1103515245 + 12345) & 0x7fffffff;
    return this.seed / 0x7fffffff;
  }

  private async play(
    record: RunRecord,
    plan: StepPlan[],
    params: Record<string, unknown>,
    abortedBy: () => string | null,
    setWake: (w: () => void) => void,
  ): Promise<void> {
    const runId = record.id;
    const n = this.lanes;
    const allLanes = Array.from({ length: n }, (_, i) => i + 1);
    const dead = new Set([37, 211, 388]);
    const slope = allLanes.map((l) => (dead.has(l) ? 0 : 0.006 + 0.002 * this.rand()));
    let tecT = 25.6;
    let t = 0;
    const sleep = () =>
      new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, this.tickMs);
        setWake(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    const tick = async () => {
      await sleep();
      t++;
      if (abortedBy() !== null) throw new AbortSignalled();
      if (t % 3 === 0) {
        tecT += (25 - tecT) * 0.2 + (this.rand() - 0.5) * 0.02;
        this.scalar(record, 'connect', SPEC.tec, Number(tecT.toFixed(3)), true);
      }
    };
    let current: StepPlan | undefined;
    let outcome: Outcome = 'PASS';
    let epb: number | undefined;

    this.emit({
      type: 'run.started',
      run: {
        id: runId,
        sequence: record.sequence,
        dut: record.dut,
        operator: record.operator,
        startedAt: record.startedAt,
      },
      steps: plan,
    });
    this.emit({ type: 'log', level: 'info', msg: `run ${runId} started by ${record.operator}`, runId });
    try {
      for (const step of plan) {
        current = step;
        record.steps.push({
          index: step.index,
          id: step.id,
          name: step.name,
          type: step.type,
          startedAt: new Date().toISOString(),
          measurements: [],
        });
        this.emit({ type: 'step.started', runId, step });
        switch (step.type) {
          case 'connect':
            for (const r of ROLES) {
              await tick();
              this.emit({
                type: 'instrument',
                role: r.role,
                state: 'connected',
                resource: r.resource,
                identity: `CPOBENCH,SIM-${r.role.toUpperCase()},SN${1000 + r.role.length},1.0`,
              });
            }
            break;
          case 'lane_map': {
            const power: (number | null)[] = allLanes.map((l) => (dead.has(l) ? 0.02 : 11 + 5 * this.rand()));
            for (let row = 0; row < this.rows; row++) {
              await tick();
              const lanes = allLanes.slice(row * this.cols, (row + 1) * this.cols);
              const values = lanes.map((l) => Number((power[l - 1] as number).toFixed(3)));
              this.emit({ type: 'lanes', runId, step: step.id, metric: 'rx_power', unit: 'uW', lanes, values });
              this.emit({ type: 'progress', runId, step: step.id, done: row + 1, total: this.rows });
            }
            this.emit({
              type: 'lanes',
              runId,
              step: step.id,
              metric: 'dead',
              unit: 'bool',
              lanes: allLanes,
              values: allLanes.map((l) => (dead.has(l) ? 1 : 0)),
            });
            this.lanesMeas(record, step.id, SPEC.rxPower, allLanes, power, undefined, new Set(dead));
            this.scalar(record, step.id, SPEC.lanesAlive, n - dead.size);
            this.emit({ type: 'log', level: 'warn', msg: `dead lanes: ${[...dead].join(', ')}`, runId });
            break;
          }
          case 'li_sweep': {
            for (const bias of [0.5, 1, 1.5, 2, 2.5, 3]) {
              await tick();
              const p = allLanes.map((l) => Number((slope[l - 1] * Math.max(0, bias - 0.3) * 1000).toFixed(3)));
              this.lanesMeas(record, step.id, SPEC.liPower, allLanes, p, { bias_mA: bias });
            }
            const values = slope.map((s) => Number(s.toFixed(5)));
            this.emit({
              type: 'lanes',
              runId,
              step: step.id,
              metric: 'li_slope',
              unit: 'W/A',
              lanes: allLanes,
              values,
            });
            this.lanesMeas(record, step.id, SPEC.liSlope, allLanes, values, undefined, new Set(dead));
            break;
          }
          case 'ber': {
            if (params.prompt === true) await this.prompt(record, step.id, 'Confirm the fiber bundle is mated', tick);
            let ber: (number | null)[] = [];
            for (let g = 1; g <= this.berTicks; g++) {
              await tick();
              const bits = 2e9 * 1800 * g; // each tick: 30 simulated minutes of gate
              ber = allLanes.map((l) => (dead.has(l) ? null : Number((3 / bits).toPrecision(3))));
              this.emit({
                type: 'lanes',
                runId,
                step: step.id,
                metric: 'ber_upper_95',
                unit: '',
                lanes: allLanes,
                values: ber,
              });
              this.emit({ type: 'progress', runId, step: step.id, done: g, total: this.berTicks });
            }
            this.lanesMeas(record, step.id, SPEC.ber, allLanes, ber, { rate_gbps: 2 }, new Set(dead));
            break;
          }
          case 'energy': {
            for (let i = 0; i < 5; i++) {
              await tick();
              const rail = 0.88 + 0.04 * this.rand();
              epb = Number(((rail / (n - dead.size) / 2e9) * 1e12 * 0.97).toFixed(4));
              this.scalar(record, step.id, SPEC.rail, Number(rail.toFixed(4)));
              this.scalar(record, step.id, SPEC.epb, epb);
            }
            break;
          }
        }
        const sr = record.steps[record.steps.length - 1];
        sr.verdict = worst(sr.measurements.map((m) => m.verdict));
        if (sr.measurements.length === 0) sr.verdict = 'PASS';
        sr.finishedAt = new Date().toISOString();
        if (sr.verdict === 'FAIL') outcome = 'FAIL';
        this.emit({ type: 'step.finished', runId, step: step.id, verdict: sr.verdict });
      }
    } catch (err) {
      if (!(err instanceof AbortSignalled)) throw err;
      outcome = 'ABORTED';
      const sr = record.steps[record.steps.length - 1];
      if (current && sr && !sr.finishedAt) {
        sr.verdict = 'SKIPPED';
        sr.error = `aborted by ${abortedBy()}`;
        sr.finishedAt = new Date().toISOString();
        this.emit({ type: 'step.finished', runId, step: current.id, verdict: 'SKIPPED', error: sr.error });
      }
      this.emit({
        type: 'log',
        level: 'warn',
        msg: `abort requested by ${abortedBy()}: bringing instruments to safe state`,
        runId,
      });
      const t0 = Date.now();
      for (const r of ROLES) this.emit({ type: 'instrument', role: r.role, state: 'safe', resource: r.resource });
      if (record.abort) record.abort.safeStateMs = Date.now() - t0;
    }
    record.outcome = outcome;
    record.finishedAt = new Date().toISOString();
    record.summary = {
      energyPerBitPj: epb,
      lanesActive: n - 3,
      lanesDead: 3,
      lanesRemapped: 0,
    };
    this.active = null;
    this.emit({ type: 'run.finished', runId, outcome, summary: record.summary });
    this.emit({ type: 'log', level: 'info', msg: `run ${runId} finished: ${outcome}`, runId });
  }

  private async prompt(record: RunRecord, step: string, message: string, tick: () => Promise<void>): Promise<void> {
    const p: PromptRecord = {
      id: `p${record.prompts.length + 1}`,
      step,
      kind: 'confirm',
      message,
      askedAt: new Date().toISOString(),
    };
    record.prompts.push(p);
    let answered = false;
    this.promptWaiters.set(`${record.id}/${p.id}`, (answer, by) => {
      p.answer = answer as string | number | boolean;
      p.answeredBy = by;
      p.answeredAt = new Date().toISOString();
      answered = true;
      this.promptWaiters.delete(`${record.id}/${p.id}`);
      this.emit({ type: 'prompt', runId: record.id, prompt: { ...p } });
    });
    this.emit({ type: 'prompt', runId: record.id, prompt: { ...p } });
    try {
      while (!answered) await tick();
    } finally {
      this.promptWaiters.delete(`${record.id}/${p.id}`);
    }
  }

  private scalar(record: RunRecord, step: string, spec: MeasurementSpec, value: number, ambient = false): void {
    const m: ScalarMeasurement = { kind: 'scalar', spec, value, verdict: verdictOf(value, spec) };
    if (!ambient) record.steps[record.steps.length - 1]?.measurements.push(m);
    this.emit({ type: 'measurement', runId: record.id, step, measurement: m });
  }

  private lanesMeas(
    record: RunRecord,
    step: string,
    spec: MeasurementSpec,
    lanes: number[],
    values: (number | null)[],
    at?: Record<string, number>,
    excused = new Set<number>(),
  ): void {
    const verdicts = values.map((v, i) =>
      excused.has(lanes[i]) ? 'SKIPPED' : spec.limits ? verdictOf(v, spec) : 'PASS',
    );
    const m: LaneMeasurement = {
      kind: 'lanes',
      spec,
      lanes,
      values,
      verdicts,
      verdict: worst(verdicts.filter((v) => v !== 'SKIPPED')),
      at,
    };
    record.steps[record.steps.length - 1]?.measurements.push(m);
    this.emit({ type: 'measurement', runId: record.id, step, measurement: m });
  }
}

class AbortSignalled extends Error {}
