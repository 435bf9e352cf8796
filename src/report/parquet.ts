/**
 * Parquet export of the tidy long table (the same rows and columns as `measurements.csv`, see csv.ts), for
 * pandas (`pd.read_parquet`) and DuckDB (`SELECT * FROM 'run.parquet'`): typed columns (strings, INT32 step index
 * and lane, DOUBLE values, limits and coordinates), a missing value a null. Written with hyparquet-writer (pure
 * JavaScript, no native code, ES module, runs on Node 20; see the README for the choice).
 */
import { parquetWriteBuffer } from 'hyparquet-writer';
import type { RunRecord } from '../core/record.ts';
import { runCoordinates, tidyRows } from './csv.ts';

export function renderParquet(record: RunRecord): Buffer {
  const coords = runCoordinates(record);
  const rows = [...tidyRows(record)];
  const str = (name: string, f: (r: (typeof rows)[number]) => string) => ({
    name,
    data: rows.map(f),
    type: 'STRING' as const,
  });
  const dbl = (name: string, f: (r: (typeof rows)[number]) => number | null) => ({
    name,
    data: rows.map((r) => {
      const v = f(r);
      return v === null || v === undefined || !Number.isFinite(v) ? null : v;
    }),
    type: 'DOUBLE' as const,
    nullable: true,
  });
  const int = (name: string, f: (r: (typeof rows)[number]) => number | null) => ({
    name,
    data: rows.map(f),
    type: 'INT32' as const,
    nullable: true,
  });
  const columnData = [
    str('run', (r) => r.run),
    int('step_index', (r) => r.stepIndex),
    str('step', (r) => r.step),
    str('step_name', (r) => r.stepName),
    str('measurement', (r) => r.measurement),
    ...coords.map((k) => dbl(k, (r) => r.at?.[k] ?? null)),
    int('lane', (r) => r.lane),
    dbl('value', (r) => r.value),
    str('unit', (r) => r.unit),
    dbl('low', (r) => r.low),
    dbl('high', (r) => r.high),
    str('verdict', (r) => r.verdict),
  ];
  return Buffer.from(parquetWriteBuffer({ columnData }));
}
