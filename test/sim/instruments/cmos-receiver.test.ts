import { afterEach, describe, expect, it } from 'vitest';
import { createGeometry } from '../../../src/orchestrator/lanes.ts';
import { toUint16LE } from '../../../src/scpi/block.ts';
import { FRAME_PIXEL_MAX, frameSpots } from '../../../src/steps/lane-map.ts';
import { cleanupList, exec, openBench, sleep } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

async function frames(seed: number, n = 2): Promise<Buffer[]> {
  // a clock 20x real time: a 1 ms frame period is 50 µs, shorter than any fetch of a 80 kB frame, so every fetch is
  // a frame of its own (and the DUT ages too little in the test to change a pixel)
  const tb = await openBench({ profile: 'mosaic-800g-cmos', seed, timeScale: 20 });
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

  it('clips a pixel at its full well: a lane map reads the lane as saturated, its sum stops growing', async () => {
    const tb = await openBench({ profile: 'mosaic-800g-cmos' });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('cmos-receiver');
    const geometry = createGeometry({ rows: 20, cols: 20 });
    const frame = async () => ({ width: 200, height: 200, pixels: toUint16LE(await rx.queryBlock('FETC:FRAM?')) });
    const dark = await frame();
    await exec(led, 'OUTP ON,(@1)');
    const at = async (exposureS: number) => {
      await exec(rx, `SENS:EXP ${exposureS}`);
      const f = await frame();
      return { f, spot: frameSpots(f, geometry, dark).find((s) => s.lane === 1)! };
    };
    // 0.25 ms: the spot's brightest pixel holds about a quarter of the 12000 e full well
    const normal = await at(0.25e-3);
    expect(normal.spot.saturated).toBe(false);
    expect(Math.max(...normal.f.pixels)).toBeLessThan(FRAME_PIXEL_MAX);
    // the noise is the electrons' shot noise: (a - b)²/2 between two frames is conversion gain × signal (counts per
    // electron: one 12000 e full well fills the 65471 counts above black) plus the 3 e read noise
    const again = await frame();
    const cpe = (65535 - 64) / 12000;
    let ratio = 0;
    let n = 0;
    for (let y = 2; y < 8; y++) {
      for (let x = 2; x < 8; x++) {
        const k = y * 200 + x;
        const signal = (normal.f.pixels[k]! + again.pixels[k]!) / 2 - 64;
        if (signal < 2000) continue;
        ratio += (normal.f.pixels[k]! - again.pixels[k]!) ** 2 / 2 / (cpe * signal + (3 * cpe) ** 2);
        n++;
      }
    }
    expect(n).toBeGreaterThan(10);
    expect(ratio / n).toBeGreaterThan(0.6);
    expect(ratio / n).toBeLessThan(1.5);
    const twice = await at(0.5e-3);
    expect(twice.spot.sum / normal.spot.sum).toBeGreaterThan(1.9);
    // 2 ms: the centre pixels are full, they read full scale, and the lane is flagged; twice the light no longer
    // gives twice the sum
    const bright = await at(2e-3);
    expect(bright.spot.saturated).toBe(true);
    expect(bright.f.pixels[4 * 200 + 4]).toBe(FRAME_PIXEL_MAX);
    const brighter = await at(4e-3);
    expect(brighter.spot.saturated).toBe(true);
    expect(brighter.spot.sum / bright.spot.sum).toBeLessThan(1.6);
    // a neighbour cell's light is crosstalk, not its own spot: not saturated
    expect(frameSpots(brighter.f, geometry, dark).find((s) => s.lane === 2)!.saturated).toBe(false);
  });

  it('runs at its frame rate on the instrument clock: fetches within one frame period get the same frame', async () => {
    // 1000 frames/s at 1/1000 of real time: one frame period lasts 1 s of real time
    const tb = await openBench({ profile: 'mosaic-800g-cmos', timeScale: 1e-3 });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('cmos-receiver');
    await exec(led, 'OUTP ON,(@1:400)');
    // wait for the start of a frame period, so that the next fetches fall inside one
    const periodS = 1e-3;
    const now = () => tb.bench.clock.now();
    while (now() % periodS > 0.2 * periodS) await sleep(20);
    const frameIndex = Math.floor(now() / periodS);
    const a = await rx.queryBlock('FETC:FRAM?');
    const b = await rx.queryBlock('FETC:FRAM?');
    expect(Math.floor(now() / periodS)).toBe(frameIndex); // both inside that period
    expect(b.equals(a)).toBe(true);
    // a change of the light is a new frame at once
    await exec(led, 'OUTP OFF,(@1)');
    const c = await rx.queryBlock('FETC:FRAM?');
    expect(c.equals(a)).toBe(false);
    // and the next frame period brings fresh noise on the same light
    const before = Math.floor(now() / periodS);
    while (Math.floor(now() / periodS) === before) await sleep(50);
    const d = await rx.queryBlock('FETC:FRAM?');
    expect(d.equals(c)).toBe(false);
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
