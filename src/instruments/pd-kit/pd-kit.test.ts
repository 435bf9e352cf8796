import { afterEach, describe, expect, it } from 'vitest';
import { simStations, until } from '../../../test/helpers/sim-station.ts';
import { allLanes } from '../../scpi/channels.ts';
import { DriverError, LimitError } from '../base.ts';
import type { LedDriver } from '../led-board/driver.ts';
import { expectProtocol, NO_ERROR, ok, send } from '../testing/protocol.ts';
import { PdReceiver } from './driver.ts';

describe('PdReceiver protocol (photodiode receiver kit, virtual instrument)', () => {
  it('covers every method with one list command per lane operation', async () => {
    const p = await expectProtocol([
      ['*IDN?', 'cpobench-sim,PDRX-400,SIM-PD-0001,1.0.0'],
      ['*TST?', '0'],
      ['SYST:ERR?', NO_ERROR],
      ['SYST:CHAN:COUN?', '400'],
      ['MEAS:POW? (@1:3)', '1.0E-05,2.0E-05,3.0E-05'],
      ['MEAS:CURR? (@4,9)', '2.5E-06,2.6E-06'],
      ...ok('SENS:PATT PRBS31,(@1:400)'),
      ...ok('SENS:THR 0.5'),
      ['SENS:THR?', '0.5'],
      ...ok('SENS:GATE:TIME 10'),
      ...ok('SENS:GATE:STAT ON'),
      ['SENS:GATE:STAT?', '1'],
      ...ok('SENS:GATE:STAT OFF'),
      ['FETC:BITS? (@1:3)', '2.0E+10,2.0E+10,2.0E+10'],
      ['FETC:ERR? (@1:3)', '0,3,0'],
      ['STAT:SYNC? (@1:3)', '1,0,1'],
      ['STAT:LOS? (@1:3)', '0,1,0'],
      ['MEAS:SKEW? (@1:2)', '0.0E+00,1.5E-10'],
      ...ok('SENS:DESK ON'),
      ['SENS:DESK?', '1'],
      ['STAT:AGGR:SYNC?', '1'],
      ['FETC:DEL? (@1:2)', '4.9E-08,4.91E-08'],
      send('SENS:GATE:STAT OFF'),
      ['SENS:GATE:STAT?', '0'],
    ]);
    const rx = new PdReceiver({ role: 'pd-receiver', session: p.session, lanes: 400 });
    expect((await rx.identify()).model).toBe('PDRX-400');
    expect(await rx.selfTest()).toBe(0);
    expect(await rx.clearErrors()).toEqual([]);
    expect(await rx.laneCount()).toBe(400);
    expect(await rx.receivedPower([1, 2, 3])).toEqual([1e-5, 2e-5, 3e-5]);
    expect(await rx.photocurrent([4, 9])).toEqual([2.5e-6, 2.6e-6]);
    await rx.setCheckerPattern(
      Array.from({ length: 400 }, (_, i) => i + 1),
      'PRBS31',
    );
    await rx.setThreshold(0.5);
    expect(await rx.threshold()).toBe(0.5);
    await rx.startGate(10);
    expect(await rx.gateRunning()).toBe(true);
    await rx.stopGate();
    expect(await rx.readCounters([1, 2, 3])).toEqual({ lanes: [1, 2, 3], bits: [2e10, 2e10, 2e10], errors: [0, 3, 0] });
    expect(await rx.syncStatus([1, 2, 3])).toEqual([true, false, true]);
    expect(await rx.lossOfSignal([1, 2, 3])).toEqual([false, true, false]);
    expect(await rx.skew([1, 2])).toEqual([0, 1.5e-10]);
    await rx.setDeskew(true);
    expect(await rx.deskew()).toBe(true);
    expect(await rx.aggregateSync()).toBe(true);
    expect(await rx.laneDelays([1, 2])).toEqual([4.9e-8, 4.91e-8]);
    await rx.safeState();
    await p.done();
  });

  it('refuses bad arguments before sending, and checks the number of values in a reply', async () => {
    const p = await expectProtocol([['MEAS:POW? (@1:3)', '1.0E-05,2.0E-05']]);
    const rx = new PdReceiver({ role: 'pd-receiver', session: p.session, lanes: 400 });
    await expect(rx.setThreshold(0.99)).rejects.toBeInstanceOf(LimitError);
    await expect(rx.startGate(0)).rejects.toBeInstanceOf(LimitError);
    await expect(rx.receivedPower([401])).rejects.toThrow(/lane 401 is outside 1..400/);
    const err = await rx.receivedPower([1, 2, 3]).catch((e) => e);
    expect(err).toBeInstanceOf(DriverError);
    expect(err.message).toBe('pd-receiver: "MEAS:POW? (@1:3)" failed: expected 3 values, got 2');
    await p.done();
  });
});

describe('PdReceiver against the simulated kit over TCP', () => {
  const benches = simStations();
  afterEach(() => benches.closeAll());

  it('reads power, photocurrent and sync of every lane the board lights, and counts a gate', async () => {
    const st = await benches.open('mosaic-800g');
    const led = st.instrument('led-driver') as LedDriver;
    const rx = st.instrument('pd-receiver') as PdReceiver;
    expect(st.get('error-detector')).toBe(rx);
    const all = allLanes(400);
    expect(await rx.laneCount()).toBe(400);
    expect(await rx.receivedPower([1, 2])).toEqual([0, 0]); // the board is dark after the safe state
    await led.setPattern(all, 'PRBS7');
    await led.setSeed(all, all);
    await led.setModulation(all, 320e-6);
    await led.setBias(all, 40e-6);
    await led.setOutput(all, true);
    const power = await rx.receivedPower(all);
    expect(power).toHaveLength(400);
    expect(power.every((p) => p > 0)).toBe(true);
    expect((await rx.photocurrent([1, 2])).every((a) => a > 0)).toBe(true);
    // each lane's arrival delay as the device has it: 10 m of fibre at n_g 1.47 is 49 ns, spread by the skew
    const delays = await rx.laneDelays(all);
    const truth = benches.benchOf(st).model.laneDelays();
    for (const [i, d] of delays.entries()) expect(Math.abs(d - truth[i]!) / truth[i]!).toBeLessThan(1e-6); // 7 digits as sent
    expect(Math.max(...delays) - Math.min(...delays)).toBeGreaterThan(50e-12);

    await rx.setCheckerPattern(all, 'PRBS7');
    await rx.setThreshold(0.3);
    expect(await rx.threshold()).toBe(0.3); // the simulated kit keeps it (one threshold for every lane)
    await rx.setThreshold(0.5);
    await rx.startGate(1);
    await until(async () => !(await rx.gateRunning()), 'the gate to end');
    const c = await rx.readCounters(all);
    expect(c.bits.every((b) => b === 2e9)).toBe(true); // 1 s at 2 Gb/s
    expect(c.errors).toHaveLength(400);
    expect((await rx.syncStatus([1, 2, 3])).every(Boolean)).toBe(true);
    expect(await rx.lossOfSignal([1])).toEqual([false]);
    await rx.startGate(1000);
    expect(await rx.gateRunning()).toBe(true);
    expect(await rx.safeState()).toBe('error-counter gate stopped (read back)');
    expect(await rx.gateRunning()).toBe(false);
  });
});
