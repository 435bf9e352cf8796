/**
 * Store benchmark: insert 1M lane values (2,500 frames of 400 lanes) and export the run to CSV.
 * Targets: insert ≥ 500k values/s; CSV export < 3 s. Prints a human table, then (LAST line) one JSON object.
 *
 *   npm run bench:store
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { LaneMeasurement, Verdict } from '../../src/core/record.ts';
import { writeCsvDir } from '../../src/report/csv.ts';
import { renderHtml } from '../../src/report/html.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';

const LANES = 400;
const FRAMES = 2500;
const BATCH = 50; // frames per transaction, as a sweep step would commit them
const VALUES = LANES * FRAMES;

function frame(k: number): LaneMeasurement {
  const lanes = Array.from({ length: LANES }, (_, i) => i + 1);
  const values = lanes.map((l) => 1e-5 * (1 + 0.1 * Math.sin(l * 0.37 + k * 0.01)) * (1 + (k % 20) * 0.05));
  const verdicts: Verdict[] = values.map((v) => (v < 9.2e-6 ? 'MARGINAL' : 'PASS'));
  return {
    kind: 'lanes',
    spec: { name: 'rx_power', unit: 'W', dimensions: ['lane'], limits: { low: 5e-6, marginal: 5e-6 } },
    lanes,
    values,
    verdicts,
    verdict: verdicts.includes('MARGINAL') ? 'MARGINAL' : 'PASS',
    at: { point: k % 20, temperature: 25 + Math.floor(k / 20) },
  };
}

function newRun(store: SqliteStore, dut: string): string {
  const id = store.createRun({
    sequence: { name: 'bench-store', hash: 'bench' },
    station: { name: 'bench', snapshot: { lanes: { rows: 20, cols: 20 } } },
    dut,
    operator: 'bench',
    software: { version: '0.1.0' },
  });
  store.appendStep(id, { index: 0, id: 'sweep', name: 'sweep', type: 'sweep', startedAt: new Date().toISOString() });
  return id;
}

const dir = mkdtempSync(join(tmpdir(), 'cpobench-bench-store-'));
try {
  const frames = Array.from({ length: FRAMES }, (_, k) => frame(k));

  // 1. Batched: BATCH frames per transaction (the orchestrator's write path for sweeps).
  const store = openSqliteStore(join(dir, 'bench.db'));
  const id = newRun(store, 'SN-BENCH');
  let t0 = performance.now();
  for (let k = 0; k < FRAMES; k += BATCH) {
    store.batch(() => {
      for (let j = k; j < Math.min(FRAMES, k + BATCH); j++) store.addMeasurement(id, 'sweep', frames[j]);
    });
  }
  const insertS = (performance.now() - t0) / 1000;
  store.finishRun(id, { outcome: 'PASS' });

  // 2. Unbatched: one commit per frame (still 2,500 commits, not 1M).
  const store2 = openSqliteStore(join(dir, 'bench-unbatched.db'));
  const id2 = newRun(store2, 'SN-BENCH-2');
  t0 = performance.now();
  for (const f of frames) store2.addMeasurement(id2, 'sweep', f);
  const insertUnbatchedS = (performance.now() - t0) / 1000;
  store2.finishRun(id2, { outcome: 'PASS' });
  store2.close();

  // 3. Read back the full record.
  t0 = performance.now();
  const rec = store.getRun(id);
  const readS = (performance.now() - t0) / 1000;
  const readValues = rec.steps[0].measurements.reduce((n, m) => n + (m.kind === 'lanes' ? m.values.length : 1), 0);
  if (readValues !== VALUES) throw new Error(`read back ${readValues} values, expected ${VALUES}`);

  // 4. Export to CSV (read from the store + write the files).
  t0 = performance.now();
  const paths = writeCsvDir(store.getRun(id), join(dir, 'csv'));
  const csvS = (performance.now() - t0) / 1000;

  // 5. HTML report of the same run (tables capped, heatmap of the last frame).
  t0 = performance.now();
  const html = renderHtml(store.getRun(id));
  const htmlS = (performance.now() - t0) / 1000;

  const bytes = store.sizeOnDisk(true);
  store.close();

  const figures = {
    bench: 'store',
    lanes: LANES,
    frames: FRAMES,
    values: VALUES,
    batchFrames: BATCH,
    insertSeconds: Number(insertS.toFixed(4)),
    insertValuesPerSecond: Math.round(VALUES / insertS),
    insertUnbatchedSeconds: Number(insertUnbatchedS.toFixed(4)),
    insertUnbatchedValuesPerSecond: Math.round(VALUES / insertUnbatchedS),
    readSeconds: Number(readS.toFixed(4)),
    csvExportSeconds: Number(csvS.toFixed(4)),
    csvFiles: paths.length,
    htmlExportSeconds: Number(htmlS.toFixed(4)),
    htmlBytes: html.length,
    dbBytes: bytes,
    dbBytesPerMillionValues: Math.round((bytes / VALUES) * 1e6),
    targets: { insertValuesPerSecond: 500_000, csvExportSeconds: 3 },
    pass: VALUES / insertS >= 500_000 && csvS < 3,
  };

  const rows: [string, string, string][] = [
    [
      'insert 1M values, batched',
      `${insertS.toFixed(3)} s`,
      `${figures.insertValuesPerSecond.toLocaleString('en')} values/s (target ≥ 500,000)`,
    ],
    [
      'insert 1M values, 1 commit/frame',
      `${insertUnbatchedS.toFixed(3)} s`,
      `${figures.insertUnbatchedValuesPerSecond.toLocaleString('en')} values/s`,
    ],
    ['read full record', `${readS.toFixed(3)} s`, `${readValues.toLocaleString('en')} values`],
    ['export run to CSV', `${csvS.toFixed(3)} s`, `target < 3 s; ${paths.length} file(s)`],
    ['HTML report', `${htmlS.toFixed(3)} s`, `${(html.length / 1024).toFixed(0)} KiB`],
    [
      'database size',
      `${(bytes / 1e6).toFixed(2)} MB`,
      `${(figures.dbBytesPerMillionValues / 1e6).toFixed(2)} MB per million values`,
    ],
  ];
  const w0 = Math.max(...rows.map((r) => r[0].length));
  const w1 = Math.max(...rows.map((r) => r[1].length));
  console.log(`cpobench store benchmark: ${FRAMES} frames × ${LANES} lanes = ${VALUES.toLocaleString('en')} values`);
  for (const [a, b, c] of rows) console.log(`  ${a.padEnd(w0)}  ${b.padStart(w1)}  ${c}`);
  console.log(`  ${figures.pass ? 'PASS' : 'BELOW TARGET'}`);
  console.log(JSON.stringify(figures));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
