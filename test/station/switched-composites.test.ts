/**
 * The `switching:` section as a user sees it (each refusal at file:line:column with the section's key path, as the
 * README's "Station files" describes it), the port map, and the two composites behind the switch on fakes that
 * record every call: an error detector refusing more lanes than its channels per gate and a lane without a switch
 * port, and a lane-power monitor whose settle wait runs on the instrument clock. Every expected value is written by
 * hand from the station-file format and the fixture's text.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { InstrumentClock } from '../../src/core/instrument-clock.ts';
import type {
  ErrorDetector,
  GateResult,
  Identity,
  OpticalPowerMeter,
  OpticalSwitch,
  SwitchRoute,
} from '../../src/instruments/capabilities.ts';
import { StationError } from '../../src/station/errors.ts';
import { parseStation } from '../../src/station/schema.ts';
import { SwitchedErrorDetector } from '../../src/station/switched-detector.ts';
import { SwitchedPowerMonitor } from '../../src/station/switched-power-monitor.ts';
import { PortMap } from '../../src/station/switching.ts';

const FIXTURE = readFileSync('fixtures/stations/mosaic-800g-bert.yaml', 'utf8');
/** The fixture up to its `switching:` section: 69 lines, so `switching:` is line 70 and its first key line 71. */
const HEAD = FIXTURE.slice(0, FIXTURE.lastIndexOf('\nswitching:') + 1);

/** The fixture with this switching section (each line indented two spaces under `switching:`, from line 71 on). */
function withSection(...lines: string[]): string {
  return `${HEAD}switching:\n${lines.map((l) => `  ${l}`).join('\n')}\n`;
}

const SWITCH = 'switch: lane-switch';
const PORTS = 'ports: [ { ports: [1, 400], lanes: [1, 400] } ]';
const DETECTOR = 'errorDetector: { instrument: bert, channels: [1, 2, 3, 4] }';
const METER = 'powerMonitor: { instrument: optical-meter, channel: 5, responsivityAW: 0.25 }';

function errorOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected it to throw');
}

