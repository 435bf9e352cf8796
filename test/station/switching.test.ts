/**
 * A detector or a meter behind an optical switch (the station's `switching:` section): what the station refuses
 * at load and at open (before a byte goes to an instrument), and the composites on the live mosaic-800g-bert
 * bench: one error detector over every lane in gates of 4, one lane-power monitor from the meter.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stationLoadContext } from '../../src/app/context.ts';
import type { OpticalSwitch } from '../../src/instruments/capabilities.ts';
import type { Pm100d } from '../../src/instruments/thorlabs-pm100d/driver.ts';
import { builtinSequenceDir, loadSequence } from '../../src/orchestrator/sequence.ts';
import { startBench } from '../../src/sim/bench.ts';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { parseStation, type StationConfig, stationFromObject } from '../../src/station/schema.ts';
import { openStation, StationError } from '../../src/station/station.ts';
import { createStepRegistry } from '../../src/steps/registry.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { rawPeer, refusingPort } from '../helpers/raw-peer.ts';

const cleanups = cleanupsAfterEach();

const FIXTURE = readFileSync('fixtures/stations/mosaic-800g-bert.yaml', 'utf8');

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected it to throw');
}

describe('switching: refused at load', () => {
  it('a port map that leaves lanes a run tests without a port, naming them', () => {
    const short = FIXTURE.replace(
      'ports: [ { ports: [1, 400], lanes: [1, 400] } ]',
      'ports: [ { ports: [1, 396], lanes: [1, 396] } ]',
    );
    expect(errorOf(() => parseStation(short, 'bert.yaml'))).toMatch(
      /^bert\.yaml:\d+:\d+ switching\.ports: a switch port for every lane a run tests \(the active lanes and the spares\); lanes 397-400 have none/,
    );
    // spares count: a run may move a lane to one
    const spares = FIXTURE.replace('active: 400, spares: []', 'active: 390, spares: [399, 400]').replace(
      'ports: [ { ports: [1, 400], lanes: [1, 400] } ]',
      'ports: [ { ports: [1, 398], lanes: [1, 398] } ]',
    );
    expect(errorOf(() => parseStation(spares, 'bert.yaml'))).toMatch(/lanes 399-400 have none/);
    // lanes the run does not test need no port
    const fewer = FIXTURE.replace('active: 400, spares: []', 'active: 396, spares: []').replace(
      'ports: [ { ports: [1, 400], lanes: [1, 400] } ]',
      'ports: [ { ports: [5, 400], lanes: [1, 396] } ]',
    );
    expect(parseStation(fewer, 'bert.yaml').switching!.ports).toEqual([{ ports: [5, 400], lanes: [1, 396] }]);
  });

  it('ranges of different lengths, a lane mapped twice, a channel feeding two inputs, the wrong instruments', () => {
    const ranges = FIXTURE.replace(
      'ports: [ { ports: [1, 400], lanes: [1, 400] } ]',
      'ports: [ { ports: [1, 200], lanes: [1, 201] }, { ports: [201, 400], lanes: [200, 399] } ]',
    );
    const m = errorOf(() => parseStation(ranges, 'bert.yaml'));
    expect(m).toMatch(/switching\.ports\[0\]: a port range and a lane range of the same length/);
    const twice = FIXTURE.replace(
      'ports: [ { ports: [1, 400], lanes: [1, 400] } ]',
      'ports: [ { ports: [1, 200], lanes: [1, 200] }, { ports: [201, 401], lanes: [200, 400] } ]',
    );
    expect(errorOf(() => parseStation(twice, 'bert.yaml'))).toMatch(
      /switching\.ports\[1\]\.lanes: each lane once; lane 200 is mapped twice/,
    );
    const feeds = FIXTURE.replace('channels: [1, 2, 3, 4] }', 'channels: [1, 2, 3, 5] }');
    expect(errorOf(() => parseStation(feeds, 'bert.yaml'))).toMatch(
      /switching: each switch channel feeding one input; channel 5 feeds several/,
    );
    const wrong = FIXTURE.replace('errorDetector: { instrument: bert,', 'errorDetector: { instrument: attenuator,');
    expect(errorOf(() => parseStation(wrong, 'bert.yaml'))).toMatch(
      /switching\.errorDetector\.instrument: an instrument providing error-detector; attenuator provides attenuator/,
    );
    const none = FIXTURE.replace('switch: lane-switch', 'switch: lane-switch-2');
    expect(errorOf(() => parseStation(none, 'bert.yaml'))).toMatch(
      /switching\.switch: an instrument of the station, got "lane-switch-2"/,
    );
  });

  it("a driver setting of the wrong type, named with the driver's key", () => {
    expect(
      errorOf(() =>
        parseStation(
          FIXTURE.replace('    channels: 4\n  lane-switch', '    channels: four\n  lane-switch'),
          'bert.yaml',
        ),
      ),
    ).toMatch(/^bert\.yaml:\d+:\d+ instruments\.bert\.channels: expected a number.*got "four"/);
    expect(errorOf(() => parseStation(FIXTURE.replace('    lane: 1\n', '    lane: 1.5\n'), 'bert.yaml'))).toMatch(
      /instruments\.smu\.lane: expected an int, got 1\.5/,
    );
  });
});

describe('switching: refused at open, before anything is driven', () => {
  /** The fixture with every resource on one listening peer that counts connections. */
  async function unreachable(yaml: string) {
    const peer = await rawPeer(() => undefined);
    cleanups.push(() => peer.close());
    const text = yaml.replace(/TCPIP0::127\.0\.0\.1::\d+::SOCKET/g, `TCPIP0::127.0.0.1::${peer.port}::SOCKET`);
    return { config: parseStation(text, 'bert.yaml'), peer };
  }

  it('an error detector with fewer channels than lanes and no switch in front of it', async () => {
    const noSwitch = FIXTURE.slice(0, FIXTURE.lastIndexOf('\nswitching:') + 1);
    const { config, peer } = await unreachable(noSwitch);
    const err = await openStation(config, { reconnect: false }).catch((e: unknown) => e as StationError);
    expect(err).toBeInstanceOf(StationError);
    expect((err as StationError).message).toBe(
      'station "mosaic-800g-bert-sim": bert counts 4 lanes in a gate and the station has 400: put an optical switch in front of it and say how in a switching: section (README "Station files")',
    );
    expect(peer.sockets.size).toBe(0);
  });

  it("a switch channel or port the switch does not have, more inputs than the detector's", async () => {
    const four = FIXTURE.replace('    channels: 5\n    ports: 400', '    channels: 4\n    ports: 400');
    const a = await unreachable(four);
    await expect(openStation(a.config, { reconnect: false })).rejects.toThrow(
      /switching: channel 5 is beyond lane-switch's 4 channels/,
    );
    const ports = FIXTURE.replace('    channels: 5\n    ports: 400', '    channels: 5\n    ports: 399');
    const b = await unreachable(ports);
    await expect(openStation(b.config, { reconnect: false })).rejects.toThrow(
      /switching: port 400 is beyond lane-switch's 399 ports/,
    );
    const inputs = FIXTURE.replace('    module: 1\n    channels: 4', '    module: 1\n    channels: 2');
    const c = await unreachable(inputs);
    await expect(openStation(c.config, { reconnect: false })).rejects.toThrow(
      /switching: 4 switch channels feed bert, which has 2 inputs/,
    );
    expect([a, b, c].map((x) => x.peer.sockets.size)).toEqual([0, 0, 0]);
  });

  it('a step needing exactly one error detector, on a station with two, is refused at sequence load', async () => {
    const two = [
      'name: two-detectors',
      'lanes: { rows: 2, cols: 2 }',
      'instruments:',
      '  led-driver: { driver: cpobench-led-board, resource: "TCPIP0::127.0.0.1::1::SOCKET", limits: { maxCurrentA: 0.0006 } }',
      '  pd-receiver: { driver: cpobench-pd-kit, resource: "TCPIP0::127.0.0.1::2::SOCKET" }',
      '  bert: { driver: anritsu-mp1900a, resource: "TCPIP0::127.0.0.1::3::SOCKET" }',
      '  power-analyzer: { driver: keysight-n6705c, resource: "TCPIP0::127.0.0.1::4::SOCKET", rails: [ { channel: 1, name: a, counted: true } ] }',
    ].join('\n');
    const refusing = await refusingPort(); // nothing answers there: the station only needs to open, not talk
    cleanups.push(() => refusing.close());
    const port = refusing.port;
    const config = parseStation(two.replace(/127\.0\.0\.1::\d+::/g, `127.0.0.1::${port}::`), 'two.yaml');
    const st = await openStation(config, { reconnect: false, verify: false, init: false });
    cleanups.push(() => st.close());
    expect(st.providers('error-detector')).toEqual(['pd-receiver', 'bert']);
    const file = `${builtinSequenceDir()}/smoke.yaml`;
    expect(errorOf(() => loadSequence(file, createStepRegistry(), stationLoadContext(st)))).toMatch(
      /steps\[1\]\.type: one error-detector for step ber-screen \(ber\), but the station has 2: pd-receiver, bert \(narrow the others with provides:\)/,
    );
  });
});

