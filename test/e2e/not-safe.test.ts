/**
 * A safe state that is not confirmed is reported, never assumed. The simulated LED driver is told to ignore every
 * setting command from its 18th message on (firmware that stopped acting, still answering queries): the run's
 * safe state is sent but the read-back shows the lanes still lit. The run must say NOT SAFE by name on the
 * terminal, in the record and its reports, end ERROR (exit 2), and a second client must still read the lanes on;
 * the next run refuses to start from that unknown state.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunRecord } from '../../src/core/record.ts';
import { openStore } from '../../src/store/index.ts';
import { cpobench, parseJson, startSim, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let station: string;
let sim: { child: ChildProcess; exit: Promise<number | null> };
let led: string;

beforeAll(async () => {
  dir = tmp.make();
  station = join(dir, 'station.yaml');
  sim = await startSim(['--time-scale', '1000', '--faults', 'led-driver-ignores-settings', '--station-out', station]);
  led = (parse(readFileSync(station, 'utf8')) as { instruments: Record<string, { resource: string }> }).instruments[
    'led-driver'
  ]!.resource;
});

afterAll(async () => {
  sim?.child.kill('SIGINT');
  await sim?.exit;
  tmp.cleanup();
});

describe('an LED driver that does not confirm its safe state', () => {
  it('is NOT SAFE by name on the terminal, in the record and the reports; the run is ERROR; the next run refuses', async () => {
    const db = join(dir, 'runs.db');
    const json = join(dir, 'out.json');
    const html = join(dir, 'out.html');
    const junit = join(dir, 'out.xml');
    const r = await cpobench(['run', 'smoke', '--station', station, '--db', db, '--json', json, '--junit', junit]);
    expect(r.code).toBe(2);
    expect(readFileSync(junit, 'utf8')).toMatch(
      /<testcase name="bench safe state \(read back\)"[^>]*>\s*<error message="BENCH NOT SAFE: led-driver \(TCPIP0::[^"]*output still on at lanes 1-400[^"]*" type="NOT_SAFE">/,
    );
    expect(r.stdout).toMatch(/verdict\s+ERROR/);
    expect(r.stdout).toMatch(/bench safe state\s+NOT SAFE/);
    expect(r.stderr).toContain('!!! BENCH NOT SAFE !!!');
    expect(r.stderr).toMatch(/!!! led-driver at TCPIP0::127\.0\.0\.1::\d+::SOCKET: output still on at lanes 1-400/);

    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'out.json');
    expect(rec.outcome).toBe('ERROR');
    expect(rec.error).toMatch(
      /^BENCH NOT SAFE: led-driver \(TCPIP0::[^)]+\): output still on at lanes 1-400 \(OUTP\? answered 1\)/,
    );
    expect(rec.summary).toMatchObject({ benchSafe: false, notSafe: ['led-driver'] });
    const ledReport = rec.safeState!.instruments.find((i) => i.role === 'led-driver')!;
    expect(ledReport).toMatchObject({ safe: false, resource: led });
    // the others did confirm, and say what they read back
    expect(rec.safeState!.instruments.filter((i) => i.safe).map((i) => i.role)).toEqual([
      'pd-receiver',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    // the commands and the read-backs of the safe state are in the stored transcript
    const store = openStore(db);
    const texts = store.getTranscript(rec.id).entries.map((t) => `${t.instrument} ${t.dir} ${t.text}`);
    store.close();
    const lastOff = texts.lastIndexOf('led-driver tx OUTP OFF,(@1:400)');
    expect(lastOff).toBeGreaterThan(0);
    expect(texts.slice(lastOff)).toContain('led-driver tx OUTP? (@1:400)');
    expect(texts.slice(lastOff).some((t) => t.startsWith('led-driver rx 1,1,1,'))).toBe(true);

    const rep = await cpobench(['report', rec.id, '--db', db, '--format', 'html', '--out', html]);
    expect(rep.code).toBe(0);
    const page = readFileSync(html, 'utf8');
    expect(page).toContain('BENCH NOT SAFE');
    expect(page).toMatch(/led-driver[\s\S]{0,400}output still on at lanes 1-400/);

    // what the hardware says, over a second connection
    const probe = await cpobench(['scpi', led, 'OUTP? (@1:5)']);
    expect(probe.stdout).toBe('1,1,1,1,1\n');

    // the next run cannot start from a state nobody confirmed
    const next = await cpobench(['run', 'smoke', '--station', station, '--db', db, '--json', json]);
    expect(next.code).toBe(2);
    const rec2 = parseJson<RunRecord>(readFileSync(json, 'utf8'), 'out.json (second run)');
    expect(rec2.outcome).toBe('ERROR');
    expect(rec2.steps).toEqual([]);
    expect(rec2.error).toMatch(/did not confirm its safe state before the first step: led-driver/);
  }, 60_000);
});
