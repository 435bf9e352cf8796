import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { RECORD_SCHEMA_VERSION, type RunRecord } from '../../src/core/record.ts';
import { csvTables, renderCsv, runCoordinates, tidyRows, writeCsvDir } from '../../src/report/csv.ts';
import { renderHtml } from '../../src/report/html.ts';
import { renderReport } from '../../src/report/index.ts';
import { renderJson } from '../../src/report/json.ts';
import { renderJunit } from '../../src/report/junit.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';
import { laneFrame, sampleRecord, tempDir, writeRecord } from '../store/fixtures.ts';

let tmp: ReturnType<typeof tempDir>;
let store: SqliteStore;
let rec: RunRecord;

beforeEach(() => {
  tmp = tempDir('cpobench-report-');
  store = openSqliteStore(join(tmp.dir, 'r.db'));
  rec = store.getRun(writeRecord(store, sampleRecord()));
});
afterEach(() => {
  store.close();
  tmp.cleanup();
});

/** Minimal RFC 4180 parser: enough to check quoting and row counts. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let q = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') {
        cell += '"';
        i++;
      } else if (c === '"') q = false;
      else cell += c;
    } else if (c === '"') q = true;
    else if (c === ',') {
      row.push(cell);
      cell = '';
    } else if (c === '\n') {
      row.push(cell);
      rows.push(row);
      row = [];
      cell = '';
    } else cell += c;
  }
  if (cell || row.length) {
    row.push(cell);
    rows.push(row);
  }
  return rows;
}

describe('JSON report', () => {
  it('is the stored record, tagged with the schema version, parseable', () => {
    const parsed = JSON.parse(renderJson(rec));
    expect(parsed.schema).toBe(RECORD_SCHEMA_VERSION);
    expect(parsed).toEqual(JSON.parse(JSON.stringify(rec)));
    expect(parsed.steps[1].measurements[0].values[4]).toBeNull();
  });

  it('can carry the transcript', () => {
    store.appendTranscript(rec.id, { t: 1, instrument: 'tec', dir: 'tx', text: 'MEAS:TEMP?' });
    const parsed = JSON.parse(renderJson(rec, { transcript: store.getTranscript(rec.id), indent: 0 }));
    expect(parsed.transcript.entries).toEqual([{ t: 1, instrument: 'tec', dir: 'tx', text: 'MEAS:TEMP?' }]);
  });
});

describe('CSV report', () => {
  it('writes one table per lane-dimensioned measurement plus the scalars', () => {
    const tables = csvTables(rec);
    expect([...tables.keys()]).toEqual([
      '00_li_li_lane_power.csv',
      '01_ber_ber_upper.csv',
      '01_ber_rx_power.csv',
      'scalars.csv',
    ]);
    const li = parseCsv(tables.get('00_li_li_lane_power.csv')!);
    expect(li[0]).toEqual(['lane', 'value', 'verdict', 'current']);
    expect(li).toHaveLength(1 + 2 * 400); // two frames at two currents
    expect(li[1]).toEqual(['1', String(1e-7), 'PASS', '0.001']);
    expect(li[401]).toEqual(['1', String(2e-7), 'PASS', '0.002']);
    const ber = parseCsv(tables.get('01_ber_ber_upper.csv')!);
    expect(ber[0]).toEqual(['lane', 'value', 'verdict']);
    expect(ber).toHaveLength(401);
    expect(ber[5]).toEqual(['5', '', 'ERROR']);
    expect(ber[17]).toEqual(['17', '1e-9', 'FAIL']);
    const rx = parseCsv(tables.get('01_ber_rx_power.csv')!);
    expect(rx.slice(1).map((r) => r[0])).toEqual(['3', '1', '2', '70000']);
    const scalars = parseCsv(tables.get('scalars.csv')!);
    expect(scalars).toHaveLength(1 + 4);
    expect(scalars[0]).toEqual([
      'step_index',
      'step',
      'measurement',
      'value',
      'unit',
      'low',
      'high',
      'marginal',
      'verdict',
      'at',
    ]);
    expect(scalars[2]).toEqual(['0', 'li', 'li_power', '0.000001', 'A', '0', '0.01', '0.001', 'PASS', 'current=0.001']);
  });

  it('adds a frame column when frames share coordinates, and writes a directory', () => {
    const r = sampleRecord({ steps: [sampleRecord().steps[1]] });
    const dup = JSON.parse(JSON.stringify(r.steps[0].measurements[0]));
    r.steps[0].measurements.push(dup);
    const t = parseCsv(csvTables(r).get('01_ber_ber_upper.csv')!);
    expect(t[0]).toEqual(['lane', 'value', 'verdict', 'frame']);
    expect(t).toHaveLength(801);
    expect(t[800][3]).toBe('1');
    expect(writeCsvDir(rec, join(tmp.dir, 'csv'))).toEqual([join(tmp.dir, 'csv', 'measurements.csv')]);
    const paths = writeCsvDir(rec, join(tmp.dir, 'csv-tables'), { tables: true });
    expect(paths).toHaveLength(5);
    expect(parseCsv(readFileSync(paths[2], 'utf8'))).toHaveLength(401);
    // the single-file CSV is the tidy table: one header, every row as wide
    const tidy = parseCsv(renderCsv(rec));
    expect(new Set(tidy.map((r) => r.length))).toEqual(new Set([tidy[0].length]));
    expect(renderCsv(rec)).not.toMatch(/^# /m);
  });
});

/** The tidy table written the plain way, row by row from tidyRows: the reference the fast writer must match. */
function referenceTidyCsv(record: RunRecord): string {
  const q = (v: unknown): string => {
    if (v === null || v === undefined) return '';
    if (typeof v === 'number') return Number.isFinite(v) ? String(v) : '';
    const s = String(v);
    return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
  };
  const coords = runCoordinates(record);
  const cols = ['run', 'step_index', 'step', 'step_name', 'measurement', ...coords];
  const lines = [[...cols, 'lane', 'value', 'unit', 'low', 'high', 'verdict'].map(q).join(',')];
  for (const r of tidyRows(record)) {
    const at = coords.map((k) => q(r.at?.[k]));
    lines.push(
      [q(r.run), r.stepIndex, q(r.step), q(r.stepName), q(r.measurement), ...at, q(r.lane), q(r.value)]
        .concat([q(r.unit), q(r.low), q(r.high), r.verdict])
        .join(','),
    );
  }
  return `${lines.join('\n')}\n`;
}

