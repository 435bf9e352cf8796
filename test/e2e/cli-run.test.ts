/**
 * The real CLI as a user runs it: simulated bench, orchestrator, SQLite store and report writers, in a child
 * process, with results in temp dirs.
 */
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { sampleRecord, writeRecord } from '../store/fixtures.ts';
import { cpobench, parseJson, type RunRow, runIdFrom, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let db: string;

beforeAll(() => {
  dir = tmp.make();
  db = join(dir, 'runs.db');
});
afterAll(() => tmp.cleanup());

const testcases = (xml: string) => [...xml.matchAll(/<testcase\b[^>]*?(\/>|>[\s\S]*?<\/testcase>)/g)].map((m) => m[0]);

describe('cpobench run on the simulated bench (real CLI, real store)', () => {
  it('smoke on mosaic-800g passes and writes JSON, JUnit, the tidy CSV and (--csv-tables) per-lane CSV', async () => {
    const json = join(dir, 'out', 'smoke.json');
    const junit = join(dir, 'out', 'smoke.xml');
    const csv = join(dir, 'out', 'csv');
    const r = await cpobench([
      'run',
      'smoke',
      '--sim',
      'mosaic-800g',
      '--time-scale',
      '1000',
      '--db',
      db,
      '--dut',
      'SN-E2E-1',
      '--operator',
      'e2e',
      '--json',
      json,
      '--junit',
      junit,
      '--csv',
      csv,
      '--csv-tables',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/verdict\s+PASS/);

    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'smoke.json');
    expect(rec.id).toBe(runIdFrom(r.stderr));
    expect(rec.outcome).toBe('PASS');
    expect(rec.dut).toBe('SN-E2E-1');
    expect(rec.operator).toBe('e2e');
    expect(rec.steps.map((s) => [s.id, s.verdict])).toEqual([
      ['inventory', 'PASS'],
      ['ber-screen', 'PASS'],
      ['energy', 'PASS'],
    ]);
    const ber = rec.steps[1]!.measurements.find((m) => m.spec.name === 'ber_upper_bound');
    expect(ber?.kind).toBe('lanes');
    if (ber?.kind === 'lanes') {
      expect(ber.lanes).toHaveLength(400);
      expect(ber.values.every((v) => v !== null && v <= 1e-9)).toBe(true);
    }
    const epb = rec.steps[2]!.measurements.find((m) => m.spec.name === 'energy_per_bit');
    expect(epb?.kind === 'scalar' && epb.value).toBeGreaterThan(0);
    expect(rec.instruments.map((i) => i.role).sort()).toEqual(
      ['led-driver', 'optical-meter', 'pd-receiver', 'power-analyzer', 'tec'].sort(),
    );

    const xml = readFileSync(junit, 'utf8');
    const cases = testcases(xml);
    expect(cases).toHaveLength(4); // three steps and the bench safe state
    expect(cases.map((c) => /classname="([^"]+)"/.exec(c)?.[1])).toEqual([
      'smoke.inventory',
      'smoke.ber-screen',
      'smoke.energy',
      'smoke.bench',
    ]);
    expect(xml).not.toMatch(/<failure|<error/);
    expect(xml).toMatch(/<testsuites [^>]*tests="4" failures="0" errors="0"/);

    const files = readdirSync(csv);
    expect(files).toContain('measurements.csv'); // the tidy long table
    expect(files).toContain('scalars.csv'); // --csv-tables: the per-measurement files too
    const perLane = files.filter((f) => f.includes('ber-screen'));
    expect(perLane.length).toBeGreaterThanOrEqual(1);
    const ubFile = perLane.find((f) => f.includes('ber_upper_bound'));
    expect(ubFile).toBeDefined();
    const rows = readFileSync(join(csv, ubFile!), 'utf8').trim().split('\n');
    expect(rows[0]).toBe('lane,value,verdict');
    expect(rows).toHaveLength(401); // header + 400 lanes
    expect(rows[1]).toMatch(/^1,[\d.e+-]+,PASS$/);
  });

  it('lightbundle-512g-qual with more dead lanes than spares fails (exit 1); JUnit names limit and value', async () => {
    const junit = join(dir, 'lb-fail.xml');
    const r = await cpobench([
      'run',
      'lightbundle-512g-qual',
      '--sim',
      'lightbundle-512g',
      '--time-scale',
      '1000',
      '--faults',
      'dead-lanes-beyond-spares',
      '--db',
      db,
      '--dut',
      'SN-LB-DEAD',
      '--junit',
      junit,
    ]);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stdout).toMatch(/verdict\s+FAIL/);
    const xml = readFileSync(junit, 'utf8');
    const cases = testcases(xml);
    expect(cases).toHaveLength(13); // twelve steps and the bench safe state
    const remap = cases.find((c) => c.includes('classname="lightbundle-512g-qual.remap"'));
    expect(remap).toBeDefined();
    // the failure carries the measurement, its value and its limits
    expect(remap).toMatch(
      /<failure [^>]*type="FAIL"[^>]*>[^<]*unrepaired_lanes: value [1-9]\d* count, limits \[-∞, 0\]/,
    );
    expect(xml).toMatch(/<testsuites [^>]*failures="[1-9]/);
  });

  it('a receiver that hangs mid-run ends the run ERROR (exit 2); the data taken before the hang is kept', async () => {
    const r = await cpobench([
      'run',
      'mosaic-800g-qual',
      '--sim',
      'mosaic-800g',
      '--time-scale',
      '1000',
      '--faults',
      'receiver-hangs',
      '--db',
      db,
      '--dut',
      'SN-HANG',
      '--no-progress',
    ]);
    expect(r.code, r.stderr).toBe(2);
    const id = runIdFrom(r.stderr);
    expect(r.stderr).toMatch(/pd-receiver: .*no reply/);

    const list = await cpobench(['runs', '--db', db, '--json']);
    expect(list.code, list.stderr).toBe(0);
    const row = parseJson<RunRow[]>(list.stdout, 'runs --json').find((x) => x.id === id);
    expect(row).toMatchObject({ outcome: 'ERROR', dut: 'SN-HANG', sequence: 'mosaic-800g-qual' });
    expect(row?.error).toMatch(/pd-receiver/);
    expect(row?.finishedAt).toBeTruthy();

    const rep = await cpobench(['report', id, '--format', 'json', '--db', db]);
    expect(rep.code, rep.stderr).toBe(0);
    const rec = parseJson<RunRecord>(rep.stdout, 'report json');
    expect(rec.outcome).toBe('ERROR');
    const done = rec.steps.filter((s) => s.verdict === 'PASS');
    expect(done.map((s) => s.id)).toEqual(['inventory', 'open-short', 'lane-map']);
    const laneMap = rec.steps.find((s) => s.id === 'lane-map')!;
    const rxLane = laneMap.measurements.find((m) => m.spec.name === 'rx_lane');
    expect(rxLane?.kind).toBe('lanes');
    if (rxLane?.kind === 'lanes') {
      expect(rxLane.values).toHaveLength(400);
      expect(rxLane.values.every((v) => typeof v === 'number')).toBe(true);
    }
    const hung = rec.steps.find((s) => s.verdict === 'ERROR');
    expect(hung?.error).toMatch(/no reply/);
  });

  it('runs --outcome FAIL lists only the failing runs', async () => {
    // its own store with a run of each outcome (written through the store API), so it needs no other test's runs
    const db = join(tmp.make(), 'outcomes.db');
    const store = openSqliteStore(db);
    try {
      for (const [outcome, dut] of [
        ['PASS', 'SN-OK'],
        ['FAIL', 'SN-LB-DEAD'],
        ['ERROR', 'SN-HUNG'],
        ['FAIL', 'SN-LB-DEAD-2'],
      ] as const) {
        writeRecord(store, sampleRecord({ outcome, dut }));
      }
    } finally {
      store.close();
    }
    const r = await cpobench(['runs', '--db', db, '--outcome', 'FAIL', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const rows = parseJson<RunRow[]>(r.stdout, 'runs --outcome FAIL');
    expect(rows.map((x) => [x.dut, x.outcome]).sort()).toEqual([
      ['SN-LB-DEAD', 'FAIL'],
      ['SN-LB-DEAD-2', 'FAIL'],
    ]);
    // the table form too
    const t = await cpobench(['runs', '--db', db, '--outcome', 'FAIL']);
    expect(t.code).toBe(0);
    const lines = t.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^id\s+sequence\s+dut\s+outcome/);
    expect(lines.slice(1).length).toBe(rows.length);
    for (const l of lines.slice(1)) expect(l).toMatch(/\sFAIL\s/);
    // and the store holds runs of other outcomes, so the filter did filter
    const all = parseJson<RunRow[]>((await cpobench(['runs', '--db', db, '--json'])).stdout, 'runs');
    expect(new Set(all.map((x) => x.outcome))).toEqual(new Set(['PASS', 'FAIL', 'ERROR']));
  });

  it('report of an unknown run exits 2 and names it', async () => {
    const r = await cpobench(['report', 'NOPE', '--format', 'json', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/unknown run "NOPE"/);
  });

  it('a sequence file with an unknown step type exits 2 with file:line:column', async () => {
    const file = join(dir, 'bad-seq.yaml');
    writeFileSync(
      file,
      [
        'name: bad-seq',
        'steps:',
        '  - id: inv',
        '    name: Inventory',
        '    type: inventory',
        '  - id: warp',
        '    name: Warp drive',
        '    type: warp-drive',
        '',
      ].join('\n'),
    );
    const before = parseJson<RunRow[]>((await cpobench(['runs', '--db', db, '--json'])).stdout, 'runs');
    const r = await cpobench(['run', file, '--sim', 'mosaic-800g', '--time-scale', '1000', '--db', db]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`${file}:8:11`);
    expect(r.stderr).toMatch(/warp-drive/);
    expect(r.stderr).toMatch(/inventory/); // names the valid types
    const after = parseJson<RunRow[]>((await cpobench(['runs', '--db', db, '--json'])).stdout, 'runs');
    expect(after).toHaveLength(before.length); // nothing was started
  });

  it('--sim with an unknown profile exits 2 naming the available profiles', async () => {
    const fresh = join(dir, 'never.db');
    const r = await cpobench(['run', 'smoke', '--sim', 'nosuchprofile', '--db', fresh]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/nosuchprofile/);
    for (const p of ['mosaic-800g', 'mosaic-800g-cmos', 'lightbundle-512g']) expect(r.stderr).toContain(p);
    expect(existsSync(fresh)).toBe(false); // refused before anything was opened
  });

  it('--answers with a bad regular expression is refused before anything runs, naming the entry (exit 2)', async () => {
    const answers = join(dir, 'answers.json');
    writeFileSync(
      answers,
      JSON.stringify([
        { match: 'fibre', answer: true },
        { match: '(unclosed', answer: 'pass' },
      ]),
    );
    const before = parseJson<RunRow[]>((await cpobench(['runs', '--db', db, '--json'])).stdout, 'runs');
    const r = await cpobench(['run', 'smoke', '--sim', 'mosaic-800g', '--db', db, '--answers', answers]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /--answers .*answers\.json: .*answer 1 \(match "\(unclosed"\): expected a regular expression/,
    );
    const after = parseJson<RunRow[]>((await cpobench(['runs', '--db', db, '--json'])).stdout, 'runs');
    expect(after).toHaveLength(before.length); // no run was started, none left INTERRUPTED
  });

  it('an exception thrown by cpobench itself mid-run ends the run ERROR (exit 2) with the bench safe, read back', async () => {
    const json = join(dir, 'out', 'fault.json');
    const child = spawn(
      process.execPath,
      [
        '--import',
        './test/e2e/fixtures/throw-later.mjs',
        'src/cli/bin.js',
        'run',
        'mosaic-800g-qual',
        '--sim',
        'mosaic-800g',
        '--db',
        db,
        '--json',
        json,
      ],
      { cwd: process.cwd(), env: { ...process.env, NO_COLOR: '1', CPOBENCH_TEST_THROW_AFTER_MS: '1500' } },
    );
    let stderr = '';
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    const code = await new Promise<number | null>((r) => child.on('close', (c) => r(c)));
    expect(code, stderr).toBe(2);
    expect(stderr).toContain('cpobench internal error: injected fault from a timer');
    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'fault.json');
    expect(rec.outcome).toBe('ERROR');
    expect(rec.error).toBe('cpobench internal error: injected fault from a timer');
    expect(rec.safeState?.safe).toBe(true);
    expect(rec.safeState!.instruments.find((i) => i.role === 'led-driver')!.observed).toMatch(/^outputs off, bias 0 A/);
    expect(rec.steps.length).toBeGreaterThan(0); // what was measured before the fault is kept
  });

  it('mosaic-800g-qual passes unchanged on the CMOS-receiver bench (exit 0)', async () => {
    const json = join(dir, 'out', 'cmos-qual.json');
    const r = await cpobench(['run', 'mosaic-800g-qual', '--sim', 'mosaic-800g-cmos', '--db', db, '--json', json]);
    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'cmos-qual.json');
    expect(rec.outcome, `${rec.error ?? ''} ${rec.steps.filter((s) => s.verdict === 'FAIL').map((s) => s.id)}`).toBe(
      'PASS',
    );
    expect(r.code).toBe(0);
    expect(
      rec.steps.find((s) => s.id === 'lane-map')!.measurements.find((m) => m.spec.name === 'rx_lane'),
    ).toBeDefined();
  });
});
