import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config/load-yaml.ts';
import { createDriverRegistry } from '../../src/instruments/registry.ts';
import { laneTotal, loadStation, parseStation, stationInstruments } from '../../src/station/schema.ts';
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
    driver: cpobench-led-board
    resource: "TCPIP0::127.0.0.1::5025::SOCKET"
    limits: { maxCurrentA: 0.0006 }
  pd-receiver: { driver: cpobench-pd-kit, resource: "TCPIP0::127.0.0.1::5026::SOCKET", identity: "PDRX" }
`;

const led = (s: { instruments: Record<string, { settings: unknown }> }, name = 'led-driver') =>
  s.instruments[name]!.settings as { limits: { maxCurrentA: number; rateBps?: number[] }; operating?: unknown };

describe('station files', () => {
  it('loads every shipped station fixture', () => {
    for (const name of ['mosaic-800g', 'mosaic-800g-cmos', 'mosaic-800g-bert', 'lightbundle-512g', 'serial-bench']) {
      const s = loadStation(`fixtures/stations/${name}.yaml`);
      expect(s.instruments['led-driver']!.driver).toBe('cpobench-led-board');
      expect(led(s).limits.maxCurrentA).toBeGreaterThan(0);
    }
    const bert = loadStation('fixtures/stations/mosaic-800g-bert.yaml');
    expect(Object.values(bert.instruments).map((i) => i.driver)).toEqual([
      'cpobench-led-board',
      'keithley-2450',
      'anritsu-mp1900a',
      'keysight-n7734a',
      'keysight-n7764a',
      'keysight-n6705c',
      'thorlabs-pm100d',
      'thorlabs-ted4015',
    ]);
    expect(bert.switching).toMatchObject({ switch: 'lane-switch', errorDetector: { channels: [1, 2, 3, 4] } });
    const lb = loadStation('fixtures/stations/lightbundle-512g.yaml');
    expect(laneTotal(lb)).toBe(320);
    expect(lb.lanes.spares).toHaveLength(64);
    expect(lb.lanes.active).toBe(256);
    expect(stationInstruments(loadStation('fixtures/stations/mosaic-800g-cmos.yaml'))).toEqual([
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

  it("applies defaults: timeout, the driver's identity, checkErrors, capabilities, lane order, its settings'", () => {
    const s = parseStation(
      `${GOOD}  analyzer: { driver: keysight-n6705c, resource: "TCPIP0::h::5027::SOCKET", rails: [ { channel: 1, name: a } ] }\n`,
    );
    expect(s.instruments['led-driver']).toMatchObject({
      driver: 'cpobench-led-board',
      timeoutMs: 2000,
      identity: ',ULED-DRV-',
      checkErrors: true,
      provides: ['current-source', 'pattern-generator'],
    });
    expect(s.lanes.order).toBe('row-major');
    expect(s.instruments.analyzer!.settings).toEqual({
      rails: [{ channel: 1, name: 'a', counted: true }],
      safe: { outputs: 'keep' },
    });
  });

  it('refuses an unknown driver listing the known ones, a setting the driver does not take, and a missing one', () => {
    // every registered model, sorted (a model added to the registry appears here without editing this test)
    const models = [...createDriverRegistry().keys()].sort();
    expect(models).toEqual(expect.arrayContaining(['cpobench-pd-kit', 'keysight-n6705c', 'thorlabs-ted4015']));
    expect(() => parseStation(GOOD.replace('driver: cpobench-pd-kit', 'driver: acme-9000'), 'x.yaml')).toThrow(
      `x.yaml:8:26 instruments.pd-receiver.driver: one of the registered drivers: ${models.join(', ')} (cpobench drivers lists them), got "acme-9000"`,
    );
    // the PD kit takes no limits: a key of another driver's is refused on this one
    expect(() =>
      parseStation(GOOD.replace('identity: "PDRX" }', 'identity: "PDRX", limits: { maxCurrentA: 1 } }'), 'x.yaml'),
    ).toThrow(/instruments\.pd-receiver: unknown key "limits"|instruments\.pd-receiver\.limits: unknown key/);
    expect(() => parseStation(GOOD.replace('\n    limits: { maxCurrentA: 0.0006 }', ''), 'x.yaml')).toThrow(
      /instruments\.led-driver\.limits: expected an object/,
    );
    expect(() =>
      parseStation(GOOD.replace('identity: "PDRX" }', 'identity: "PDRX", provides: [rail-meter] }'), 'x.yaml'),
    ).toThrow(
      /instruments\.pd-receiver\.provides\[0\]: a capability of cpobench-pd-kit: error-detector, decision-threshold, lane-deskew, lane-power-monitor/,
    );
  });

  it('an old-form station (instruments keyed by role, no driver) says what line to add', () => {
    const old = GOOD.replace('    driver: cpobench-led-board\n', '');
    expect(() => parseStation(old, 'old.yaml')).toThrow(
      /^old\.yaml:5:5 instruments\.led-driver: a "driver" key: station files now name each instrument's model; this one is the old form of "driver: cpobench-led-board"/,
    );
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
    expect(err!.message).toBe(`${f}:7:28 instruments.led-driver.limits.maxCurrentA: expected a number > 0, got -1`);
  });

  it('refuses unknown keys, bad patterns, and TEC limits that cross', () => {
    expect(() => parseStation(GOOD.replace('name: t', 'name: t\nbogus: 1'), 'x.yaml')).toThrow(
      /^x\.yaml:2:1 bogus: unknown key/,
    );
    expect(() => parseStation(GOOD.replace('limits: {', 'limit: {'), 'x.yaml')).toThrow(
      /instruments\.led-driver\.limit: unknown key/,
    );
    expect(() => parseStation(GOOD.replace('"PDRX"', '"(PDRX"'), 'x.yaml')).toThrow(
      /x\.yaml:8:98 instruments\.pd-receiver\.identity: expected a valid regular expression/,
    );
    const tec = `${GOOD}  tec: { driver: thorlabs-ted4015, resource: "TCPIP0::h::1::SOCKET", limits: { minC: 50, maxC: 20 }, idleC: 25 }\n`;
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
    expect(fine.instruments['led-driver']!.settings).toMatchObject({
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
