import { z } from 'zod';
import { DriverError, type DriverOptions, ScpiDriver } from '../base.ts';
import type { CallOptions, OpticalPowerMeter } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { PM100D } from './commands.ts';

/** The averaging init() sets when the station says nothing: 10 samples, about 30 ms per reading. */
export const DEFAULT_AVERAGE_COUNT = 10;

export interface Pm100dOptions extends DriverOptions {
  /** Wavelength correction set by init(), nm. */
  wavelengthNm?: number;
  /** Samples averaged per reading, set by init() (default 10; one sample takes about 3 ms). */
  averageCount?: number;
  /** Dark zeroing: how often zero() polls its state, and how long it waits at most (instrument time). */
  zeroing?: { pollMs: number; timeoutS: number };
}

/**
 * Optical power meter: Thorlabs PM100D, through its command table (commands.ts: `SENS:POW:UNIT W`,
 * `SENS:CORR:WAV 450`, `SENS:AVER:COUN 10`, `CONF:POW`, `MEAS:POW?`, `SENS:CORR:COLL:ZERO`). It reads what reaches
 * its head; which fibre that is, is the bench's business (an optical switch), not the meter's.
 */
export class Pm100d extends ScpiDriver implements OpticalPowerMeter {
  private readonly wavelengthNm: number | undefined;
  private readonly averages: number;
  private readonly zeroing: { pollMs: number; timeoutS: number };

  constructor(o: Pm100dOptions) {
    super(o);
    this.wavelengthNm = o.wavelengthNm;
    this.averages = o.averageCount ?? DEFAULT_AVERAGE_COUNT;
    this.zeroing = o.zeroing ?? { pollMs: 100, timeoutS: 60 };
  }

  /** Power in W, the station's wavelength and averaging, power mode. */
  async init(opts?: CallOptions): Promise<void> {
    await this._set(PM100D.powerUnit, 'W', undefined, opts);
    if (this.wavelengthNm !== undefined) await this.setWavelength(this.wavelengthNm, opts);
    await this.setAverageCount(this.averages, opts);
    await this._set(PM100D.configurePower, undefined, undefined, opts);
  }

  async setWavelength(nm: number, opts?: CallOptions): Promise<void> {
    if (!(nm > 0) || !Number.isFinite(nm)) this._refuse(`wavelength ${nm} nm is not > 0`);
    return this._set(PM100D.wavelength, nm, undefined, opts);
  }

  async wavelength(opts?: CallOptions): Promise<number> {
    return this._get1(PM100D.wavelength, opts);
  }

  /** Samples averaged per reading; each sample takes about 3 ms. */
  async setAverageCount(n: number, opts?: CallOptions): Promise<void> {
    if (!Number.isInteger(n) || n < 1) this._refuse(`average count ${n} is not an integer >= 1`);
    return this._set(PM100D.averageCount, n, undefined, opts);
  }

  async averageCount(opts?: CallOptions): Promise<number> {
    return this._get1(PM100D.averageCount, opts);
  }

  /** Optical power, W (init() sets the unit). */
  async power(opts?: CallOptions): Promise<number> {
    return this._get1(PM100D.power, opts);
  }

  /** Identity of the sensor head (`SYST:SENS:IDN?`). */
  async sensor(opts?: CallOptions): Promise<string> {
    return this._get1(PM100D.sensor, opts);
  }

  /**
   * Dark zeroing, for low-power readings: the head must be dark (the caller blocks the light). Starts the zeroing,
   * polls its state until it is done (instrument time, at most zeroing.timeoutS), and resolves with the dark level
   * the meter measured, W.
   */
  async zero(opts?: CallOptions): Promise<number> {
    await this._set(PM100D.zero, undefined, undefined, opts);
    const start = this.clock.now();
    while (await this._get1(PM100D.zeroState, opts)) {
      if (this.clock.now() - start > this.zeroing.timeoutS) {
        await this._set(PM100D.zeroAbort, undefined, undefined, opts).catch(() => undefined);
        throw new DriverError(
          this.role,
          PM100D.zero.send,
          new Error(`the zeroing did not finish within ${this.zeroing.timeoutS} s; aborted`),
        );
      }
      await this.clock.sleep(this.zeroing.pollMs / 1000, opts?.signal);
    }
    return this._get1(PM100D.zeroMagnitude, opts);
  }

  /** A power meter drives nothing: there is nothing to switch off, so nothing to read back. */
  async safeState(_opts?: CallOptions): Promise<string> {
    return 'passive: a power meter drives nothing';
  }
}

export interface Pm100dSettings {
  wavelengthNm?: number;
  averageCount: number;
}

/** Thorlabs PM100D optical power meter. */
export const descriptor: DriverDescriptor<Pm100dSettings> = {
  model: 'thorlabs-pm100d',
  title: 'Thorlabs PM100D optical power meter',
  speaks: 'Thorlabs PM100D',
  capabilities: ['optical-power-meter'],
  identity: 'PM100D',
  settings: {
    /** Wavelength correction set at open, nm. */
    wavelengthNm: z.number().gt(0).optional(),
    /** Samples averaged per reading, set at open (one sample takes about 3 ms). */
    averageCount: z.number().int().min(1).default(DEFAULT_AVERAGE_COUNT),
  },
  create: (c) =>
    new Pm100d({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      averageCount: c.settings.averageCount,
      ...(c.settings.wavelengthNm !== undefined ? { wavelengthNm: c.settings.wavelengthNm } : {}),
    }),
};
