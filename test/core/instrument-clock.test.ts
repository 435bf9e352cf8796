import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { AbortedError } from '../../src/core/errors.ts';
import { instrumentClock } from '../../src/core/instrument-clock.ts';

describe('instrumentClock', () => {
  it('is real time at scale 1, and runs N times faster at scale N', async () => {
    const real = instrumentClock();
    expect(real.timeScale).toBe(1);
    let t0 = performance.now();
    let c0 = real.now();
    await real.sleep(0.05);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(49);
    expect(real.now() - c0).toBeGreaterThanOrEqual(0.049);

    const fast = instrumentClock(1000);
    t0 = performance.now();
    c0 = fast.now();
    await fast.sleep(50); // 50 instrument seconds = 50 ms
    const took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(49);
    expect(took).toBeLessThan(1000);
    expect(fast.now() - c0).toBeGreaterThanOrEqual(49);
  });

  it('does not round a wait shorter than a timer tick up to one', async () => {
    const clock = instrumentClock(100_000);
    const t0 = performance.now();
    for (let i = 0; i < 50; i++) await clock.sleep(0.01); // 0.1 µs each
    // 50 timer ticks would take at least 50 ms
    expect(performance.now() - t0).toBeLessThan(40);
  });

  it('rejects with AbortedError when the signal fires, or has fired', async () => {
    const clock = instrumentClock();
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('stop')), 20);
    const t0 = performance.now();
    await expect(clock.sleep(10, ac.signal)).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - t0).toBeLessThan(1000);
    await expect(instrumentClock(1e6).sleep(1e-9, ac.signal)).rejects.toBeInstanceOf(AbortedError);
  });

  it('refuses a time scale that is not a positive number', () => {
    expect(() => instrumentClock(0)).toThrow(/positive/);
    expect(() => instrumentClock(Number.NaN)).toThrow(/positive/);
  });
});
