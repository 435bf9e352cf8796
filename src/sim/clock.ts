import { performance } from 'node:perf_hooks';

/**
 * The simulated bench's clock. Instrument-side durations (BER gates, TEC ramps, settling, ageing) run
 * `timeScale` times faster than real time; 1 is real time. One clock per bench: no global state.
 */
export class SimClock {
  readonly timeScale: number;
  private readonly realStart = performance.now();

  constructor(timeScale = 1) {
    if (!(timeScale > 0) || !Number.isFinite(timeScale))
      throw new RangeError(`time scale must be a positive number, got ${timeScale}`);
    this.timeScale = timeScale;
  }

  /** Instrument seconds since the bench started. */
  now(): number {
    return ((performance.now() - this.realStart) / 1000) * this.timeScale;
  }

  /** Real milliseconds that `simSeconds` of instrument time take. */
  realMs(simSeconds: number): number {
    return (simSeconds * 1000) / this.timeScale;
  }

  /** Waits `simSeconds` of instrument time. */
  sleep(simSeconds: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const t = setTimeout(() => {
        signal?.removeEventListener('abort', onAbort);
        resolve();
      }, this.realMs(simSeconds));
      const onAbort = () => {
        clearTimeout(t);
        reject(signal?.reason);
      };
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}