describe('the switching section, refused at load at file:line:col', () => {
  it('the fixture line 70 on is the section: lines 1-69 are the rest of the station', () => {
    expect(HEAD.split('\n')).toHaveLength(70); // 69 lines and the empty string after the last newline
    expect(parseStation(withSection(SWITCH, PORTS, DETECTOR, METER), 'bert.yaml').switching).toEqual({
      switch: 'lane-switch',
      ports: [{ ports: [1, 400], lanes: [1, 400] }],
      errorDetector: { instrument: 'bert', channels: [1, 2, 3, 4] },
      powerMonitor: { instrument: 'optical-meter', channel: 5, responsivityAW: 0.25, settleMs: 0 },
    });
  });

  it('a detector alone or a meter alone behind the switch is a whole section; neither is refused', () => {
    const detectorOnly = parseStation(withSection(SWITCH, PORTS, DETECTOR), 'bert.yaml').switching!;
    expect(detectorOnly.powerMonitor).toBeUndefined();
    expect(detectorOnly.errorDetector).toEqual({ instrument: 'bert', channels: [1, 2, 3, 4] });
    // a meter alone: no detector channels, the meter's channel 5 only (and the bert needs a switch in front of it
    // only when the station is opened)
    const meterOnly = parseStation(withSection(SWITCH, PORTS, METER), 'bert.yaml').switching!;
    expect(meterOnly.errorDetector).toBeUndefined();
    expect(meterOnly.powerMonitor?.channel).toBe(5);
    // the switch alone: the section is a mapping at line 71, column 3
    expect(errorOf(() => parseStation(withSection(SWITCH, PORTS), 'bert.yaml'))).toBe(
      'bert.yaml:71:3 switching: an errorDetector or a powerMonitor behind the switch, got a mapping',
    );
  });

  it("an instrument in the meter's place that measures no optical power, naming what it provides", () => {
    const analyzer = 'powerMonitor: { instrument: power-analyzer, channel: 5, responsivityAW: 0.25 }';
    expect(errorOf(() => parseStation(withSection(SWITCH, PORTS, DETECTOR, analyzer), 'bert.yaml'))).toBe(
      'bert.yaml:74:31 switching.powerMonitor.instrument: an instrument providing optical-power-meter; ' +
        'power-analyzer provides rail-meter, supply, got "power-analyzer"',
    );
    // a meter narrowed to provide nothing
    const narrowed = withSection(SWITCH, PORTS, DETECTOR, METER).replace(
      '    wavelengthNm: 450\n',
      '    wavelengthNm: 450\n    provides: []\n',
    );
    expect(errorOf(() => parseStation(narrowed, 'bert.yaml'))).toBe(
      'bert.yaml:75:31 switching.powerMonitor.instrument: an instrument providing optical-power-meter; ' +
        'optical-meter provides nothing, got "optical-meter"',
    );
  });

  it('switch channels feeding several inputs, each named once, the section at line 71', () => {
    const twice = 'errorDetector: { instrument: bert, channels: [1, 1, 2, 2] }';
    expect(errorOf(() => parseStation(withSection(SWITCH, PORTS, twice, METER), 'bert.yaml'))).toBe(
      'bert.yaml:71:3 switching: each switch channel feeding one input; channel 1, 2 feeds several, got a mapping',
    );
    // the meter's channel counts too
    const meterOnFive = 'errorDetector: { instrument: bert, channels: [5, 2, 3, 4] }';
    expect(errorOf(() => parseStation(withSection(SWITCH, PORTS, meterOnFive, METER), 'bert.yaml'))).toBe(
      'bert.yaml:71:3 switching: each switch channel feeding one input; channel 5 feeds several, got a mapping',
    );
  });

  it('a range written high to low, refused at the range; its lanes then have no port', () => {
    const backwards = 'ports: [ { ports: [400, 1], lanes: [400, 1] } ]';
    expect(errorOf(() => parseStation(withSection(SWITCH, backwards, DETECTOR, METER), 'bert.yaml'))).toBe(
      [
        'bert.yaml:72:12 switching.ports[0]: a port range and a lane range of the same length, low to high, got a mapping',
        'bert.yaml:72:10 switching.ports: a switch port for every lane a run tests (the active lanes and the spares); ' +
          'lanes 1-400 have none, got a list of 1',
      ].join('\n'),
    );
  });

  it('a range of one port is a range (low = high)', () => {
    const split = 'ports: [ { ports: [1, 399], lanes: [1, 399] }, { ports: [400, 400], lanes: [400, 400] } ]';
    expect(parseStation(withSection(SWITCH, split, DETECTOR, METER), 'bert.yaml').switching!.ports).toEqual([
      { ports: [1, 399], lanes: [1, 399] },
      { ports: [400, 400], lanes: [400, 400] },
    ]);
  });

  it('lanes beyond the station, refused at the lane range; those lanes then have no port', () => {
    const beyond = 'ports: [ { ports: [1, 401], lanes: [1, 401] } ]';
    expect(errorOf(() => parseStation(withSection(SWITCH, beyond, DETECTOR, METER), 'bert.yaml'))).toBe(
      [
        'bert.yaml:72:38 switching.ports[0].lanes: lanes of the station, 1..400, got a list of 2',
        'bert.yaml:72:10 switching.ports: a switch port for every lane a run tests (the active lanes and the spares); ' +
          'lanes 1-400 have none, got a list of 1',
      ].join('\n'),
    );
  });

  it('a port mapped twice, refused at the port range of the second mapping', () => {
    const overlap = 'ports: [ { ports: [1, 200], lanes: [1, 200] }, { ports: [200, 399], lanes: [201, 400] } ]';
    expect(errorOf(() => parseStation(withSection(SWITCH, overlap, DETECTOR, METER), 'bert.yaml'))).toBe(
      'bert.yaml:72:59 switching.ports[1].ports: each port once; port 200 is mapped twice, got a list of 2',
    );
  });

  it('one lane without a port is named in the singular', () => {
    const short = 'ports: [ { ports: [1, 399], lanes: [1, 399] } ]';
    expect(errorOf(() => parseStation(withSection(SWITCH, short, DETECTOR, METER), 'bert.yaml'))).toBe(
      'bert.yaml:72:10 switching.ports: a switch port for every lane a run tests (the active lanes and the spares); ' +
        'lane 400 has none, got a list of 1',
    );
  });

  it('settleMs: any wait from 0 up, 0 when not given; a negative one refused at its value', () => {
    const settle = 'powerMonitor: { instrument: optical-meter, channel: 5, responsivityAW: 0.25, settleMs: 250 }';
    expect(parseStation(withSection(SWITCH, PORTS, DETECTOR, settle), 'bert.yaml').switching!.powerMonitor).toEqual({
      instrument: 'optical-meter',
      channel: 5,
      responsivityAW: 0.25,
      settleMs: 250,
    });
    const negative = 'powerMonitor: { instrument: optical-meter, channel: 5, responsivityAW: 0.25, settleMs: -1 }';
    expect(errorOf(() => parseStation(withSection(SWITCH, PORTS, DETECTOR, negative), 'bert.yaml'))).toBe(
      'bert.yaml:74:90 switching.powerMonitor.settleMs: expected a number >= 0, got -1',
    );
  });
});