describe('CSV export, streamed', () => {
  it('writes the file byte for byte as the row-by-row table, across many 1 MiB buffers and multi-byte text', () => {
    const r = sampleRecord();
    r.id = 'run, "quoted"';
    r.steps[0].name = 'L-I, "quoted"\nstep ± µA é 温度';
    // about 2.5 MB of rows: a step of 60 frames × 400 lanes at two coordinates, odd values included
    const big = {
      ...r.steps[1],
      index: 2,
      id: 'sweep',
      name: 'sweep µ',
      measurements: Array.from({ length: 60 }, (_, k) =>
        laneFrame(
          `rx_power_${'温度'.repeat(12)}`,
          400,
          (l) => (l % 97 === 0 ? null : l % 89 === 0 ? Number.NaN : 1e-5 * (1 + l / 7) * k),
          {
            at: { point: k, temperature: 25 + (k % 3) },
            low: 1e-6,
          },
        ),
      ),
    };
    r.steps.push(big);
    const expected = referenceTidyCsv(r);
    expect(Buffer.byteLength(expected)).toBeGreaterThan(2 * (1 << 20));
    expect(renderCsv(r)).toBe(expected);
    const [path] = writeCsvDir(r, join(tmp.dir, 'big'));
    expect(readFileSync(path).equals(Buffer.from(expected, 'utf8'))).toBe(true);
    // the stored run too: what `report --format csv` and `run --csv` write
    expect(readFileSync(writeCsvDir(rec, join(tmp.dir, 'stored'))[0], 'utf8')).toBe(referenceTidyCsv(rec));
  });
});

