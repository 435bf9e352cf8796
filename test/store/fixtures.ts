/** Shared fixtures for the store and report tests: a complete run record and helpers to write it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaneMeasurement, Measurement, RunRecord, Verdict } from '../../src/core/record.ts';
import type { RunStore } from '../../src/store/types.ts';

export function tempDir(prefix = 'cpobench-store-'): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function laneFrame(
  name: string,
  n: number,
  f: (lane: number) => number | null,
  opts: { unit?: string; high?: number; low?: number; at?: Record<string, number>; first?: number } = {},
): LaneMeasurement {
  const first = opts.first ?? 1;
  const lanes = Array.from({ length: n }, (_, i) => first + i);
  const values = lanes.map(f);
  const verdicts: Verdict[] = values.map((v) =>
    v === null
      ? 'ERROR'
      : (opts.high !== undefined && v > opts.high) || (opts.low !== undefined && v < opts.low)
        ? 'FAIL'
        : 'PASS',
  );
  const limits = opts.high !== undefined || opts.low !== undefined ? { low: opts.low, high: opts.high } : undefined;
  const m: LaneMeasurement = {
    kind: 'lanes',
    spec: {
      name,
      unit: opts.unit ?? 'W',
      dimensions: ['lane'],
      ...(limits ? { limits: JSON.parse(JSON.stringify(limits)) } : {}),
    },
    lanes,
    values,
    verdicts,
    verdict: verdicts.includes('FAIL') ? 'FAIL' : verdicts.includes('ERROR') ? 'ERROR' : 'PASS',
  };
  if (opts.at) m.at = opts.at;
  return m;
}

/** A complete record as the orchestrator would produce it (id and outcome filled by the caller/store). */
export function sampleRecord(over: Partial<RunRecord> = {}): RunRecord {
  const scalar = (name: string, value: number | null, verdict: Verdict, at?: Record<string, number>): Measurement => ({
    kind: 'scalar',
    spec: { name, unit: 'A', dimensions: at ? ['point'] : [], limits: { low: 0, high: 0.01, marginal: 0.001 } },
    value,
    verdict,
    ...(at ? { at } : {}),
  });
  const ber = laneFrame('ber_upper', 400, (l) => (l === 17 ? 1e-9 : l === 5 ? null : 1e-15 * l), {
    unit: '',
    high: 1e-12,
  });
  const mixed: LaneMeasurement = {
    kind: 'lanes',
    spec: { name: 'rx_power', unit: 'W', description: 'received power', dimensions: ['lane'], limits: { low: 1e-6 } },
    lanes: [3, 1, 2, 70000],
    values: [1.5e-5, null, -0.25, Number.MAX_VALUE],
    verdicts: ['PASS', 'ERROR', 'FAIL', 'MARGINAL'],
    verdict: 'FAIL',
    at: { temperature: 25 },
  };
  return {
    schema: 1,
    id: 'placeholder',
    sequence: { name: 'mosaic-qual', version: '1.2.0', hash: 'sha256:abc123', file: 'sequences/mosaic.yaml' },
    station: {
      name: 'bench-3',
      snapshot: { lanes: { rows: 20, cols: 20 }, instruments: { tec: 'TCPIP0::x::5025::SOCKET' } },
    },
    dut: 'SN-0001',
    operator: 'alice',
    software: { version: '0.1.0', revision: 'deadbeef' },
    startedAt: '2025-03-01T10:00:00.000Z',
    finishedAt: '2025-03-01T10:05:00.000Z',
    outcome: 'FAIL',
    summary: { energyPerBitPj: 1.8, lanesActive: 398, lanesDead: 2, worstBerUpperBound: 1e-9, worstLane: 17 },
    instruments: [
      {
        role: 'led-driver',
        resource: 'TCPIP0::127.0.0.1::5025::SOCKET',
        driver: 'sim-led',
        identity: { manufacturer: 'CPO', model: 'LD400', serial: 'X1', firmware: '2.3', raw: 'CPO,LD400,X1,2.3' },
      },
      { role: 'tec', resource: 'ASRL/dev/ttyUSB0::INSTR', driver: 'tec' },
    ],
    steps: [
      {
        index: 0,
        id: 'li',
        name: 'L-I sweep',
        type: 'li_sweep',
        startedAt: '2025-03-01T10:00:01.000Z',
        finishedAt: '2025-03-01T10:01:00.000Z',
        verdict: 'PASS',
        attempts: 1,
        measurements: [
          scalar('li_threshold', 0.002, 'PASS'),
          scalar('li_power', 1e-6, 'PASS', { current: 0.001 }),
          scalar('li_power', 3e-6, 'PASS', { current: 0.002 }),
          scalar('li_power', null, 'ERROR', { current: 0.003 }),
          laneFrame('li_lane_power', 400, (l) => l * 1e-7, { at: { current: 0.001 } }),
          laneFrame('li_lane_power', 400, (l) => l * 2e-7, { at: { current: 0.002 } }),
        ],
      },
      {
        index: 1,
        id: 'ber',
        name: 'BER gate',
        type: 'ber',
        startedAt: '2025-03-01T10:01:00.000Z',
        finishedAt: '2025-03-01T10:04:00.000Z',
        verdict: 'FAIL',
        measurements: [ber, mixed],
      },
      {
        index: 2,
        id: 'energy',
        name: 'Energy per bit',
        type: 'energy',
        startedAt: '2025-03-01T10:04:00.000Z',
        finishedAt: '2025-03-01T10:04:30.000Z',
        verdict: 'ERROR',
        error: 'power analyzer timeout <rail 3>',
        measurements: [],
      },
      {
        index: 3,
        id: 'cosmetic',
        name: 'Visual check',
        type: 'prompt',
        startedAt: '2025-03-01T10:04:30.000Z',
        finishedAt: '2025-03-01T10:04:31.000Z',
        verdict: 'SKIPPED',
        measurements: [],
      },
    ],
    laneMap: {
      logicalToPhysical: Array.from({ length: 398 }, (_, i) => (i < 16 ? i + 1 : i + 3)),
      dead: [17, 18],
      swapped: [[20, 21]],
      remapped: [{ logical: 16, from: 17, to: 399 }],
      sparesLeft: [400],
    },
    holds: [
      {
        step: 'li',
        watched: 'tec.temperature',
        startedAt: '2025-03-01T10:00:01.000Z',
        endedAt: '2025-03-01T10:00:11.000Z',
        value: 25.02,
        band: [24.9, 25.1],
      },
    ],
    prompts: [
      {
        id: 'p1',
        step: 'cosmetic',
        kind: 'passfail',
        message: 'Fibre seated?',
        askedAt: '2025-03-01T10:04:30.000Z',
        answeredAt: '2025-03-01T10:04:31.000Z',
        answer: true,
        answeredBy: 'alice',
      },
    ],
    abort: { requestedAt: '2025-03-01T10:04:59.000Z', by: 'bob', safeStateMs: 120 },
    error: 'step energy: power analyzer timeout',
    ...over,
  };
}

