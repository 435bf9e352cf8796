import { afterEach, describe, expect, it } from 'vitest';
import { cleanupList, exec, openBench, sleep, waitFor } from './helpers.ts';

const cleanup = cleanupList();
afterEach(() => cleanup.run());

/** Lights every lane at a reduced modulation (BER a few 1e-9), runs one 1 s gate, returns the error counts. */
async function oneGate(seed: number): Promise<{ errors: number[]; bits: number[] }> {
  const tb = await openBench({ seed, timeScale: 100 });
  cleanup.add(tb);
  const led = await tb.session('led-driver');
  const rx = await tb.session('pd-receiver');
  await exec(led, 'SOUR:CURR:MOD 90e-6,(@1:400);:OUTP ON,(@1:400)');
  await exec(rx, 'SENS:GATE:TIME 1;:SENS:GATE:STAT ON');
  expect(await waitFor(async () => (await rx.query('SENS:GATE:STAT?')) === '0', 10_000)).toBe(true);
  return { errors: await rx.queryNumbers('FETC:ERR? (@1:400)'), bits: await rx.queryNumbers('FETC:BITS? (@1:400)') };
}

describe('pd-receiver', () => {
  it('gives identical gate counts for the same seed and different counts for different seeds', async () => {
    const a = await oneGate(7);
    const b = await oneGate(7);
    const c = await oneGate(8);
    expect(a.bits).toEqual(new Array(400).fill(2e9));
    expect(a.errors.reduce((s, e) => s + e, 0)).toBeGreaterThan(400); // BER ~3e-9 over 2e9 bits per lane
    expect(a.errors).toEqual(b.errors);
    expect(c.errors).not.toEqual(a.errors);
  });

  it('scales bits and errors by the elapsed fraction while the gate runs; STAT OFF freezes them', async () => {
    const tb = await openBench({ timeScale: 10 });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    await exec(led, 'SOUR:CURR:MOD 50e-6,(@1:400);:OUTP ON,(@1:400)'); // BER ~5e-4
    await exec(rx, 'SENS:GATE:TIME 100;:SENS:GATE:STAT ON'); // 10 s real
    await sleep(100);
    expect(await rx.query('SENS:GATE:STAT?')).toBe('1');
    const bits = (await rx.queryNumbers('FETC:BITS? (@1)'))[0]!;
    const errs = (await rx.queryNumbers('FETC:ERR? (@1)'))[0]!;
    expect(bits).toBeGreaterThan(0);
    expect(bits).toBeLessThan(2e9 * 100);
    expect(errs).toBeGreaterThan(0);
    const ber = (await rx.queryNumbers('FETC:BER? (@1)'))[0]!;
    expect(ber).toBeGreaterThan(1e-4);
    expect(ber).toBeLessThan(1e-1);
    await exec(rx, 'SENS:GATE:STAT OFF');
    expect(await rx.query('SENS:GATE:STAT?')).toBe('0');
    const frozen = await rx.queryNumbers('FETC:BITS? (@1:3)');
    await sleep(50);
    expect(await rx.queryNumbers('FETC:BITS? (@1:3)')).toEqual(frozen);
  });

  it('finishes a 1e-12/95% gate (3e12 bits at 2 Gb/s, 1500 s) in about 1.5 s at time scale 1000', async () => {
    const tb = await openBench({ timeScale: 1000 });
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    await exec(led, 'OUTP ON,(@1:400)');
    const t0 = performance.now();
    await exec(rx, 'SENS:GATE:TIME 1500;:SENS:GATE:STAT ON');
    expect(await rx.query('SENS:GATE:STAT?')).toBe('1');
    expect(await waitFor(async () => (await rx.query('SENS:GATE:STAT?')) === '0', 20_000, 10)).toBe(true);
    const wall = performance.now() - t0;
    expect(wall).toBeGreaterThanOrEqual(1490); // it cannot end before 1500 instrument seconds
    expect(wall).toBeLessThan(15_000);
    expect(await rx.queryNumbers('FETC:BITS? (@1:400)')).toEqual(new Array(400).fill(3e12));
    expect(await rx.queryNumbers('FETC:ERR? (@1:400)')).toEqual(new Array(400).fill(0));
    expect(await rx.queryNumbers('FETC:BER? (@1:2)')).toEqual([0, 0]);
  });

  it('reports sync and loss of signal per lane; a wrong checker pattern or inversion loses sync', async () => {
    const tb = await openBench();
    cleanup.add(tb);
    const led = await tb.session('led-driver');
    const rx = await tb.session('pd-receiver');
    expect(await rx.query('STAT:LOS? (@1:3)')).toBe('1,1,1');
    expect(await rx.query('STAT:SYNC? (@1:3)')).toBe('0,0,0');
    await exec(led, 'OUTP ON,(@1:3)');
    expect(await rx.query('STAT:LOS? (@1:4)')).toBe('0,0,0,1');
    expect(await rx.query('STAT:SYNC? (@1:4)')).toBe('1,1,1,0');
    await exec(rx, 'SENS:PATT PRBS7,(@2)');
    await exec(led, 'SOUR:PATT:INV ON,(@3)');
    expect(await rx.query('STAT:SYNC? (@1:3)')).toBe('1,0,0');
    await exec(rx, 'SENS:PATT:INV ON,(@3)');
    expect(await rx.query('SENS:PATT:INV? (@1:3)')).toBe('0,0,1');
    expect(await rx.query('STAT:SYNC? (@1:3)')).toBe('1,0,1');
    await exec(rx, 'SENS:THR 0.99');
    expect((await rx.drainErrors())[0]?.code).toBe(-222);
    await exec(rx, 'SENS:THR 0.3');
    expect(await rx.queryNumber('SENS:THR?')).toBe(0.3);
    expect(await rx.drainErrors()).toEqual([]);
  });
});
