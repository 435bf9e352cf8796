import { performance } from 'node:perf_hooks';
import { AbortedError } from './errors.ts';

/**
 * The instruments' clock, as the controller sees it. Physical waits (a TEC settling, rails settling after a
 * load change, a setpoint ramp, a watched value staying in band) are durations on this clock, in instrument
 * seconds. On real hardware it is real time (time scale 1); a simulated bench whose instruments run N times
 * faster declares N in its station file (`timeScale`), so the same waits take 1/N of the real time and a
 * fast simulated run is not dominated by fixed sleeps. Waits for I/O (timeouts, late replies, a serial
 * port's settle window) are not instrument time and do not use it.
 */
export interface InstrumentClock {
  /** Instrument seconds per real second: 1 on real hardware. */
  readonly timeScale: number;
  /** Instrument seconds on a monotonic time base (differences only). */
  now(): number;
  /** Waits `seconds` of instrument time; rejects with AbortedError when the signal fires. */
  sleep(seconds: number, signal?: AbortSignal): Promise<void>;
}

/** The clock of instruments running `timeScale` times faster than real time (1: real hardware). */
export function instrumentClock(timeScale = 1): InstrumentClock {
  if (!(timeScale > 0) || !Number.isFinite(timeScale))
    throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
  return {
    timeScale,
    now: () => (performance.now() / 1000) * timeScale,
    sleep: (seconds, signal) => sleepRealMs((seconds * 1000) / timeScale, signal),
  };
}

/**
 * Waits `ms` of real time, abortably. Under a millisecond (below what timers resolve) it only yields to the
 * event loop once, so a scaled wait never rounds up to a whole timer tick.
 */
export function sleepRealMs(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const aborted = () => new AbortedError('aborted while waiting', { cause: signal?.reason });
    if (signal?.aborted) return reject(aborted());
    const onAbort = () => {
      if (ms < 1) clearImmediate(t as NodeJS.Immediate);
      else clearTimeout(t as NodeJS.Timeout);
      reject(aborted());
    };
    const done = () => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    };
    const t = ms < 1 ? setImmediate(done) : setTimeout(done, ms);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
