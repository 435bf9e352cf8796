import { afterEach, describe, expect, it } from 'vitest';
import { simStations } from '../../../test/helpers/sim-station.ts';
import { encodeBlock } from '../../scpi/block.ts';
import { allLanes } from '../../scpi/channels.ts';
import { LimitError } from '../base.ts';
import type { LedDriver } from '../led-board/driver.ts';
import { expectProtocol, ok } from '../testing/protocol.ts';
import { CmosReceiver } from './driver.ts';

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

describe('CmosReceiver against the simulated kit over TCP', () => {
  const benches = simStations();
  afterEach(() => benches.closeAll());

  it('the CMOS kit captures frames of its announced size', async () => {
    const st = await benches.open('mosaic-800g-cmos');
    const rx = st.instrument('cmos-receiver') as CmosReceiver;
    expect(st.get('frame-camera')).toBe(rx);
    const led = st.instrument('led-driver') as LedDriver;
    await led.setBias(allLanes(400), 100e-6);
    await led.setOutput(allLanes(400), true);
    await rx.setExposure(1e-3);
    await rx.setGain(2);
    const size = await rx.frameSize();
    const f = await rx.captureFrame();
    expect([f.width, f.height]).toEqual([size.width, size.height]);
    expect(f.pixels.length).toBe(size.width * size.height);
    expect(Math.max(...f.pixels)).toBeGreaterThan(0);
  });
});
