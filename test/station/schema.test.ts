import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load-yaml.ts';
import { laneTotal, loadStation, parseStation, stationRoles } from '../../src/station/schema.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('cpobench-station-');
afterAll(() => tmp.cleanup());
const dir = tmp.make();

function file(name: string, text: string): string {
  const f = path.join(dir, name);
  writeFileSync(f, text);
  return f;
}

const GOOD = `name: t
lanes: { rows: 20, cols: 20, spares: [] }
instruments:
  led-driver:
    resource: "TCPIP0::127.0.0.1::5025::SOCKET"
    limits: { maxCurrentA: 0.0006 }
  pd-receiver: { resource: "TCPIP0::127.0.0.1::5026::SOCKET", identity: "PDRX" }
`;

describe('station files', () => {
  it('loads every shipped station fixture', () => {
    for (const name of ['mosaic-800g', 'mosaic-800g-cmos', 'lightbundle-512g', 'serial-bench']) {
      const s = loadStation(`fixtures/stations/${name}.yaml`);
      expect(s.instruments['led-driver']!.limits.maxCurrentA).toBeGreaterThan(0);
    }
    const lb = loadStation('fixtures/stations/lightbundle-512g.yaml');
    expect(laneTotal(lb)).toBe(320);
    expect(lb.lanes.spares).toHaveLength(64);
    expect(lb.lanes.active).toBe(256);
    expect(stationRoles(loadStation('fixtures/stations/mosaic-800g-cmos.yaml'))).toEqual([
      'led-driver',
      'cmos-receiver',
      'power-analyzer',
      'optical-meter',
      'tec',
    ]);
    const serial = loadStation('fixtures/stations/serial-bench.yaml');
    expect(serial.instruments.tec!.serial).toEqual({
      baudRate: 115200,
      parity: 'none',
      dataBits: 8,
      stopBits: 1,
      rtscts: false,
      terminator: '\n',
    });
  });

  it('applies defaults: timeout, identity, checkErrors, lane order, power-analyzer safe outputs', () => {
    const s = parseStation(
      `${GOOD}  power-analyzer: { resource: "TCPIP0::h::5027::SOCKET", rails: [ { channel: 1, name: a } ] }\n`,
    );
    expect(s.instruments['led-driver']).toMatchObject({ timeoutMs: 2000, identity: '', checkErrors: true });
    expect(s.lanes.order).toBe('row-major');
    expect(s.instruments['power-analyzer']!.safe.outputs).toBe('keep');
    expect(s.instruments['power-analyzer']!.rails[0]!.counted).toBe(true);
  });

  it('names file, line, column, key and what was expected for a bad value', () => {
    const f = file('neg.yaml', GOOD.replace('maxCurrentA: 0.0006', 'maxCurrentA: -1'));
    const err = (() => {
      try {
        loadStation(f);
      } catch (e) {
        return e as ConfigError;
      }
    })();
    expect(err).toBeInstanceOf(ConfigError);
    expect(err!.message).toBe(`${f}:6:28 instruments.led-driver.limits.maxCurrentA: expected a number > 0, got -1`);
  });

  it('refuses unknown keys, a missing led-driver, two receivers, bad patterns, and TEC limits that cross', () => {
    expect(() => parseStation(GOOD.replace('name: t', 'name: t\nbogus: 1'), 'x.yaml')).toThrow(
      /^x\.yaml:2:1 bogus: unknown key/,
    );
    expect(() => parseStation(GOOD.replace('limits: {', 'limit: {'), 'x.yaml')).toThrow(
      /instruments\.led-driver\.limit: unknown key/,
    );
    const noLed = 'name: t\nlanes: { rows: 2, cols: 2 }\ninstruments:\n  pd-receiver: { resource: "ASRL3::INSTR" }\n';
    expect(() => parseStation(noLed, 'x.yaml')).toThrow(/x\.yaml:4:3 instruments: expected a led-driver entry/);
    expect(() => parseStation(`${GOOD}  cmos-receiver: { resource: "TCPIP0::h::1::SOCKET" }\n`, 'x.yaml')).toThrow(
      /instruments\.cmos-receiver: expected one receiver, not both/,
    );
    expect(() => parseStation(GOOD.replace('"PDRX"', '"(PDRX"'), 'x.yaml')).toThrow(
      /x\.yaml:7:73 instruments\.pd-receiver\.identity: expected a valid regular expression/,
    );
    const tec = `${GOOD}  tec: { resource: "TCPIP0::h::1::SOCKET", limits: { minC: 50, maxC: 20 }, idleC: 25 }\n`;
    expect(() => parseStation(tec, 'x.yaml')).toThrow(
      /instruments\.tec\.limits\.maxC: expected a number > limits\.minC/,
    );
    expect(() => parseStation(GOOD.replace('spares: []', 'spares: [401]'), 'x.yaml')).toThrow(
      /lanes\.spares\[0\]: expected a lane in 1\.\.400/,
    );
  });

  it('refuses an operating point above the current limit and a rate range that runs backwards', () => {
    const op = GOOD.replace(
      'limits: { maxCurrentA: 0.0006 }',
      'limits: { maxCurrentA: 0.0006 }\n    operating: { biasA: 0.0004, modA: 0.0004 }',
    );
    expect(() => parseStation(op, 'x.yaml')).toThrow(
      /^x\.yaml:\d+:\d+ instruments\.led-driver\.operating: an operating point within limits\.maxCurrentA 0\.0006 A/,
    );
    const rate = GOOD.replace('maxCurrentA: 0.0006 }', 'maxCurrentA: 0.0006, rateBps: [4.0e9, 1.0e9] }');
    expect(() => parseStation(rate, 'x.yaml')).toThrow(
      /instruments\.led-driver\.limits\.rateBps: a range \[min, max\] with min ≤ max/,
    );
    const fine = parseStation(
      GOOD.replace(
        'maxCurrentA: 0.0006 }',
        'maxCurrentA: 0.0006, rateBps: [0.5e9, 4.0e9] }\n    operating: { biasA: 4.0e-5, modA: 3.2e-4 }',
      ),
      'x.yaml',
    );
    expect(fine.instruments['led-driver']).toMatchObject({
      limits: { rateBps: [0.5e9, 4e9] },
      operating: { biasA: 4e-5, modA: 3.2e-4 },
    });
  });

  it('reports YAML syntax errors and missing files with a position', () => {
    expect(() => parseStation('name: [unclosed\n', 'y.yaml')).toThrow(/^y\.yaml:\d+:\d+ \(document\): valid YAML/);
    expect(() => loadStation(path.join(dir, 'nope.yaml'))).toThrow(
      /nope\.yaml:0:0 \(document\): a readable file, got no such file/,
    );
  });
});