describe('the composites on the simulated mosaic-800g-bert bench', () => {
  async function open(): Promise<{
    config: StationConfig;
    st: Awaited<ReturnType<typeof openStation>>;
    bench: Awaited<ReturnType<typeof startBench>>;
  }> {
    const bench = await startBench({ profile: 'mosaic-800g-bert', timeScale: 100000 });
    cleanups.push(() => bench.close());
    const config = stationFromObject(bench.station, 'sim bert');
    const st = await openStation(config);
    cleanups.push(() => st.close());
    await st.safeState({ timeoutMs: 2000 });
    await st.prepare();
    return { config, st, bench };
  }

  it('one error detector over all 400 lanes, 4 per gate: a batch is routed to the inputs before its gate', async () => {
    const { st, bench } = await open();
    expect(st.providers('error-detector')).toEqual(['bert via lane-switch']);
    expect(st.providers('lane-power-monitor')).toEqual(['optical-meter via lane-switch']);
    expect(st.providers('optical-power-meter')).toEqual(['optical-meter']);
    const ed = st.get('error-detector');
    expect(ed.maxLanesPerGate).toBe(4);
    const src = st.get('current-source');
    const lit = [397, 398, 399, 400];
    await src.setBias(lit, src.operatingPoint!.biasA);
    await src.setModulation(lit, src.operatingPoint!.modA);
    await src.setOutput(lit, true);
    await ed.setCheckerPattern([397, 398, 399, 400], 'PRBS31');
    expect(await (st.get('optical-switch') as OpticalSwitch).routes([1, 2, 3, 4])).toEqual([397, 398, 399, 400]);
    expect(await ed.lossOfSignal([400, 397])).toEqual([false, false]);
    await ed.startGate(2);
    while (await ed.gateRunning()) await new Promise((r) => setTimeout(r, 1));
    const c = await ed.readCounters([397, 400]);
    expect(c).toEqual({ lanes: [397, 400], bits: [4e9, 4e9], errors: [0, 0] });
    expect(await ed.syncStatus([398])).toEqual([true]);
    await expect(ed.readCounters([1])).rejects.toThrow(
      /bert via lane-switch: lane 1 is not routed to the detector \(setCheckerPattern routes the lanes of a gate first\)/,
    );
    await expect(ed.setCheckerPattern([1, 2, 3, 4, 5], 'PRBS31')).rejects.toThrow(/5 lanes for a gate of 1..4/);
    expect(bench.model.getPathLoss([397])[0]).toBeCloseTo(0.5, 9); // the switch, the attenuator open at 0 dB
  });

  it('a lane-power monitor from the meter on the switch: power per lane, photocurrent at 0.25 A/W', async () => {
    const { st, bench } = await open();
    await (st.instrument('optical-meter') as Pm100d).zero(); // the dark level, zeroed while the bench is dark
    const src = st.get('current-source');
    await src.setBias([1, 2, 3], src.operatingPoint!.biasA);
    await src.setModulation([1, 2, 3], src.operatingPoint!.modA);
    await src.setOutput([1, 2, 3], true);
    const lpm = st.get('lane-power-monitor');
    const p = await lpm.receivedPower([1, 2, 3, 200]);
    const model = bench.model.receivedPower();
    [1, 2, 3, 200].forEach((lane, i) => {
      expect(Math.abs(p[i]! - model[lane - 1]! * 10 ** -0.05)).toBeLessThanOrEqual(model[lane - 1]! * 1e-6 + 1e-15);
    });
    expect(p[0]).toBeGreaterThan(1e-6);
    expect(p[3]).toBeLessThan(p[0]! / 100); // dark, a little crosstalk at most
    const i = await lpm.photocurrent([2]);
    expect(i[0]! / p[1]!).toBeCloseTo(0.25, 5);
  });
});