describe('PortMap: switch port <-> lane', () => {
  it('port p of a range carries lane p - ports[0] + lanes[0], both ways', () => {
    const m = new PortMap([
      { ports: [5, 7], lanes: [10, 12] },
      { ports: [1, 2], lanes: [20, 21] },
    ]);
    expect([10, 11, 12, 20, 21].map((l) => m.portOf(l))).toEqual([5, 6, 7, 1, 2]);
    expect([5, 6, 7, 1, 2].map((p) => m.laneOf(p))).toEqual([10, 11, 12, 20, 21]);
    expect(m.portOf(13)).toBeUndefined();
    expect(m.laneOf(3)).toBeUndefined();
    expect(m.highestPort).toBe(7);
    expect(new PortMap([]).highestPort).toBe(0);
  });
});

/** A switch that records what it is asked. */
function fakeSwitch(log: string[]): OpticalSwitch {
  return {
    role: 'lane-switch',
    channels: 5,
    ports: 400,
    route: async (routes: readonly SwitchRoute[]) => {
      log.push(`route ${routes.map((r) => `${r.channel}->${r.port}`).join(' ')}`);
    },
    routes: async (channels: readonly number[]) => channels.map(() => 0),
    identify: async () => ({
      manufacturer: 'Keysight',
      model: 'N7734A',
      serial: 'S',
      firmware: '1',
      raw: 'Keysight,N7734A,S,1',
    }),
    selfTest: async () => 0,
    clearErrors: async () => [],
    safeState: async () => 'all channels disconnected',
  };
}

const DETECTOR_ID: Identity = {
  manufacturer: 'Anritsu',
  model: 'MP1900A',
  serial: '7',
  firmware: '2',
  raw: 'ANRITSU,MP1900A,7,2',
};

/** A 4-input detector that records what it is asked; `running` is what gateRunning answers. */
function fakeDetector(log: string[], running: { value: boolean }): ErrorDetector {
  return {
    role: 'bert',
    maxLanesPerGate: 4,
    setCheckerPattern: async (inputs, pattern) => {
      log.push(`checker ${inputs.join(',')} ${pattern}`);
    },
    startGate: async (seconds) => {
      log.push(`start ${seconds}`);
    },
    gateRunning: async () => running.value,
    stopGate: async () => {
      log.push('stop');
    },
    readCounters: async (inputs): Promise<GateResult> => ({
      lanes: [...inputs],
      bits: inputs.map((i) => i * 1000),
      errors: inputs.map((i) => i),
    }),
    syncStatus: async (inputs) => inputs.map((i) => i % 2 === 0),
    lossOfSignal: async (inputs) => inputs.map((i) => i === 3),
    identify: async () => DETECTOR_ID,
    selfTest: async () => 17,
    clearErrors: async () => ['-100,"Command error"'],
    safeState: async () => 'pattern off',
  };
}

