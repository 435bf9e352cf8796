import { describe, expect, it } from 'vitest';
import { DriverError, LimitError } from '../../src/instruments/base.ts';
import { CmosReceiver } from '../../src/instruments/cmos-kit/driver.ts';
import { PdReceiver } from '../../src/instruments/pd-kit/driver.ts';
import { expectProtocol, NO_ERROR, ok, send } from '../../src/instruments/testing/protocol.ts';
import { encodeBlock } from '../../src/scpi/block.ts';

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
      ...ok('SENS:GATE:TIME 10'),
      ...ok('SENS:GATE:STAT ON'),
      ['SENS:GATE:STAT?', '1'],
      ...ok('SENS:GATE:STAT OFF'),
      ['FETC:BITS? (@1:3)', '2.0E+10,2.0E+10,2.0E+10'],
      ['FETC:ERR? (@1:3)', '0,3,0'],
      ['STAT:SYNC? (@1:3)', '1,0,1'],
      ['STAT:LOS? (@1:3)', '0,1,0'],
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
    await rx.startGate(10);
    expect(await rx.gateRunning()).toBe(true);
    await rx.stopGate();
    expect(await rx.readCounters([1, 2, 3])).toEqual({ lanes: [1, 2, 3], bits: [2e10, 2e10, 2e10], errors: [0, 3, 0] });
    expect(await rx.syncStatus([1, 2, 3])).toEqual([true, false, true]);
    expect(await rx.lossOfSignal([1, 2, 3])).toEqual([false, true, false]);
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

describe('CmosReceiver protocol (CMOS receiver kit, virtual instrument)', () => {
  it('reads the frame size once and captures frames as 16-bit little-endian blocks', async () => {
    const pixels = Buffer.alloc(4 * 3 * 2);
    for (let i = 0; i < 12; i++) pixels.writeUInt16LE(i === 5 ? 0x0a0a : i * 1000, i * 2);
    const p = await expectProtocol([
      ['SENS:FRAM:SIZE?', '4,3'],
      ['FETC:FRAM?', encodeBlock(pixels)],
      ['FETC:FRAM?', encodeBlock(pixels)],
      ...ok('SENS:EXP 0.001'),
      ...ok('SENS:GAIN 4'),
      ['MEAS:POW? (@1)', '1.0E-06'],
      ['FETC:FRAM?', encodeBlock(Buffer.alloc(10))],
    ]);
    const rx = new CmosReceiver({ role: 'cmos-receiver', session: p.session, lanes: 400 });
    const f = await rx.captureFrame();
    expect(f.width).toBe(4);
    expect(f.height).toBe(3);
    expect([...f.pixels]).toEqual([0, 1000, 2000, 3000, 4000, 0x0a0a, 6000, 7000, 8000, 9000, 10000, 11000]);
    expect((await rx.captureFrame()).pixels.length).toBe(12);
    await rx.setExposure(1e-3);
    await rx.setGain(4);
    await expect(rx.setGain(32)).rejects.toBeInstanceOf(LimitError);
    await expect(rx.setExposure(-1)).rejects.toBeInstanceOf(LimitError);
    expect(await rx.receivedPower([1])).toEqual([1e-6]);
    await expect(rx.captureFrame()).rejects.toThrow(/block of 10 bytes is not a 4x3 frame/);
    await p.done();
  });

  it('frameSize queries the sensor', async () => {
    const p = await expectProtocol([['SENS:FRAM:SIZE?', '640,480']]);
    const rx = new CmosReceiver({ role: 'cmos-receiver', session: p.session, lanes: 400 });
    expect(await rx.frameSize()).toEqual({ width: 640, height: 480 });
    await p.done();
  });
});
