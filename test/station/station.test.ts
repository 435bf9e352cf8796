import { performance } from 'node:perf_hooks';
import { afterEach, describe, expect, it } from 'vitest';
import { DriverError } from '../../src/instruments/base.ts';
import type { N6705c } from '../../src/instruments/keysight-n6705c/driver.ts';
import type { LedDriver } from '../../src/instruments/led-board/driver.ts';
import type { PdReceiver } from '../../src/instruments/pd-kit/driver.ts';
import type { Ted4015 } from '../../src/instruments/thorlabs-ted4015/driver.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { SessionPool } from '../../src/station/pool.ts';
import { type StationConfig, stationDocument, stationFromObject } from '../../src/station/schema.ts';
import { openStation, StationError } from '../../src/station/station.ts';
import { freePort, rawPeer } from '../helpers/raw-peer.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

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
      'error-detector',
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
    expect(safe.find((r) => r.role === 'power-analyzer')).toMatchObject({ safe: false });
    expect(safe.filter((r) => r.safe).map((r) => r.role)).toEqual([
      'led-driver',
      'pd-receiver',
      'optical-meter',
      'tec',
    ]);
  });

  it('marks an unreachable instrument and keeps the others', async () => {
    const { config } = await bench();
    config.instruments.tec!.resource = `TCPIP0::127.0.0.1::${await freePort()}::SOCKET`;
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

  it('safeState runs in parallel, bounded, and reports a hung instrument without throwing', async () => {
    const { config } = await bench();
    const hung = await rawPeer((line, sock) => {
      if (line === '*IDN?') sock.write('THORLABS,TED4015,M0,1.0\n');
      else if (line === 'UNIT:TEMP C;:SYST:ERR?') sock.write('0,"No error"\n'); // init: the unit, checked
      // everything else: never answered
    });
    cleanups.push(() => hung.close());
    config.instruments.tec!.resource = `TCPIP0::127.0.0.1::${hung.port}::SOCKET`;
    config.instruments.tec!.timeoutMs = 60_000;
    const st = await openStation(config);
    cleanups.push(() => st.close());
    const t0 = performance.now();
    const results = await st.safeState({ timeoutMs: 300 });
    const took = performance.now() - t0;
    expect(took).toBeLessThan(10_000);
    const tec = results.find((r) => r.role === 'tec')!;
    expect(tec.safe).toBe(false);
    expect(tec.error).toMatch(/tec|300 ms/);
    expect(results.filter((r) => r.safe).map((r) => r.role)).toEqual([
      'led-driver',
      'pd-receiver',
      'power-analyzer',
      'optical-meter',
    ]);
    const led = st.instrument('led-driver') as LedDriver;
    expect(await led.getOutput([1, 200, 400])).toEqual([false, false, false]);
    expect(await led.getBias([1, 400])).toEqual([0, 0]);
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