function switchedDetector(log: string[], running = { value: false }) {
  return new SwitchedErrorDetector({
    name: 'bert via lane-switch',
    sw: fakeSwitch(log),
    detector: fakeDetector(log, running),
    ports: new PortMap([{ ports: [1, 396], lanes: [5, 400] }]), // lanes 1-4 have no port
    feeds: [2, 4, 1],
  });
}

async function stationErrorOf(p: Promise<unknown>): Promise<StationError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(StationError);
  return e as StationError;
}

describe('an error detector behind a switch', () => {
  it('counts as many lanes per gate as switch channels feed it, and routes a gate before setting its checker', async () => {
    const log: string[] = [];
    const ed = switchedDetector(log);
    expect(ed.maxLanesPerGate).toBe(3);
    expect(ed.role).toBe('bert via lane-switch');
    await ed.setCheckerPattern([10, 400, 5], 'PRBS31');
    // lane l is on port l - 4; lane k of the gate goes to the channel feeding input k
    expect(log).toEqual(['route 2->6 4->396 1->1', 'checker 1,2,3 PRBS31']);
    expect(await ed.readCounters([5, 10])).toEqual({ lanes: [5, 10], bits: [3000, 1000], errors: [3, 1] });
    expect(await ed.syncStatus([10, 400, 5])).toEqual([false, true, false]);
    expect(await ed.lossOfSignal([5, 400])).toEqual([true, false]);
  });

  it('refuses a gate of no lanes or of more lanes than its channels, before the switch moves', async () => {
    const log: string[] = [];
    const ed = switchedDetector(log);
    const none = await stationErrorOf(ed.setCheckerPattern([], 'PRBS31'));
    expect(none.code).toBe('E_STATION');
    expect(none.message).toBe('bert via lane-switch: 0 lanes for a gate of 1..3');
    const four = await stationErrorOf(ed.setCheckerPattern([5, 6, 7, 8], 'PRBS31'));
    expect(four.code).toBe('E_STATION');
    expect(four.message).toBe('bert via lane-switch: 4 lanes for a gate of 1..3');
    expect(log).toEqual([]);
    await ed.setCheckerPattern([5, 6, 7], 'PRBS7'); // three is a whole gate
    expect(log).toEqual(['route 2->1 4->2 1->3', 'checker 1,2,3 PRBS7']);
  });

  it('refuses a lane without a switch port, naming it, before the switch moves', async () => {
    const log: string[] = [];
    const ed = switchedDetector(log);
    const e = await stationErrorOf(ed.setCheckerPattern([5, 3], 'PRBS31'));
    expect(e.code).toBe('E_STATION');
    expect(e.message).toBe('bert via lane-switch: lane 3 has no switch port (switching.ports)');
    expect(log).toEqual([]);
  });

  it('refuses to read a lane not routed to it, and forgets the last gate once a new one is routed', async () => {
    const log: string[] = [];
    const ed = switchedDetector(log);
    const before = await stationErrorOf(ed.readCounters([5]));
    expect(before.code).toBe('E_STATION');
    expect(before.message).toBe(
      'bert via lane-switch: lane 5 is not routed to the detector (setCheckerPattern routes the lanes of a gate first)',
    );
    await ed.setCheckerPattern([5, 6], 'PRBS31');
    await ed.setCheckerPattern([7], 'PRBS31');
    // a rejected promise, like every instrument call (not an exception thrown as it is called)
    const pending = ed.syncStatus([5]);
    const stale = await stationErrorOf(pending);
    expect(stale.message).toMatch(/^bert via lane-switch: lane 5 is not routed to the detector/);
    await expect(ed.lossOfSignal([5])).rejects.toThrow(/lane 5 is not routed/);
    expect(await ed.lossOfSignal([7])).toEqual([false]); // input 1
  });

  it("the gate, its state and the instrument calls are the detector's; its safe state is both parts'", async () => {
    const log: string[] = [];
    const running = { value: true };
    const ed = switchedDetector(log, running);
    await ed.startGate(2.5);
    expect(await ed.gateRunning()).toBe(true);
    running.value = false;
    expect(await ed.gateRunning()).toBe(false);
    await ed.stopGate();
    expect(log).toEqual(['start 2.5', 'stop']);
    expect(await ed.identify()).toEqual(DETECTOR_ID);
    expect(await ed.selfTest()).toBe(17);
    expect(await ed.clearErrors()).toEqual(['-100,"Command error"']);
    expect(await ed.safeState()).toBe('pattern off; all channels disconnected');
  });
});

