import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { DriverError } from '../../src/instruments/base.ts';
import type { N6705c } from '../../src/instruments/keysight-n6705c/driver.ts';
import type { LedDriver } from '../../src/instruments/led-board/driver.ts';
import type { PdReceiver } from '../../src/instruments/pd-kit/driver.ts';
import type { Ted4015 } from '../../src/instruments/thorlabs-ted4015/driver.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { SessionPool } from '../../src/station/pool.ts';
import { type StationConfig, stationDocument, stationFromObject } from '../../src/station/schema.ts';
import { openStation, StationError } from '../../src/station/station.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { rawPeer, refusingPort } from '../helpers/raw-peer.ts';

const cleanups = cleanupsAfterEach();

async function bench(profile = 'mosaic-800g'): Promise<{ bench: Bench; config: StationConfig }> {
  const b = await startBench({ profile, seed: 1, timeScale: 1000 });
  cleanups.push(() => b.close());
  return { bench: b, config: stationFromObject(b.station, `sim ${profile}`) };
}

describe('openStation against the simulated bench', () => {
  it("runs physical waits on the bench's instrument clock: a TEC dwell of 5 s takes milliseconds at 1000x", async () => {
    const { config } = await bench();
    expect(config.timeScale).toBe(1000);
    const st = await openStation(config);
    cleanups.push(() => st.close());
    expect(st.clock.timeScale).toBe(1000);
    const tec = st.instrument('tec') as Ted4015;
    await tec.setOutput(true);
    await tec.setSetpoint(45);
    const t0 = performance.now();
    const reached = await tec.waitSettled!();
    expect(Math.abs(reached - 45)).toBeLessThanOrEqual(0.1);
    // 20 °C of ramp plus a 5 s dwell (config.instruments.tec.settle), all instrument time
    expect((config.instruments.tec!.settings as { settle: { dwellS: number } }).settle.dwellS).toBe(5);
    expect(performance.now() - t0).toBeLessThan(2000);
    // a station file says nothing: real time
    const { timeScale: _, ...rest } = stationDocument(config);
    expect(stationFromObject(rest).timeScale).toBe(1);
  });

  it('opens every instrument, checks identities, and gives each capability from the instrument providing it', async () => {
    const { config } = await bench();
    const st = await openStation(config);
    cleanups.push(() => st.close());
    expect(st.instruments().map((i) => [i.role, i.state])).toEqual([
      ['led-driver', 'ready'],
      ['pd-receiver', 'ready'],
      ['power-analyzer', 'ready'],
      ['optical-meter', 'ready'],
      ['tec', 'ready'],
    ]);
    expect(st.instruments().find((i) => i.role === 'power-analyzer')).toMatchObject({
      driver: 'keysight-n6705c',
      matches: 'Keysight N6705C',
      provides: ['rail-meter', 'supply'],
      identity: 'Keysight Technologies,N6705C,MY56001234,D.03.10.1470',
    });
    expect((st.instrument('led-driver') as LedDriver).maxCurrentA).toBe(600e-6);
    expect(await (st.instrument('pd-receiver') as PdReceiver).laneCount()).toBe(400);
    expect((st.instrument('power-analyzer') as N6705c).railNames).toEqual(['tx-led', 'tx-driver', 'rx-tia', 'aux']);
    expect(st.get('current-source')).toBe(st.instrument('led-driver'));
    expect(st.get('pattern-generator')).toBe(st.instrument('led-driver'));
    expect(st.get('error-detector')).toBe(st.instrument('pd-receiver'));
    expect(st.get('rail-meter')).toBe(st.instrument('power-analyzer'));
    expect(st.has('frame-camera')).toBe(false);
    expect(st.find('frame-camera')).toBeUndefined();
    expect(() => st.get('frame-camera')).toThrow(
      /station "mosaic-800g-sim" has no frame-camera \(it has: led-driver \(current-source, pattern-generator\); pd-receiver/,
    );
    expect(() => st.instrument('cmos-receiver')).toThrow(/has no cmos-receiver/);
    expect([...st.capabilities()].sort()).toEqual([
      'current-source',
      'decision-threshold',
      'error-detector',
      'lane-deskew',
      'lane-power-monitor',
      'optical-power-meter',
      'pattern-generator',
      'rail-meter',
      'supply',
      'thermal-controller',
    ]);
    expect(st.all()).toHaveLength(5);
    expect((await st.verifyIdentities()).every((i) => i.state === 'ready')).toBe(true);
    expect(st.trace.entries().some((c) => c.role === 'optical-meter' && c.method === 'init' && c.ok)).toBe(true);
  });

  it('refuses the wrong instrument at an address, showing both strings', async () => {
    const { config } = await bench();
    config.instruments['power-analyzer']!.identity = '^Agilent Technologies,N6705B';
    const st = await openStation(config);
    cleanups.push(() => st.close());
    const pa = st.instruments().find((i) => i.role === 'power-analyzer')!;
    expect(pa.state).toBe('wrong-identity');
    expect(pa.error).toContain('"Keysight Technologies,N6705C,MY56001234,D.03.10.1470"');
    expect(pa.error).toContain('/^Agilent Technologies,N6705B/');
    const err = (() => {
      try {
        st.instrument('power-analyzer') as N6705c;
      } catch (e) {
        return e as StationError;
      }
    })();
    expect(err).toBeInstanceOf(StationError);
    expect(err!.code).toBe('E_IDENTITY');
    await expect(st.verifyIdentities()).rejects.toThrow(/power-analyzer at .* refused: it answered \*IDN\? "Keysight/);
    const safe = await st.safeState({ timeoutMs: 2000 });
    // the wrong instrument is never driven, so nothing about it is confirmed
    expect(safe.find((r) => r.role === 'power-analyzer')).toMatchObject({
      safe: false,
      ms: 0,
      error: expect.stringMatching(/^not driven and not confirmed: power-analyzer at \S+ refused: it answered/),
    });
    expect(safe.find((r) => r.role === 'led-driver')).toMatchObject({
      safe: true,
      resource: config.instruments['led-driver']!.resource,
      observed: 'outputs off, bias 0 A and modulation 0 A on all 400 lanes (read back)',
    });
    expect(safe.filter((r) => r.safe).map((r) => r.role)).toEqual([
      'led-driver',
      'pd-receiver',
      'optical-meter',
      'tec',
    ]);
  });

  it('marks an unreachable instrument and keeps the others', async () => {
    const { config } = await bench();
    const refusing = await refusingPort();
    cleanups.push(() => refusing.close());
    config.instruments.tec!.resource = `TCPIP0::127.0.0.1::${refusing.port}::SOCKET`;
    const st = await openStation(config, { reconnect: false });
    cleanups.push(() => st.close());
    const tec = st.instruments().find((i) => i.role === 'tec')!;
    expect(tec.state).toBe('unreachable');
    expect(tec.error).toMatch(/refused|ECONNREFUSED/i);
    expect(st.problems().map((p) => p.role)).toEqual(['tec']);
    const err = await st
      .get('thermal-controller')
      .temperature()
      .catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.message).toMatch(/^tec: "MEAS:SCAL:TEMP\?" failed/);
  });

  // Guards "a safe-state bound made ten times looser" and a bound applied one instrument after another: three
  // hung instruments must all be reported at one bound (1 s), so the whole call takes about 1 s, not 3 s or 10 s.
  // The margin (+ 900 ms, under a second bound) is for a loaded 2-core machine; sequential bounds would need 3 s.
  it('safeState runs in parallel, bounded: three hung instruments finish near one bound, not three', async () => {
    const BOUND_MS = 1000;
    const MARGIN_MS = 900;
    const { config } = await bench();
    const hungRoles = ['pd-receiver', 'power-analyzer', 'tec'] as const;
    for (const role of hungRoles) {
      const hung = await rawPeer((line, sock) => {
        if (line === '*IDN?') sock.write(`HUNG,${role},0,1.0\n`);
        // everything else: never answered
      });
      cleanups.push(() => hung.close());
      config.instruments[role]!.resource = `TCPIP0::127.0.0.1::${hung.port}::SOCKET`;
      config.instruments[role]!.identity = `^HUNG,${role},`;
      config.instruments[role]!.timeoutMs = 60_000;
    }
    const st = await openStation(config, { init: false });
    cleanups.push(() => st.close());
    const errors: { instrument: string; text: string }[] = [];
    const sent: { instrument: string; at: number }[] = [];
    const off = st.subscribeTranscripts((e) => {
      if (e.dir === 'err') errors.push(e);
      if (e.dir === 'tx') sent.push({ instrument: e.instrument, at: performance.now() });
    });
    cleanups.push(off);
    const t0 = performance.now();
    const results = await st.safeState({ timeoutMs: BOUND_MS });
    const took = performance.now() - t0;
    // At the bound the hung instruments' safe states are abandoned: their calls end (the sessions say so) and
    // nothing more is sent to them afterwards, even once the 1 s late-reply grace has passed.
    const done = performance.now();
    await new Promise((r) => setTimeout(r, 1500));
    expect(new Set(errors.map((e) => e.instrument))).toEqual(new Set(hungRoles));
    expect(sent.filter((x) => (hungRoles as readonly string[]).includes(x.instrument) && x.at > done)).toEqual([]);
    expect(took).toBeGreaterThanOrEqual(BOUND_MS - 1); // timer resolution
    expect(took).toBeLessThan(BOUND_MS + MARGIN_MS);
    for (const role of hungRoles) {
      const r = results.find((x) => x.role === role)!;
      expect(r, role).toMatchObject({ safe: false, error: `not confirmed within ${BOUND_MS} ms` });
      expect(r.ms).toBeGreaterThanOrEqual(BOUND_MS - 1);
      expect(r.ms).toBeLessThan(BOUND_MS + MARGIN_MS);
    }
    expect(results.filter((r) => r.safe).map((r) => r.role)).toEqual(['led-driver', 'optical-meter']);
    const led = st.instrument('led-driver') as LedDriver;
    expect(await led.getOutput([1, 200, 400])).toEqual([false, false, false]);
    expect(await led.getBias([1, 400])).toEqual([0, 0]);
  });

  it('a driver that reads back NOT SAFE is reported by role once, with what it read, within the bound', async () => {
    const { config } = await bench();
    const stuck = await rawPeer((line, sock) => {
      if (line === '*IDN?') sock.write('STUCK,pd-receiver,0,1.0\n');
      else if (line === 'SENS:GATE:STAT?') sock.write('1\n'); // the gate keeps running
    });
    cleanups.push(() => stuck.close());
    config.instruments['pd-receiver']!.resource = `TCPIP0::127.0.0.1::${stuck.port}::SOCKET`;
    config.instruments['pd-receiver']!.identity = '^STUCK,';
    const st = await openStation(config, { init: false });
    cleanups.push(() => st.close());
    const results = await st.safeState({ timeoutMs: 2000 });
    const rx = results.find((r) => r.role === 'pd-receiver')!;
    expect(rx).toMatchObject({ safe: false, error: 'the error-counter gate still runs' });
    expect(rx.observed).toBeUndefined();
    expect(rx.ms).toBeGreaterThanOrEqual(0);
    expect(rx.ms).toBeLessThan(2000);
    expect(results.filter((r) => !r.safe).map((r) => r.role)).toEqual(['pd-receiver']);
  });

  it('shares one session per resource in a pool; closing one station leaves the other working', async () => {
    const { config } = await bench();
    const pool = new SessionPool();
    cleanups.push(() => pool.closeAll());
    const a = await openStation(config, { pool });
    const b = await openStation(config, { pool });
    expect(pool.usage()).toHaveLength(5);
    expect(pool.usage().every((u) => u.refs === 2)).toBe(true);
    await a.close();
    await a.close();
    expect(pool.usage().every((u) => u.refs === 1)).toBe(true);
    expect(() => a.get('thermal-controller')).toThrow(/is closed/);
    expect(await b.get('thermal-controller').temperature()).toBeGreaterThan(0);
    await b.close();
    expect(pool.usage()).toEqual([]);
  });

  it('an instrument lost during a call is a DriverError naming the role and the command', async () => {
    const { bench: b, config } = await bench();
    const st = await openStation(config, { reconnect: false });
    cleanups.push(() => st.close());
    await b.close();
    const err = await st
      .get('lane-power-monitor')
      .receivedPower([1, 2, 3])
      .catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.role).toBe('pd-receiver');
    expect(err.command).toBe('MEAS:POW? (@1:3)');
  });
});