/** Writes a finished record through the store API, the way the orchestrator does; returns the run id. */
export function writeRecord(store: RunStore, r: RunRecord): string {
  const id = store.createRun({
    sequence: r.sequence,
    station: r.station,
    dut: r.dut,
    lot: r.lot,
    wafer: r.wafer,
    die: r.die,
    operator: r.operator,
    software: r.software,
    startedAt: r.startedAt,
    instruments: r.instruments,
  });
  for (const s of r.steps) {
    store.appendStep(id, { index: s.index, id: s.id, name: s.name, type: s.type, startedAt: s.startedAt });
    store.batch(() => {
      for (const m of s.measurements) store.addMeasurement(id, s.id, m);
    });
    if (s.verdict) {
      store.finishStep(id, s.id, {
        finishedAt: s.finishedAt,
        verdict: s.verdict,
        error: s.error,
        attempts: s.attempts,
      });
    }
  }
  if (r.laneMap) store.setLaneMap(id, r.laneMap);
  for (const h of r.holds) store.addHold(id, h);
  for (const p of r.prompts) {
    const { answer, answeredAt, answeredBy, ...asked } = p;
    store.addPrompt(id, asked);
    if (answer !== undefined) store.answerPrompt(id, p.id, { answer, answeredAt, answeredBy });
  }
  if (r.abort) store.recordAbort(id, r.abort);
  if (r.outcome !== 'RUNNING') {
    store.finishRun(id, { outcome: r.outcome, finishedAt: r.finishedAt, summary: r.summary, error: r.error });
  }
  return id;
}

/** What getRun should give back for a record written with writeRecord (NaN/Infinity are not kept as such). */
export function expectedAfterStore(r: RunRecord, id: string): RunRecord {
  return { ...JSON.parse(JSON.stringify(r)), id, schema: 1 };
}
