import { afterEach, describe, expect, it } from 'vitest';
import { LimitError } from '../../src/instruments/base.ts';
import type { N6705c } from '../../src/instruments/keysight-n6705c/driver.ts';
import type { LedDriver } from '../../src/instruments/led-board/driver.ts';
import type { PdReceiver } from '../../src/instruments/pd-kit/driver.ts';
import type { Pm100d } from '../../src/instruments/thorlabs-pm100d/driver.ts';
import { allLanes } from '../../src/scpi/channels.ts';
import { startBench } from '../../src/sim/bench.ts';
import { type StationConfig, stationFromObject } from '../../src/station/schema.ts';
import { openStation, type Station } from '../../src/station/station.ts';

const cleanups: (() => Promise<unknown> | unknown)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function simStation(profile: string, edit?: (c: StationConfig) => void): Promise<Station> {
  const bench = await startBench({ profile, seed: 7, timeScale: 10_000 });
  cleanups.push(() => bench.close());
  const config = stationFromObject(bench.station, profile);
  edit?.(config);
  const st = await openStation(config);
  cleanups.push(() => st.close());
  expect(st.problems()).toEqual([]);
  return st;
}

async function until(cond: () => Promise<boolean>, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe('drivers against the simulated bench over TCP', () => {
  it('lights every lane with one command per operation; the receiver, meter and analyzer see it', async () => {
    const st = await simStation('mosaic-800g');
    const led = st.instrument('led-driver') as LedDriver;
    const rx = st.instrument('pd-receiver') as PdReceiver;
    const all = allLanes(400);
    expect(await led.laneCount()).toBe(400);
    await led.setRate(2e9);
    expect(await led.getRate()).toBe(2e9);
    await led.setPattern(all, 'PRBS7');
    await led.setSeed(all, all);
    await led.setModulation(all, 320e-6);
    await led.rampBias(all, 40e-6);
    expect(await led.getBias([1, 400])).toEqual([40e-6, 40e-6]);
    expect(await led.getModulation([5])).toEqual([320e-6]);
    await led.setOutput(all, true);
    expect(await led.getOutput([1, 2])).toEqual([true, true]);
    const vf = await led.forwardVoltage(all);
    expect(vf).toHaveLength(400);
    expect(vf.every((v) => v > 1 && v < 5)).toBe(true);
    expect(await led.boardTemperature()).toBeGreaterThan(0);

    const power = await rx.receivedPower(all);
    expect(power).toHaveLength(400);
    expect(power.every((p) => p > 0)).toBe(true);
    expect((await rx.photocurrent([1, 2])).every((a) => a > 0)).toBe(true);

    await rx.setCheckerPattern(all, 'PRBS7');
    await rx.setThreshold(0.5);
    await rx.startGate(1);
    await until(async () => !(await rx.gateRunning()), 'the gate to end');
    const c = await rx.readCounters(all);
    expect(c.bits.every((b) => b > 0)).toBe(true);
    expect(c.errors).toHaveLength(400);
    expect((await rx.syncStatus([1, 2, 3])).every(Boolean)).toBe(true);
    expect(await rx.lossOfSignal([1])).toEqual([false]);
    await rx.startGate(1000);
    expect(await rx.gateRunning()).toBe(true);
    await rx.stopGate();
    expect(await rx.gateRunning()).toBe(false);

    const pm = st.instrument('power-analyzer') as N6705c;
    const rails = await pm.measure();
    expect(rails.map((r) => r.name)).toEqual(['tx-led', 'tx-driver', 'rx-tia', 'aux']);
    expect(rails.every((r) => r.watts >= 0)).toBe(true);
    expect(pm.countedRails).toEqual([1, 2, 3]);

    const om = st.instrument('optical-meter') as Pm100d;
    await om.setWavelength(450);
    await om.selectLane(0);
    const bundle = await om.power();
    await om.selectLane(17);
    const one = await om.power();
    expect(bundle).toBeGreaterThan(one);
    expect(one).toBeGreaterThan(0);

    await expect(led.setBias([1], 1e-3)).rejects.toBeInstanceOf(LimitError);
    expect(await led.getBias([1])).toEqual([40e-6]);

    const safe = await st.safeState({ timeoutMs: 5000 });
    expect(safe.every((r) => r.safe)).toBe(true);
    expect(await led.getOutput([1, 400])).toEqual([false, false]);
    expect(await led.getModulation([1, 400])).toEqual([0, 0]);
  });
});