describe('*IDN? that matches the expected driver', () => {
  it('names what the instrument answered and the registered drivers whose identity matches it', async () => {
    const bench = await startBench({ profile: 'mosaic-800g-bert' });
    cleanups.push(() => bench.close());
    const doc = structuredClone(bench.station);
    doc.instruments.bert!.resource = doc.instruments['lane-switch']!.resource; // the cables swapped
    const st = await openStation(stationFromObject(doc), { reconnect: false });
    cleanups.push(() => st.close());
    const info = st.instruments().find((i) => i.role === 'bert')!;
    expect(info.state).toBe('wrong-identity');
    expect(info.error).toMatch(
      /^bert at TCPIP0::127\.0\.0\.1::\d+::SOCKET refused: it answered \*IDN\? "Keysight Technologies,N7734A,MY53400123,1\.3\.0", which does not match the expected identity \/MP1900A\/ \(driver anritsu-mp1900a\); registered drivers whose identity matches it: keysight-n7734a$/,
    );
  });

  it('names the drivers it tried when none matches', async () => {
    const odd = new ScpiInstrument({
      role: 'odd',
      identity: { manufacturer: 'ACME', model: 'BERT-9', serial: '1', firmware: '0' },
    });
    const server = await serveTcp(odd, { host: '127.0.0.1', port: 0 });
    cleanups.push(() => server.close());
    const bench = await startBench({ profile: 'mosaic-800g-bert' });
    cleanups.push(() => bench.close());
    const doc = structuredClone(bench.station);
    doc.instruments.bert!.resource = server.resource;
    const st = await openStation(stationFromObject(doc), { reconnect: false });
    cleanups.push(() => st.close());
    const err = await st.verifyIdentities().catch((e: unknown) => e as Error);
    expect((err as Error).message).toMatch(
      /^bert at .* refused: it answered \*IDN\? "ACME,BERT-9,1,0", which does not match the expected identity \/MP1900A\/ \(driver anritsu-mp1900a\); no registered driver matches it \(tried: cpobench-led-board \/.*\/, .*anritsu-mp1900a \/MP1900A\/, keysight-n7734a \/N7734A\/, keysight-n7764a \/N7764A\/, newport-1936r \/\[12\]936-R\/\)$/,
    );
  });
});
