/**
 * The new drivers against their simulated instruments over real sockets (mosaic-800g-bert): each driver sends
 * its table's commands and the simulator parses them from the same table, on one link model.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Mp1900a } from '../../src/instruments/anritsu-mp1900a/driver.ts';
import { Keithley2450 } from '../../src/instruments/keithley-2450/driver.ts';
import { N7734a } from '../../src/instruments/keysight-n7734a/driver.ts';
import { N7764a } from '../../src/instruments/keysight-n7764a/driver.ts';
import { LedDriver } from '../../src/instruments/led-board/driver.ts';
import { cleanupList, openBench, type TestBench } from './instruments/helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function bench(): Promise<TestBench> {
  const tb = await openBench({ profile: 'mosaic-800g-bert', timeScale: 100000 });
  cleanup.add(tb);
  return tb;
}

describe('bert-bench drivers against the simulated instruments', () => {
  it('Keithley2450: a current source on lane 1 reads its V_f; safe state off at 0 A', async () => {
    const tb = await bench();
    const smu = new Keithley2450({
      role: 'smu',
      session: await tb.session('smu'),
      limits: { maxCurrentA: 0.01, maxVoltageV: 6 },
      voltageLimitV: 5,
      lane: 1,
    });
    await smu.init();
    await smu.sourceCurrent(200e-6);
    await smu.setOutput(true);
    const r = await smu.measure();
    expect(r.inCompliance).toBe(false);
    expect(r.amps).toBeCloseTo(200e-6, 10);
    expect(Math.abs(r.volts - tb.bench.model.forwardVoltageAt(1, 200e-6))).toBeLessThan(1e-5);
    expect(tb.bench.model.getExternalCurrent(1)).toBe(200e-6);
    expect(await smu.safeState()).toBe('output off, source level 0 A (read back)');
    expect(tb.bench.model.getExternalCurrent(1)).toBeUndefined();
  });

  it('N7734a, N7764a, Mp1900a: route lanes to the ED through the attenuator and count them', async () => {
    const tb = await bench();
    const led = new LedDriver({
      role: 'led-driver',
      session: await tb.session('led-driver'),
      lanes: 400,
      maxCurrentA: 0.0006,
    });
    await led.setBias([17, 18], 40e-6);
    await led.setModulation([17, 18], 320e-6);
    await led.setOutput([17, 18], true);
    const sw = new N7734a({
      role: 'lane-switch',
      session: await tb.session('lane-switch'),
      slot: 1,
      channels: 5,
      ports: 400,
    });
    const voa = new N7764a({
      role: 'attenuator',
      session: await tb.session('attenuator'),
      channels: 4,
      maxDb: 40,
      operatingDb: 0,
    });
    const ed = new Mp1900a({ role: 'bert', session: await tb.session('bert'), module: 1, channels: 4 });
    expect(await voa.safeState()).toBe('shutter closed on every channel (1, 2, 3, 4) (read back)');
    await sw.route([
      { channel: 1, port: 17 },
      { channel: 2, port: 18 },
    ]);
    expect(await sw.routes([1, 2])).toEqual([17, 18]);
    await ed.setCheckerPattern([1, 2], 'PRBS31');
    expect(await ed.lossOfSignal([1, 2])).toEqual([true, true]); // shutters closed
    await voa.prepare();
    expect(await ed.lossOfSignal([1, 2])).toEqual([false, false]);
    expect(await ed.syncStatus([1, 2])).toEqual([true, true]);
    await ed.startGate(2);
    while (await ed.gateRunning()) await new Promise((r) => setTimeout(r, 1));
    expect(await ed.readCounters([1, 2])).toEqual({ lanes: [1, 2], bits: [4e9, 4e9], errors: [0, 0] });
    await voa.setAttenuation(3, [2]);
    expect(await voa.attenuation()).toEqual([0, 3, 0, 0]);
    expect(tb.bench.model.getPathLoss([18])[0]).toBeCloseTo(3.5, 9);
    expect(await ed.safeState()).toBe('measurement stopped on module 1 (read back)');
    expect(await sw.safeState()).toMatch(
      /^passive: a switch drives nothing; channels 1→17, 2→18, 3→3, 4→4, 5→5 \(read back\)$/,
    );
  });
});