describe('JUnit report', () => {
  it('has one testcase per step, failures with limits and values, an error for ERROR steps', () => {
    const xml = renderJunit(rec);
    expect(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>')).toBe(true);
    expect(xml.match(/<testcase /g)).toHaveLength(4);
    expect(xml.match(/<failure /g)).toHaveLength(1);
    expect(xml.match(/<error /g)).toHaveLength(1);
    expect(xml.match(/<skipped\/>/g)).toHaveLength(1);
    expect(xml).toContain('tests="4" failures="1" errors="1" skipped="1"');
    expect(xml).toContain('ber_upper: 1 of 400 lanes out of limits [-∞, 1e-12]: lane 17=1e-9');
    expect(xml).toContain('rx_power @ 25 °C: 1 of 4 lanes out of limits [1e-6, +∞] W: lane 2=-0.25');
    expect(xml).toContain('power analyzer timeout &lt;rail 3&gt;');
    expect(xml).toContain('<property name="dut" value="SN-0001"/>');
    expect(xml).toContain('fw 2.3');
    // Balanced tags (well-formed enough for CI parsers).
    for (const tag of ['testsuites', 'testsuite', 'properties']) {
      expect(xml.match(new RegExp(`<${tag}[ >]`, 'g'))?.length).toBe(xml.match(new RegExp(`</${tag}>`, 'g'))?.length);
    }
  });

  it('escapes XML and reports unfinished steps as errors', () => {
    const r = sampleRecord({ dut: 'SN "<&>\'', outcome: 'INTERRUPTED' });
    delete r.steps[0].verdict;
    r.steps[0].name = 'a<b & "c"\u0001';
    const xml = renderJunit(r);
    expect(xml).toContain('value="SN &quot;&lt;&amp;&gt;&apos;"');
    expect(xml).toContain('name="a&lt;b &amp; &quot;c&quot;\uFFFD"');
    expect(xml).toContain('step did not finish (run INTERRUPTED)');
    // the unfinished step, the ERROR step and the run itself
    expect(xml.match(/<error /g)).toHaveLength(3);
    expect(xml).not.toContain('\u0001');
  });

  it('makes an ABORTED, ERROR or INTERRUPTED run red with its reason, even when every step passed', () => {
    const passed = (outcome: RunRecord['outcome'], error?: string) => {
      const r = sampleRecord({ outcome, error });
      for (const s of r.steps) {
        s.verdict = 'PASS';
        delete s.error;
        for (const m of s.measurements) m.verdict = 'PASS';
      }
      return renderJunit(r);
    };
    const err = passed('ERROR', 'the results store failed while finishing the run (disk full)');
    expect(err).toContain('tests="5" failures="0" errors="1" skipped="0"');
    expect(err).toMatch(
      /<testcase name="run" classname="[^"]*\.\(run\)"[^>]*>\s*<error message="the results store failed while finishing the run \(disk full\)" type="ERROR">/,
    );
    expect(passed('ABORTED', 'aborted by api')).toMatch(
      /errors="1"[\s\S]*<error message="aborted by api" type="ABORTED">/,
    );
    expect(passed('INTERRUPTED')).toMatch(/<error message="run INTERRUPTED" type="INTERRUPTED">/);
    // PASS and FAIL runs have no run testcase
    expect(passed('PASS')).not.toContain('name="run"');
    expect(renderJunit(rec)).not.toContain('name="run"');
  });

  it('gives a SKIPPED step its reason', () => {
    const r = sampleRecord({ outcome: 'ABORTED', error: 'aborted by api' });
    const skipped = r.steps.find((s) => s.verdict === 'SKIPPED')!;
    skipped.error = 'aborted';
    const xml = renderJunit(r);
    expect(xml).toContain('<skipped message="aborted"/>');
    expect(xml).toMatch(/skipped="1"/);
  });
});

