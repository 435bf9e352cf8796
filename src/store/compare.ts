/** Comparison of two stored runs (typically of the same DUT): step verdicts and measurement deltas. */
import type { LaneMeasurement, Measurement, RunRecord } from '../core/record.ts';
import type { MeasurementDiff, RunComparison, RunListItem } from './types.ts';

export function toListItem(r: RunRecord): RunListItem {
  const item: RunListItem = {
    id: r.id,
    sequence: r.sequence.name,
    sequenceHash: r.sequence.hash,
    station: r.station.name,
    dut: r.dut,
    operator: r.operator,
    startedAt: r.startedAt,
    outcome: r.outcome,
  };
  if (r.sequence.version !== undefined) item.sequenceVersion = r.sequence.version;
  if (r.finishedAt !== undefined) item.finishedAt = r.finishedAt;
  if (r.error !== undefined) item.error = r.error;
  return item;
}

function atKey(at: Record<string, number> | undefined): string {
  if (!at) return '';
  return Object.keys(at)
    .sort()
    .map((k) => `${k}=${at[k]}`)
    .join(',');
}

function laneMean(m: LaneMeasurement): number | null {
  let s = 0;
  let n = 0;
  for (const v of m.values) {
    if (v !== null && Number.isFinite(v)) {
      s += v;
      n++;
    }
  }
  return n ? s / n : null;
}

function central(m: Measurement): number | null {
  return m.kind === 'scalar' ? m.value : laneMean(m);
}

/** Keyed by step id, measurement name, coordinates and occurrence (the n-th such measurement). */
function index(r: RunRecord): Map<string, { step: string; m: Measurement }> {
  const out = new Map<string, { step: string; m: Measurement }>();
  const seen = new Map<string, number>();
  for (const step of r.steps) {
    for (const m of step.measurements) {
      const base = `${step.id}\u0000${m.spec.name}\u0000${atKey(m.at)}`;
      const n = seen.get(base) ?? 0;
      seen.set(base, n + 1);
      out.set(`${base}\u0000${n}`, { step: step.id, m });
    }
  }
  return out;
}

function laneDiff(a: LaneMeasurement, b: LaneMeasurement): NonNullable<MeasurementDiff['lanes']> {
  const va = new Map<number, { v: number | null; f: boolean }>();
  a.lanes.forEach((l, i) => {
    va.set(l, { v: a.values[i], f: a.verdicts[i] === 'FAIL' });
  });
  const newFailures: number[] = [];
  const fixed: number[] = [];
  let maxAbsDelta: number | null = null;
  let maxAbsDeltaLane: number | undefined;
  const inB = new Set<number>();
  b.lanes.forEach((l, i) => {
    inB.add(l);
    const fb = b.verdicts[i] === 'FAIL';
    const ea = va.get(l);
    const fa = ea?.f ?? false;
    if (fb && !fa) newFailures.push(l);
    if (!fb && fa) fixed.push(l);
    const vb = b.values[i];
    if (ea && ea.v !== null && vb !== null) {
      const d = Math.abs(vb - ea.v);
      if (maxAbsDelta === null || d > maxAbsDelta) {
        maxAbsDelta = d;
        maxAbsDeltaLane = l;
      }
    }
  });
  for (const [l, e] of va) if (e.f && !inB.has(l)) fixed.push(l);
  const out: NonNullable<MeasurementDiff['lanes']> = { newFailures, fixed, maxAbsDelta };
  if (maxAbsDeltaLane !== undefined) out.maxAbsDeltaLane = maxAbsDeltaLane;
  return out;
}

export function compareRecords(a: RunRecord, b: RunRecord): RunComparison {
  const ia = index(a);
  const ib = index(b);
  const measurements: MeasurementDiff[] = [];
  let verdictChanges = 0;
  const keys = [...ia.keys(), ...[...ib.keys()].filter((k) => !ia.has(k))];
  for (const k of keys) {
    const ea = ia.get(k);
    const eb = ib.get(k);
    const any = (ea ?? eb)!;
    const d: MeasurementDiff = { step: any.step, name: any.m.spec.name, unit: any.m.spec.unit, kind: any.m.kind };
    if (any.m.at) d.at = any.m.at;
    if (ea) {
      d.verdictA = ea.m.verdict;
      d.a = central(ea.m);
    }
    if (eb) {
      d.verdictB = eb.m.verdict;
      d.b = central(eb.m);
    }
    if (!ea) d.only = 'b';
    else if (!eb) d.only = 'a';
    else {
      d.delta = d.a !== null && d.b !== null && d.a !== undefined && d.b !== undefined ? d.b - d.a : null;
      if (ea.m.kind === 'lanes' && eb.m.kind === 'lanes') d.lanes = laneDiff(ea.m, eb.m);
    }
    if (d.verdictA !== d.verdictB) verdictChanges++;
    measurements.push(d);
  }
  const stepIds = [...new Set([...a.steps.map((s) => s.id), ...b.steps.map((s) => s.id)])];
  const steps = stepIds.map((id) => {
    const sa = a.steps.filter((s) => s.id === id).at(-1);
    const sb = b.steps.filter((s) => s.id === id).at(-1);
    return { id, name: (sa ?? sb)!.name, verdictA: sa?.verdict, verdictB: sb?.verdict };
  });
  return {
    a: toListItem(a),
    b: toListItem(b),
    sameDut: a.dut === b.dut,
    sameSequence: a.sequence.name === b.sequence.name,
    steps,
    measurements,
    verdictChanges,
  };
}
