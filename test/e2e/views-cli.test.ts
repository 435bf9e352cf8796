/**
 * What a user of the CLI reads after a run, on the real CLI and the simulated bench: the coordinates of every
 * measurement made inside a sweep (record, store, CSV, JUnit), failures first in the summary with the lanes
 * involved, each step once, and no doubled prefixes or FAILs called errors.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { cpobench, parseJson, runIdFrom, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let db: string;
let pass: { code: number | null; stdout: string; stderr: string };
let fail: { code: number | null; stdout: string; stderr: string };

beforeAll(async () => {
  dir = tmp.make();
  db = join(dir, 'runs.db');
  // the two runs on one store, one after the other, as a user makes them
  pass = await cpobench(
    [
      ...['run', 'mosaic-800g-qual', '--sim', 'mosaic-800g', '--db', db, '--dut', 'SN-V1'],
      ...['--json', join(dir, 'pass.json'), '--junit', join(dir, 'pass.xml'), '--csv', join(dir, 'csv')],
    ],
    undefined,
    { timeoutMs: 120_000 },
  );
  fail = await cpobench(
    [
      ...['run', 'lightbundle-512g-qual', '--sim', 'lightbundle-512g', '--faults', 'dead-lanes-beyond-spares'],
      ...['--db', db, '--dut', 'SN-V2', '--json', join(dir, 'fail.json')],
    ],
    undefined,
    { timeoutMs: 120_000 },
  );
}, 240_000);
afterAll(() => tmp.cleanup());

/** RFC 4180 enough for these files: quoted cells with commas or doubled quotes. */
function csvRows(text: string): string[][] {
  return text
    .trimEnd()
    .split('\n')
    .map((line) => [...line.matchAll(/("(?:[^"]|"")*"|[^,]*)(,|$)/g)].map((m) => m[1]).slice(0, -1));
}

describe('coordinates of measurements inside a sweep', () => {
  it('each run of a nested step keeps its temperature in the record and the store, nothing overwritten', async () => {
    expect(pass.code, pass.stderr).toBe(0);
    const rec = parseJson<RunRecord>(readFileSync(join(dir, 'pass.json'), 'utf8'), 'pass.json');
    const stored = await cpobench(['report', runIdFrom(pass.stderr), '--db', db, '--format', 'json']);
    const fromStore = parseJson<RunRecord>(stored.stdout, 'report json');
    for (const r of [rec, fromStore]) {
      const tli = r.steps.filter((s) => s.id === 't-li');
      expect(tli.map((s) => s.at)).toEqual([25, 45, 65, 85].map((temperature) => ({ temperature })));
      for (const s of tli) {
        expect(s.measurements.length).toBeGreaterThan(0);
        for (const m of s.measurements) expect(m.at?.temperature).toBe(s.at?.temperature);
        // the L-I curve points keep their current and temperature both
        const curve = s.measurements.filter((m) => m.spec.name === 'li_curve');
        expect(curve).toHaveLength(8);
        expect(new Set(curve.map((m) => m.at?.current)).size).toBe(8);
      }
      expect(r.steps.filter((s) => s.id === 'ber').map((s) => s.at)).toEqual([undefined]);
    }
  });

  it('JUnit names each run of a nested step with its coordinates: no two cases share a name', () => {
    const xml = readFileSync(join(dir, 'pass.xml'), 'utf8');
    const names = [...xml.matchAll(/<testcase name="([^"]*)"/g)].map((m) => m[1]);
    expect(names).toContain('L-I check @ 45 °C');
    expect(names).toContain('BER screen 1e-9 at 95 % @ 85 °C');
    expect(new Set(names).size).toBe(names.length);
  });

  it('CSV is one tidy long table: same width on every row, a column per coordinate, each row its own setpoint', () => {
    const rows = csvRows(readFileSync(join(dir, 'csv', 'measurements.csv'), 'utf8'));
    const [header, ...body] = rows;
    expect(header.slice(0, 5)).toEqual(['run', 'step_index', 'step', 'step_name', 'measurement']);
    expect(header.slice(-6)).toEqual(['lane', 'value', 'unit', 'low', 'high', 'verdict']);
    expect(header).toContain('temperature');
    expect(header).toContain('current');
    for (const r of body) expect(r.length).toBe(header.length);
    const col = (n: string) => header.indexOf(n);
    const p85 = body.filter((r) => r[col('step')] === 't-li' && r[col('measurement')] === 'p_op_dbm');
    expect(p85).toHaveLength(4 * 400);
    expect(new Set(p85.map((r) => r[col('temperature')]))).toEqual(new Set(['25', '45', '65', '85']));
    // a lane appears once per temperature, not once in total
    expect(p85.filter((r) => r[col('lane')] === '17').map((r) => r[col('temperature')])).toEqual([
      '25',
      '45',
      '65',
      '85',
    ]);
    // scalars are rows of the same table, with an empty lane
    const epb = body.find((r) => r[col('measurement')] === 'energy_per_bit')!;
    expect(epb[col('lane')]).toBe('');
    expect(epb[col('unit')]).toBe('pJ/bit');
    expect(Number(epb[col('value')])).toBeGreaterThan(0);
  });
});

describe('the end-of-run summary', () => {
  it('lists each step once, a nested one with the setpoints it ran at', () => {
    const summary = pass.stdout;
    expect(summary.match(/^ {2}PASS +L-I check\b.*$/gm)).toEqual(['  PASS     L-I check @ 25 °C, 45 °C, 65 °C, 85 °C']);
    expect(summary.match(/L-I-V sweep, all lanes/g)).toHaveLength(1);
    expect(summary).not.toMatch(/failures first/);
  });

  it('a failing run starts with its failures: step, measurement, value, limit, lanes with row/col and state', () => {
    expect(fail.code, fail.stderr).toBe(1);
    const out = fail.stdout;
    const firstStep = out.indexOf('  PASS     Inventory');
    const head = out.indexOf('failures first: 5 failing, 0 marginal'); // open/short, lane map, crosstalk, remap ×2
    expect(head).toBeGreaterThanOrEqual(0);
    expect(head).toBeLessThan(firstStep);
    const lines = out.slice(head, firstStep).split('\n');
    expect(lines).toContainEqual('  FAIL Spare-lane remap and re-test: unrepaired_lanes = 18, limit ≤ 0');
    const dead = lines.find((l) =>
      l.startsWith('  FAIL Lane map (walking-one), all 320 lanes including spares: lane_map_ok'),
    );
    expect(dead).toContain('on 81 of 320 lanes (limit ≥ 1)');
    expect(dead).toContain('lane 1 (row 1, col 1; dead; remapped to spare 5) = 0');
    expect(dead).toContain('… 73 more');
    const unrepaired = lines.find((l) => l.includes(': unrepaired on'))!;
    expect(unrepaired).toContain('lane 237 (row 12, col 17; logical #189; dead) = 1');
  });

  it('a lane the remap could not repair is a FAIL, said once, not an error with a doubled prefix', () => {
    expect(fail.stderr).not.toContain('remap: remap:');
    expect(fail.stderr).not.toMatch(/error: .*could not be repaired/);
    expect(fail.stderr).toMatch(/warn: remap: 18 lane\(s\) could not be repaired/);
  });
});

describe('cpobench report --format pdf', () => {
  it('prints the HTML report through headless Chromium: a PDF of several pages titled with the run', async () => {
    const out = join(dir, 'fail.pdf');
    const id = runIdFrom(fail.stderr);
    const r = await cpobench(['report', id, '--db', db, '--format', 'pdf', '--out', out], undefined, {
      timeoutMs: 120_000,
    });
    expect(r.code, r.stderr).toBe(0);
    const pdf = readFileSync(out);
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const text = pdf.toString('latin1');
    expect(text).toContain('/Title (cpobench lightbundle-512g-qual SN-V2 FAIL)');
    expect(text.match(/\/Type \/Page\b/g)!.length).toBeGreaterThanOrEqual(2);
    // without --out a PDF is refused, not written to the terminal
    const bare = await cpobench(['report', id, '--db', db, '--format', 'pdf']);
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('--format pdf needs --out FILE');
  }, 150_000);

  it('--format parquet is the tidy table, typed, read back by another Parquet implementation', async () => {
    const out = join(dir, 'pass.parquet');
    const id = runIdFrom(pass.stderr);
    const r = await cpobench(['report', id, '--db', db, '--format', 'parquet', '--out', out]);
    expect(r.code, r.stderr).toBe(0);
    const csv = csvRows(readFileSync(join(dir, 'csv', 'measurements.csv'), 'utf8'));
    // @dsnp/parquetjs: a separate implementation of the format, not the writer's companion reader
    const { ParquetReader } = await import('@dsnp/parquetjs');
    const reader = await ParquetReader.openFile(out);
    const fields = Object.keys(reader.getSchema().fields);
    expect(fields).toEqual(csv[0]);
    expect(Number(reader.getRowCount())).toBe(csv.length - 1);
    const cursor = reader.getCursor();
    const rows: Record<string, unknown>[] = [];
    for (let row = await cursor.next(); row; row = await cursor.next()) rows.push(row as Record<string, unknown>);
    await reader.close();
    const p85 = rows.filter((x) => x.step === 't-li' && x.measurement === 'p_op_dbm' && x.temperature === 85);
    expect(p85).toHaveLength(400);
    expect(typeof p85[0]!.value).toBe('number');
    expect(p85[0]!.lane).toBe(1);
    // the same values as the CSV, row for row
    const col = (n: string) => csv[0]!.indexOf(n);
    const i = csv.findIndex(
      (x) => x[col('step')] === 't-li' && x[col('measurement')] === 'p_op_dbm' && x[col('temperature')] === '85',
    );
    expect(Number(csv[i]![col('value')])).toBe(p85[0]!.value);
    const epb = rows.find((x) => x.measurement === 'energy_per_bit')!;
    expect(epb.lane).toBeNull(); // a scalar has no lane: null in the file
    expect(epb.unit).toBe('pJ/bit');
  }, 150_000);
});

describe('a sequence written for another array', () => {
  it('is refused on this station, naming the lane counts (exit 2, nothing run)', async () => {
    const r = await cpobench(['run', 'lightbundle-512g-qual', '--sim', 'mosaic-800g', '--db', join(dir, 'other.db')]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      "lightbundle-512g-qual.yaml:5:8 lanes: a sequence for this station's 400 lanes (it is written for 320)",
    );
  });

  it('a run without --dut says it is stored as UNSPECIFIED', async () => {
    const r = await cpobench(['run', 'smoke', '--sim', 'mosaic-800g', '--db', join(dir, 'other.db')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain(
      'warning: no --dut: the run is stored with DUT UNSPECIFIED; give the serial with --dut SN',
    );
  });
});

describe('the passing report is short', () => {
  it('a passing mosaic-800g-qual reads in under 8,000 px at 1280 wide: a page to sign, then each step condensed', async () => {
    const { launchChromium } = await import('../helpers/browser.ts');
    const passHtml = join(dir, 'pass.html');
    const failHtml = join(dir, 'fail.html');
    for (const [run, out] of [
      [pass, passHtml],
      [fail, failHtml],
    ] as const) {
      const r = await cpobench(['report', runIdFrom(run.stderr), '--db', db, '--format', 'html', '--out', out]);
      expect(r.code, r.stderr).toBe(0);
    }
    const chromium = await launchChromium('cpobench-report-height-');
    try {
      const page = await chromium.browser.newPage();
      await page.setViewportSize({ width: 1280, height: 800 });
      await page.goto(`file://${passHtml}`);
      const height = await page.evaluate(() => document.documentElement.scrollHeight);
      // a product requirement of the report a technician signs (it was 35,000-45,000 px)
      expect(height).toBeLessThan(8000);
      // the first page: the verdict, failures first, the summary and the sign-off, all above the steps
      const top = async (sel: string) =>
        page
          .locator(sel)
          .first()
          .evaluate((el) => el.getBoundingClientRect().top);
      expect(await top('#sign-off')).toBeLessThan(await top('section.step'));
      await expect(page.locator('h1').textContent()).resolves.toContain('PASS');
      // per-lane tables condensed: distributions with their worst lanes, curve points folded into one row
      const text = (await page.locator('body').textContent()) ?? '';
      expect(text).toMatch(/p_op_dbm400 lanes: min -?[\d.]+ \/ median -?[\d.]+ \/ max -?[\d.]+; worst: lane \d+ = /);
      expect(text).toMatch(/li_curve8 points over current 1e-5 … [\d.e-]+: /);
      expect(text).toMatch(/waterfall_ber\d+ points of 400 lanes over drive_db /);
      // per-lane figures collapsed, one click away; every heatmap hidden until opened
      const details = page.locator('details.perlane');
      expect(await details.count()).toBeGreaterThanOrEqual(10);
      expect(await page.locator('details.perlane[open]').count()).toBe(0);
      const heat = page.locator('section#step-5 svg.heatmap').first();
      await expect(heat.isVisible()).resolves.toBe(false);
      await page.locator('section#step-5 details.perlane summary').click();
      await expect(heat.isVisible()).resolves.toBe(true);
      // a run that did not pass shows everything open
      await page.goto(`file://${failHtml}`);
      expect(await page.locator('details.perlane').count()).toBe(0);
      expect(await page.locator('svg.heatmap').first().isVisible()).toBe(true);
    } finally {
      await chromium.close();
    }
  }, 120_000);
});