describe('HTML report', () => {
  it('draws the bathtub: BER counted against the decision threshold, median and worst lane, log axis labelled', () => {
    const thresholds = [0.1, 0.15, 0.2, 0.25, 0.75, 0.8, 0.85, 0.9];
    // BER falls toward the centre of the eye; lane 7 errs ten times as often as the others; 0 counted at the centre
    const ber = (t: number, lane: number) => {
      const d = Math.min(t, 1 - t);
      const v = 10 ** (-2 - (d - 0.1) * 40) * (lane === 7 ? 10 : 1);
      return d >= 0.25 && lane !== 7 ? 0 : v;
    };
    const frames = thresholds.map((t) =>
      laneFrame('bathtub_ber', 16, (l) => ber(t, l), { unit: '', at: { threshold: t } }),
    );
    const r = sampleRecord();
    r.steps = [{ ...r.steps[0], id: 'bathtub', name: 'Eye opening', type: 'bathtub', measurements: frames }];
    const html = renderHtml(r);
    const svg = /<svg[^>]*class="plot ber-curve"[\s\S]*?<\/svg>/.exec(html)?.[0];
    expect(svg).toBeDefined();
    expect(svg).toContain('Bathtub: bathtub_ber');
    expect(svg).toContain('>decision threshold (fraction of the eye)</text>');
    expect(svg).toContain('>BER (counted, log)</text>');
    expect(svg).toContain('>median over 16 lanes</text>');
    expect(svg).toContain('>worst lane 7</text>');
    // whole decades on the log axis
    expect(svg).toContain('>1e-2</text>');
    expect(svg).toContain('>1e-7</text>');
    // points: the median where it counted (6 of 8 thresholds), lane 7 at all 8
    expect(svg!.match(/<circle /g)).toHaveLength(6 + 8);
    // not one heatmap per threshold
    expect(html.match(/class="heatmap"/g) ?? []).toHaveLength(0);
  });

  it('condenses a passing run: worst lanes against the limit, swept values in one row, figures collapsed', () => {
    const r = sampleRecord({ outcome: 'PASS' });
    // BER against a high limit: the worst lanes are the highest values, largest first
    const ber = laneFrame('ber_upper', 400, (l) => (l === 17 ? 9e-13 : l === 5 ? 8e-13 : 1e-15 * l), {
      unit: '',
      high: 1e-12,
    });
    // power against a low limit: the worst lanes are the lowest
    const pow = laneFrame('p_op_dbm', 400, (l) => (l === 9 ? -20 : -14 + l / 100), { unit: 'dBm', low: -30 });
    const curve = [1e-5, 1e-4, 1e-3].map((i, k) => ({
      kind: 'scalar' as const,
      spec: { name: 'li_curve', unit: 'W', dimensions: ['point' as const] },
      value: i * 0.15,
      verdict: 'PASS' as const,
      at: { current: i, point: k, temperature: 45 },
    }));
    const info = {
      kind: 'scalar' as const,
      spec: { name: 'i_op', unit: 'A', dimensions: [] },
      value: 2e-4,
      verdict: 'PASS' as const,
      at: { temperature: 45 },
    };
    r.steps = [{ ...r.steps[0], verdict: 'PASS', at: { temperature: 45 }, measurements: [info, ber, pow, ...curve] }];
    const html = renderHtml(r);
    expect(html).toContain('worst: lane 17 = 9e-13, lane 5 = 8e-13, lane 400 = 4e-13');
    expect(html).toContain('worst: lane 9 = -20, lane 1 = -13.99, lane 2 = -13.98');
    // the three li_curve points are one row, the step's own temperature not repeated on it
    expect(html.match(/<td>li_curve<\/td>/g)).toHaveLength(1);
    expect(html).toContain(
      '<td>li_curve</td><td></td><td class="num">3 points over current 1e-5 … 0.001: 1.5e-6 … 1.5e-4</td>',
    );
    // a single informational value is a phrase of the information line
    expect(html).toContain('<span class="muted">information:</span> i_op = 2e-4 A</p>');
    // its figures collapsed
    expect(html).toMatch(/<details class="perlane"><summary>per-lane figures \(\d+\)/);
    expect(html).not.toMatch(/<details class="perlane" open/);
    // the same run failing: every row and figure open
    const failing = renderHtml({ ...r, outcome: 'FAIL' });
    expect(failing).not.toContain('<details class="perlane"');
    expect(failing.match(/<td>li_curve<\/td>/g)).toHaveLength(3);
  });

  it('is self-contained with a verdict, step tables, heatmaps and plots', () => {
    const html = renderHtml(rec);
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html).toContain('<span class="badge FAIL big">FAIL</span>');
    expect(html).not.toMatch(/(src|href)\s*=\s*["']?(https?:)?\/\//i);
    expect(html).not.toMatch(/<script/i);
    expect(html).not.toContain('url(http');
    // Heatmaps: li_lane_power (2 frames), ber_upper, rx_power; 20×20 geometry from the station snapshot.
    expect(html.match(/<svg [^>]*class="heatmap"/g)).toHaveLength(4);
    const heat = html.slice(html.indexOf('class="heatmap"'));
    const firstSvg = heat.slice(0, heat.indexOf('</svg>'));
    expect(firstSvg.match(/<rect [^>]*><title>lane \d+: /g)).toHaveLength(400);
    expect(firstSvg).toContain('<title>lane 400: ');
    expect(html.match(/class="plot ber"/g)).toHaveLength(1);
    expect(html.match(/class="plot li"/g)).toHaveLength(2); // scalar li_power sweep and lane li_lane_power
    expect(html).toContain('L-I sweep');
    expect(html).toContain('Fibre seated?');
    expect(html).toContain('LD400');
    expect(html).toContain('<th>high</th>');
  });

  it('puts failures first, then a sign-off block and a contents list; information gets no verdict badge', () => {
    const html = renderHtml(rec);
    const failures = html.indexOf('<h2 id="failures">Failures first: ');
    const summary = html.indexOf('<tr><th>Run</th>');
    expect(failures).toBeGreaterThan(0);
    expect(failures).toBeLessThan(summary); // before the summary table, on the first page
    const table = html.slice(failures, html.indexOf('</table>', failures));
    // the failing lane array: step, coordinates, measurement, limit, the lane with its row and column
    expect(table).toContain(
      '<td>rx_power</td><td class="num">1 lane(s)</td><td>≥ 1e-6 W</td><td>lane 2 (row 1, col 2; logical #1) = -0.25</td>',
    );
    expect(table).toContain('25 °C');
    expect(table).toContain('lane 17 (row 1, col 17; dead; remapped to spare 399) = 1e-9');
    expect(table).toContain('power analyzer timeout &lt;rail 3&gt;'); // a step error, first
    expect(html.indexOf('<h2 id="sign-off">Sign-off</h2>')).toBeGreaterThan(summary);
    expect(html).toMatch(/<tr><td>Tested by<\/td><td>[^<]+<\/td>/);
    expect(html).toContain('<nav class="contents"');
    expect(html).toMatch(/<li><a href="#step-0">0\. L-I sweep<\/a>/);
    // a value without limits is information: no PASS badge on it
    const infoRow = html.match(/<tr><td>li_lane_power<\/td>.*?<\/tr>/)![0];
    expect(infoRow).not.toContain('badge');
    expect(infoRow).toContain('info');
  });

  it('labels a log BER axis in whole decades, never 1e-9, 1e-9, 1e-9.01', () => {
    const html = renderHtml(rec);
    const plot = html.slice(html.indexOf('class="plot ber"'));
    const svg = plot.slice(0, plot.indexOf('</svg>'));
    const labels = [...svg.matchAll(/text-anchor="end">(1e-?\d+(?:\.\d+)?)</g)].map((m) => m[1]);
    expect(labels.length).toBeGreaterThanOrEqual(2);
    expect(new Set(labels).size).toBe(labels.length);
    for (const l of labels) expect(l).toMatch(/^1e-?\d+$/);
  });

  it('escapes a <script> in the DUT name and other text', () => {
    const r = sampleRecord({ dut: '<script>alert(1)</script>', operator: 'a&b' });
    r.steps[0].name = '<img src=x onerror=alert(2)>';
    const html = renderHtml(r);
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<img');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).toContain('a&amp;b');
  });

  it('falls back to a near-square grid without station geometry', () => {
    const r = sampleRecord({ station: { name: 'x', snapshot: null } });
    r.steps = [r.steps[1]];
    const html = renderHtml(r);
    // 400 lanes → 20 × 20; 4 lanes → 2 × 2 (rows label shows the row count)
    const svgs = html.match(/<svg [^>]*class="heatmap"[\s\S]*?<\/svg>/g)!;
    expect(svgs).toHaveLength(2);
    expect(svgs[0]).toContain('text-anchor="end">20</text>');
    expect(svgs[1]).toContain('text-anchor="end">2</text>');
  });
});

describe('renderReport', () => {
  it('renders every format with a content type', () => {
    expect(JSON.parse(String(renderReport(rec, 'json').body)).id).toBe(rec.id);
    expect(renderReport(rec, 'junit').contentType).toContain('xml');
    expect(renderReport(rec, 'html').body).toContain('<svg');
    expect(renderReport(rec, 'csv').body).toMatch(/^run,step_index,step,step_name,measurement,/);
  });
});