/** A clock that only records the waits asked of it (instrument seconds, and whether a signal came along). */
function recordingClock(log: string[]): InstrumentClock {
  return {
    timeScale: 1,
    now: () => 0,
    sleep: async (seconds: number, signal?: AbortSignal) => {
      log.push(`sleep ${seconds}${signal ? ' with signal' : ''}`);
    },
  };
}

const METER_ID: Identity = {
  manufacturer: 'Thorlabs',
  model: 'PM100D',
  serial: 'M',
  firmware: '3',
  raw: 'Thorlabs,PM100D,M,3',
};

function switchedMeter(log: string[], settleMs: number) {
  let reading = 0;
  const meter: OpticalPowerMeter = {
    role: 'optical-meter',
    setWavelength: async () => undefined,
    power: async () => {
      reading += 1;
      log.push('read');
      return reading * 1e-6;
    },
    identify: async () => METER_ID,
    selfTest: async () => 4,
    clearErrors: async () => ['-222,"Data out of range"'],
    safeState: async () => 'zeroed',
  };
  return new SwitchedPowerMonitor({
    name: 'optical-meter via lane-switch',
    sw: fakeSwitch(log),
    meter,
    ports: new PortMap([{ ports: [1, 396], lanes: [5, 400] }]),
    channel: 5,
    responsivityAW: 0.25,
    settleMs,
    clock: recordingClock(log),
  });
}

describe('a lane-power monitor behind a switch', () => {
  it('routes each lane to the meter, waits settleMs of instrument time, then reads it', async () => {
    const log: string[] = [];
    const lpm = switchedMeter(log, 250);
    expect(lpm.role).toBe('optical-meter via lane-switch');
    expect(await lpm.receivedPower([10, 400])).toEqual([1e-6, 2e-6]);
    expect(log).toEqual(['route 5->6', 'sleep 0.25', 'read', 'route 5->396', 'sleep 0.25', 'read']);
  });

  it('passes the call signal to the wait', async () => {
    const log: string[] = [];
    const lpm = switchedMeter(log, 1500);
    await lpm.receivedPower([5], { signal: new AbortController().signal });
    expect(log).toEqual(['route 5->1', 'sleep 1.5 with signal', 'read']);
  });

  it('with settleMs 0 reads straight after the route, no wait', async () => {
    const log: string[] = [];
    const lpm = switchedMeter(log, 0);
    expect(await lpm.receivedPower([5, 6])).toEqual([1e-6, 2e-6]);
    expect(log).toEqual(['route 5->1', 'read', 'route 5->2', 'read']);
  });

  it('a lane no port carries reads 0 W without touching the switch or the meter', async () => {
    const log: string[] = [];
    const lpm = switchedMeter(log, 250);
    expect(await lpm.receivedPower([1, 6, 4])).toEqual([0, 1e-6, 0]);
    expect(log).toEqual(['route 5->2', 'sleep 0.25', 'read']);
  });

  it('photocurrent is the power times the responsivity (0.25 A/W)', async () => {
    const log: string[] = [];
    const lpm = switchedMeter(log, 0);
    const i = await lpm.photocurrent([5, 6, 2]);
    expect(i[0]).toBeCloseTo(0.25e-6, 18);
    expect(i[1]).toBeCloseTo(0.5e-6, 18);
    expect(i[2]).toBe(0);
  });

  it("the instrument calls are the meter's; its safe state is both parts'", async () => {
    const lpm = switchedMeter([], 0);
    expect(await lpm.identify()).toEqual(METER_ID);
    expect(await lpm.selfTest()).toBe(4);
    expect(await lpm.clearErrors()).toEqual(['-222,"Data out of range"']);
    expect(await lpm.safeState()).toBe('zeroed; all channels disconnected');
  });
});
