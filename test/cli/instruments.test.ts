import { writeFileSync } from 'node:fs';
import { hostname, userInfo } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ScpiSession } from '../../src/scpi/session.ts';
import { startBench, stationYaml } from '../../src/sim/bench.ts';
import { lockStation } from '../../src/station/bench-lock.ts';
import { stationFromObject } from '../../src/station/schema.ts';
import { createTransport } from '../../src/transport/open.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { cpobench } from '../helpers/cli.ts';
import { rawPeer, refusingPort } from '../helpers/raw-peer.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('cpobench-instruments-');
afterAll(() => tmp.cleanup());
const dir = tmp.make();

const cleanups = cleanupsAfterEach();

describe('cpobench instruments', () => {
  it('--sim mosaic-800g lists the five instruments with their identities and exits 0', async () => {
    const r = await cpobench(['instruments', '--sim', 'mosaic-800g']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^NAME\s+DRIVER\s+RESOURCE\s+STATE\s+IDENTITY$/);
    expect(lines.slice(1).map((l) => l.split(/\s+/)[0])).toEqual([
      'led-driver',
      'pd-receiver',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    expect(r.stdout).toMatch(
      /power-analyzer\s+keysight-n6705c\s+TCPIP0::127\.0\.0\.1::\d+::SOCKET\s+ready\s+Keysight Technologies,N6705C,/,
    );
    expect(r.stdout).toContain('Thorlabs,PM100D,');
    expect(r.stdout).toContain('THORLABS,TED4015,');
  });

  it('--sim mosaic-800g-cmos has a cmos-receiver instead, and --json prints the list', async () => {
    const r = await cpobench([
      'instruments',
      '--sim',
      'mosaic-800g-cmos',
      '--seed',
      '3',
      '--time-scale',
      '10',
      '--json',
    ]);
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.stdout);
    expect(doc.instruments.map((i: { role: string }) => i.role)).toEqual([
      'led-driver',
      'cmos-receiver',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    expect(doc.instruments[1].identity).toMatch(/^cpobench-sim,CMOSRX-400,/);
  });

  it('--station with an unreachable instrument exits 2 and names it', async () => {
    const bench = await startBench({ profile: 'mosaic-800g' });
    cleanups.push(() => bench.close());
    const station = structuredClone(bench.station);
    const refusing = await refusingPort();
    cleanups.push(() => refusing.close());
    station.instruments.tec!.resource = `TCPIP0::127.0.0.1::${refusing.port}::SOCKET`;
    const file = path.join(dir, 'unreachable.yaml');
    writeFileSync(file, stationYaml(station));
    const r = await cpobench(['instruments', '--station', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/tec\s+thorlabs-ted4015\s+TCPIP0::127\.0\.0\.1::\d+::SOCKET\s+unreachable\s+-/);
    expect(r.stdout).toMatch(/led-driver\s+cpobench-led-board\s+\S+\s+ready/);
    expect(r.stderr).toMatch(/tec \(TCPIP0::127\.0\.0\.1::\d+::SOCKET\) is unreachable/);
    expect(r.stderr).toContain('not ready: tec');
  });

  it('--station with the wrong instrument at an address exits 2 showing both identities', async () => {
    const bench = await startBench({ profile: 'mosaic-800g' });
    cleanups.push(() => bench.close());
    const impostor = await rawPeer((line, s) => {
      if (line === '*IDN?') s.write('Rigol,DP832,DP8C000,00.01\n');
    });
    cleanups.push(() => impostor.close());
    const station = structuredClone(bench.station);
    station.instruments['power-analyzer']!.resource = `TCPIP0::127.0.0.1::${impostor.port}::SOCKET`;
    const file = path.join(dir, 'impostor.yaml');
    writeFileSync(file, stationYaml(station));
    const r = await cpobench(['instruments', '--station', file]);
    expect(r.code).toBe(2);
    expect(r.stdout).toMatch(/power-analyzer\s+keysight-n6705c\s+\S+\s+wrong-identity\s+Rigol,DP832/);
    expect(r.stderr).toContain('"Rigol,DP832,DP8C000,00.01"');
    expect(r.stderr).toContain('/N6705C/');
  });

  it('reports a bad station file with file:line:column and key, exit 2', async () => {
    const file = path.join(dir, 'bad.yaml');
    writeFileSync(
      file,
      'name: x\nlanes: { rows: 2, cols: 2 }\ninstruments:\n  led-driver: { driver: cpobench-led-board, resource: "ASRL3::INSTR", limits: { maxCurrentA: -1 } }\n  pd-receiver: { driver: cpobench-pd-kit, resource: "ASRL4::INSTR" }\n',
    );
    const r = await cpobench(['instruments', '--station', file]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(
      /bad\.yaml:4:94 instruments\.led-driver\.limits\.maxCurrentA: expected a number > 0, got -1/,
    );
    const none = await cpobench(['instruments']);
    expect(none.code).toBe(2);
    expect(none.stderr).toContain('give exactly one of --station FILE or --sim PROFILE');
    const badSeed = await cpobench(['instruments', '--sim', 'mosaic-800g', '--seed', 'x']);
    expect(badSeed.code).toBe(2);
    expect(badSeed.stderr).toContain('--seed must be an integer >= 0, got "x"');
  });

  it('names who holds a locked instrument, and then only reads identities (no driver init)', async () => {
    const bench = await startBench({ profile: 'mosaic-800g' });
    cleanups.push(() => bench.close());
    const file = path.join(dir, 'held.yaml');
    writeFileSync(file, stationYaml(bench.station));
    const lock = await lockStation(stationFromObject(bench.station, 'held'), { command: 'cpobench run smoke' });
    cleanups.push(() => lock.release());
    // the holder set the meter to dBm; the meter driver's init would set W
    const meter = bench.instruments.find((i) => i.role === 'optical-meter')!;
    const s = new ScpiSession(createTransport(meter.resource, { reconnect: false }), { name: 'probe' });
    await s.open();
    cleanups.push(() => s.close());
    await s.write('SENS:POW:UNIT DBM');
    const r = await cpobench(['instruments', '--station', file]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/optical-meter\s+thorlabs-pm100d\s+\S+\s+ready\s+Thorlabs,PM100D,/);
    expect(r.stdout).toContain(
      `optical-meter (${meter.resource}): held by pid ${process.pid} on ${hostname()} (user ${userInfo().username}): ` +
        `"cpobench run smoke", station "${bench.station.name}", since `,
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(11);
    expect(await s.query('SENS:POW:UNIT?')).toBe('DBM');
  });

  it('works against a station written for the serial (pty) bench', async () => {
    const bench = await startBench({ profile: 'mosaic-800g', serial: true });
    cleanups.push(() => bench.close());
    const file = path.join(dir, 'serial.yaml');
    writeFileSync(file, stationYaml(bench.station));
    const r = await cpobench(['instruments', '--station', file]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /led-driver\s+cpobench-led-board\s+ASRL\/\S+\/led-driver::INSTR\s+ready\s+cpobench-sim,ULED-DRV-400,/,
    );
    expect(r.stdout.trim().split('\n')).toHaveLength(6);
  });
});
