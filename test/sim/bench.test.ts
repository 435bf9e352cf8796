import { existsSync, readFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { toUint16LE } from '../../src/scpi/block.ts';
import { benchStation, planBench, startBench, stationYaml } from '../../src/sim/bench.ts';
import { stationFromObject } from '../../src/station/schema.ts';
import { startSim } from '../e2e/helpers.ts';
import { cpobench } from '../helpers/cli.ts';
import { tempDirs } from '../helpers/temp.ts';
import { cleanupList, exec, openBench } from './instruments/helpers.ts';

const tmp = tempDirs('cpobench-sim-test-');
afterAll(() => tmp.cleanup());

const cleanup = cleanupList();
afterEach(() => cleanup.run());

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, '127.0.0.1', () => srv.close(() => resolve(true)));
  });
}

describe('startBench', () => {
  it('runs two independent benches in one process', async () => {
    const a = await openBench({ seed: 1 });
    const b = await openBench({ seed: 1 });
    cleanup.add(a);
    cleanup.add(b);
    const ports = [...a.bench.instruments, ...b.bench.instruments].map((i) => i.port);
    expect(new Set(ports).size).toBe(10);
    const ledA = await a.session('led-driver');
    const rxA = await a.session('pd-receiver');
    const rxB = await b.session('pd-receiver');
    await exec(ledA, 'OUTP ON,(@1:400)');
    expect((await rxA.queryNumbers('MEAS:POW? (@1)'))[0]).toBeGreaterThan(0);
    expect((await rxB.queryNumbers('MEAS:POW? (@1)'))[0]).toBe(0); // bench b is untouched
    expect(a.bench.model).not.toBe(b.bench.model);
  });

  it('close() frees every port', async () => {
    const bench = await startBench({});
    const ports = bench.instruments.map((i) => i.port);
    for (const p of ports) expect(await portFree(p)).toBe(false);
    await bench.close();
    await bench.close(); // idempotent
    for (const p of ports) expect(await portFree(p)).toBe(true);
  });

  it('describes itself as a station (and as YAML)', async () => {
    const tb = await openBench({ profile: 'lightbundle-512g' });
    cleanup.add(tb);
    const st = benchStation(tb.bench);
    expect(st).toEqual(tb.bench.station);
    expect(st.name).toBe('lightbundle-512g-sim');
    expect(st.lanes).toMatchObject({ rows: 16, cols: 20, order: 'row-major', active: 256 });
    expect(st.lanes.spares).toHaveLength(64);
    expect(Object.keys(st.instruments)).toEqual([
      'led-driver',
      'pd-receiver',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    for (const e of tb.bench.instruments) {
      const doc = st.instruments[e.role]!;
      expect(doc.resource).toBe(e.resource);
      expect(e.identity).toMatch(new RegExp(doc.identity));
      const s = await tb.session(e.role);
      expect(await s.query('*IDN?')).toMatch(new RegExp(doc.identity));
    }
    expect(st.instruments['led-driver']).toMatchObject({ limits: { maxCurrentA: 300e-6 }, timeoutMs: 2000 });
    expect(st.instruments['power-analyzer']).toMatchObject({ safe: { outputs: 'keep' } });
    expect(parse(stationYaml(st))).toEqual(st);
    // the drivers' station loader accepts it
    expect(Object.keys(stationFromObject(st, 'sim station').instruments)).toHaveLength(5);
  });
});

describe('planBench: the instrument clock', () => {
  it("real time by default; run/serve's default, or the profile's runTimeScale, or --time-scale", () => {
    expect(planBench({ profile: 'mosaic-800g' }).timeScale).toBe(1);
    expect(planBench({ profile: 'mosaic-800g', defaultTimeScale: 1000 }).timeScale).toBe(1000);
    // a BER screen on the BERT bench is 100 gates of 4 lanes: its profile asks for a faster clock
    expect(planBench({ profile: 'mosaic-800g-bert', defaultTimeScale: 1000 }).timeScale).toBe(20000);
    expect(planBench({ profile: 'mosaic-800g-bert', defaultTimeScale: 1000, timeScale: 5 }).timeScale).toBe(5);
    expect(planBench({ profile: 'mosaic-800g-bert' }).timeScale).toBe(1); // cpobench sim: real time
  });
});

describe('serial mode (ptys through socat)', () => {
  it('serves every instrument on a pty and removes the ptys on close', async () => {
    const tb = await openBench({ serial: true, profile: 'mosaic-800g-cmos' });
    for (const e of tb.bench.instruments) {
      expect(e.resource).toMatch(new RegExp(`^ASRL${tmpdir()}/cpobench-\\w+/${e.role}::INSTR$`));
      expect(existsSync(e.ptyPath!)).toBe(true);
    }
    expect(tb.bench.station.instruments['led-driver']!.serial).toEqual({
      baudRate: 115200,
      parity: 'none',
      dataBits: 8,
      stopBits: 1,
    });
    const led = await tb.session('led-driver');
    const rx = await tb.session('cmos-receiver');
    expect(await led.query('*IDN?')).toMatch(/^cpobench-sim,ULED-DRV-400,/);
    await exec(led, 'OUTP ON,(@1:400)');
    expect(await rx.queryNumbers('MEAS:POW? (@1:400)')).toHaveLength(400);
    expect(toUint16LE(await rx.queryBlock('FETC:FRAM?'))).toHaveLength(200 * 200);
    const paths = tb.bench.instruments.map((e) => e.ptyPath!);
    const ports = tb.bench.instruments.map((e) => e.port);
    await tb.close();
    for (const p of paths) expect(existsSync(p)).toBe(false);
    expect(existsSync(tb.bench.serialDir!)).toBe(false);
    for (const p of ports) expect(await portFree(p)).toBe(true);
  });
});

describe('cpobench sim (child process)', () => {
  it('prints role, resource and *IDN? per instrument, writes the station, stops cleanly on SIGINT', async () => {
    const dir = tmp.make();
    const stationFile = path.join(dir, 'station.yaml');
    const { child, lines, exit } = await startSim(['--seed', '3', '--time-scale', '100', '--station-out', stationFile]);
    expect(lines.map((l) => l.split(/\s+/)[0])).toEqual([
      'led-driver',
      'pd-receiver',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    const col = lines[0]!.indexOf('TCPIP0::');
    for (const l of lines) expect(l.indexOf('TCPIP0::')).toBe(col); // aligned columns
    expect(lines[2]).toMatch(/TCPIP0::127\.0\.0\.1::\d+::SOCKET\s+Keysight Technologies,N6705C,/);
    const station = parse(readFileSync(stationFile, 'utf8'));
    expect(station.profile).toBe('mosaic-800g');
    const resources = lines.map((l) => l.split(/\s+/)[1]!);
    expect(Object.values(station.instruments).map((i) => (i as { resource: string }).resource)).toEqual(resources);
    const ports = resources.map((r) => Number(r.split('::')[2]));
    // a real client reaches it (the project's own CLI)
    const r = await cpobench(['scpi', resources[0]!, '*IDN?', 'SYST:CHAN:COUN?']);
    expect(r.stdout).toBe('cpobench-sim,ULED-DRV-400,SIM-LD-0001,1.0.0\n400\n');
    child.kill('SIGINT');
    expect(await exit).toBe(0);
    for (const p of ports) expect(await portFree(p)).toBe(true);
  });

  it('runs --serial and releases the ptys on SIGTERM', async () => {
    const { child, lines, exit } = await startSim(['--serial', '--profile', 'mosaic-800g-cmos']);
    const resources = lines.map((l) => l.split(/\s+/)[1]!);
    expect(resources[1]).toMatch(/^ASRL\/.*\/cmos-receiver::INSTR$/);
    const r = await cpobench(['scpi', resources[1]!, '--baud', '115200', '*IDN?', 'SENS:FRAM:SIZE?']);
    expect(r.stdout).toMatch(/^cpobench-sim,CMOSRX-400,.*\n200,200\n$/);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    for (const res of resources) expect(existsSync(res.replace(/^ASRL/, '').replace(/::INSTR$/, ''))).toBe(false);
  });

  it('refuses bad input with one line naming the problem, exit 2, nothing started', async () => {
    const dir = tmp.make();
    const badProfile = path.join(dir, 'p.yaml');
    const { writeFileSync } = await import('node:fs');
    writeFileSync(
      badProfile,
      readFileSync('fixtures/profiles/mosaic-800g.yaml', 'utf8').replace('rate: 2.0e9 ', 'rate: 0     '),
    );
    const cases: [string[], RegExp][] = [
      [['--profile', 'nope'], /unknown profile "nope"; available: .*mosaic-800g/],
      [['--profile', badProfile], /p\.yaml:15:9 link\.rate: expected a number > 0, got 0/],
      [['--faults', 'missing.yaml'], /unknown fault file "missing\.yaml"/],
      [['--time-scale', '0'], /--time-scale must be a number > 0, got "0"/],
      [['--time-scale', 'abc'], /--time-scale must be a number > 0, got "abc"/],
      [['--seed', 'abc'], /--seed must be an integer >= 0, got "abc"/],
    ];
    for (const [args, re] of cases) {
      const stationOut = path.join(dir, 'never.yaml');
      const r = await cpobench(['sim', ...args, '--station-out', stationOut]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      const errLines = r.stderr.trim().split('\n');
      expect(errLines).toHaveLength(1);
      expect(errLines[0]).toMatch(re);
      expect(existsSync(stationOut)).toBe(false);
    }
  });
});
