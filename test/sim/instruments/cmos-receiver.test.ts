import { afterEach, describe, expect, it } from 'vitest';
import { toUint16LE } from '../../../src/scpi/block.ts';
import { cleanupList, exec, openBench } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function frames(seed: number, n = 2): Promise<Buffer[]> {
  const tb = await openBench({ profile: 'mosaic-800g-cmos', seed });
  cleanup.add(tb);
  const led = await tb.session('led-driver');
  const rx = await tb.session('cmos-receiver');
  await exec(led, 'OUTP ON,(@1:400)');
  const out: Buffer[] = [];
  for (let k = 0; k < n; k++) out.push(await rx.queryBlock('FETC:FRAM?'));
  return out;
}

describe('cmos-receiver', () => {
  it('sends a frame as a definite-length block of width x height uint16 pixels, LF bytes included', async () => {
    const tb = await openBench({ profile: 'mosaic-800g-cmos' });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('cmos-receiver');
    expect(await rx.query('SENS:FRAM:SIZE?')).toBe('200,200');
    const dark = toUint16LE(await rx.queryBlock('FETC:FRAM?'));
    expect(dark).toHaveLength(200 * 200);
    await exec(led, 'OUTP ON,(@1:400)');
    const raw = await rx.queryBlock('FETC:FRAM?');
    expect(raw.length).toBe(200 * 200 * 2);
    expect(raw.includes(0x0a)).toBe(true);
    const px = toUint16LE(raw);
    // a spot per lane: the centre of lane 1 (pixel 4..5, 4..5) is far brighter than the dark frame
    expect(px[4 * 200 + 4]!).toBeGreaterThan(dark[4 * 200 + 4]! + 1000);
    // the session still frames text correctly after a block
    expect(await rx.query('*IDN?')).toMatch(/^cpobench-sim,CMOSRX-400,/);
    // raising exposure or gain brightens the frame
    await exec(rx, 'SENS:GAIN 4');
    const bright = toUint16LE(await rx.queryBlock('FETC:FRAM?'));
    expect(bright[4 * 200 + 4]!).toBeGreaterThan(px[4 * 200 + 4]!);
  });

  it('keeps exposure and gain within range (-222 outside)', async () => {
    const tb = await openBench({ profile: 'mosaic-800g-cmos' });
    cleanup.add(tb);
    const rx = await tb.session('cmos-receiver');
    await exec(rx, 'SENS:EXP 2ms;:SENS:GAIN 16');
    expect(await rx.queryNumber('SENS:EXP?')).toBe(2e-3);
    expect(await rx.queryNumber('SENS:GAIN?')).toBe(16);
    await exec(rx, 'SENS:GAIN 17');
    await exec(rx, 'SENS:EXP 0');
    expect((await rx.drainErrors()).map((e) => e.code)).toEqual([-222, -222]);
    expect(await rx.queryNumber('SENS:GAIN?')).toBe(16);
  });

  it('gives identical frames for the same seed and different frames for different seeds', async () => {
    const a = await frames(3);
    const b = await frames(3);
    const c = await frames(4);
    expect(a[0]!.equals(b[0]!)).toBe(true);
    expect(a[1]!.equals(b[1]!)).toBe(true);
    expect(a[0]!.equals(a[1]!)).toBe(false); // fresh noise every frame
    expect(a[0]!.equals(c[0]!)).toBe(false);
  });

  it('has the pd-receiver command set too', async () => {
    const tb = await openBench({ profile: 'mosaic-800g-cmos' });
    cleanup.add(tb);
    const rx = await tb.session('cmos-receiver');
    expect(await rx.queryNumbers('MEAS:POW? (@1:400)')).toHaveLength(400);
    expect(await rx.queryNumbers('FETC:BITS? (@1:400)')).toHaveLength(400);
    expect(await rx.query('SENS:GATE:STAT?')).toBe('0');
  });
});
