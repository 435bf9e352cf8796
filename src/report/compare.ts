/**
 * Two run records of the same sequence side by side (e.g. one qualification on a PD-receiver bench and on a
 * CMOS-sensor one): per step, each measurement reduced to one figure (a lane measurement to its median, the
 * worst lane alongside; a scalar as is; measurements taken at sweep coordinates are left to the full records),
 * with the difference. Pure: the caller runs or loads the records.
 */
import type { Measurement, RunRecord } from '../core/record.ts';

export interface ComparedFigure {
  step: string;
  name: string;
  unit: string;
  a: number | null;
  b: number | null;
  /** Worst lane (min and max) for lane measurements. */
  aRange?: [number, number];
  bRange?: [number, number];
  verdictA?: string;
  verdictB?: string;
}

function reduce(m: Measurement): { value: number | null; range?: [number, number]; verdict: string } {
  if (m.kind === 'scalar') return { value: m.value, verdict: m.verdict };
  const v = m.values.filter((x): x is number => x !== null && Number.isFinite(x)).sort((x, y) => x - y);
  if (v.length === 0) return { value: null, verdict: m.verdict };
  return { value: v[v.length >> 1]!, range: [v[0]!, v[v.length - 1]!], verdict: m.verdict };
}

function figures(rec: RunRecord): Map<string, { step: string; name: string; unit: string; m: Measurement }> {
  const out = new Map<string, { step: string; name: string; unit: string; m: Measurement }>();
  for (const s of rec.steps)
    for (const m of s.measurements) {
      if (m.at !== undefined) continue;
      out.set(`${s.id}/${m.spec.name}`, { step: s.id, name: m.spec.name, unit: m.spec.unit, m });
    }
  return out;
}

/** The measurements both records hold (in the first record's order), then those only one holds. */
export function compareRecords(a: RunRecord, b: RunRecord): ComparedFigure[] {
  const fa = figures(a);
  const fb = figures(b);
  const keys = [...fa.keys(), ...[...fb.keys()].filter((k) => !fa.has(k))];
  return keys.map((k) => {
    const x = fa.get(k);
    const y = fb.get(k);
    const base = (x ?? y)!;
    const ra = x ? reduce(x.m) : undefined;
    const rb = y ? reduce(y.m) : undefined;
    return {
      step: base.step,
      name: base.name,
      unit: base.unit,
      a: ra?.value ?? null,
      b: rb?.value ?? null,
      ...(ra?.range ? { aRange: ra.range } : {}),
      ...(rb?.range ? { bRange: rb.range } : {}),
      ...(ra ? { verdictA: ra.verdict } : {}),
      ...(rb ? { verdictB: rb.verdict } : {}),
    };
  });
}

const num = (x: number | null): string =>
  x === null
    ? '-'
    : x !== 0 && (Math.abs(x) < 1e-3 || Math.abs(x) >= 1e5)
      ? x.toExponential(2)
      : Number(x.toPrecision(4)).toString();

/** Aligned text: step/measurement, A (median [min..max]), B, B − A. */
export function formatComparison(rows: readonly ComparedFigure[], labelA: string, labelB: string): string[] {
  const cell = (v: number | null, r?: [number, number], verdict?: string) =>
    `${num(v)}${r && r[0] !== r[1] ? ` [${num(r[0])}..${num(r[1])}]` : ''}${verdict && verdict !== 'PASS' ? ` ${verdict}` : ''}`;
  const lines = rows.map((r) => [
    `${r.step}/${r.name}${r.unit ? ` (${r.unit})` : ''}`,
    cell(r.a, r.aRange, r.verdictA),
    cell(r.b, r.bRange, r.verdictB),
    r.a !== null && r.b !== null ? num(r.b - r.a) : '-',
  ]);
  const head = ['measurement (median [worst..best lane])', labelA, labelB, `${labelB} − ${labelA}`];
  const w = head.map((h, i) => Math.max(h.length, ...lines.map((l) => l[i]!.length)));
  return [head, ...lines].map((l) =>
    l
      .map((c, i) => c.padEnd(w[i]!))
      .join('  ')
      .trimEnd(),
  );
}
