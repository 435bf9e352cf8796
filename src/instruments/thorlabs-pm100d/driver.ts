import { z } from 'zod';
import { formatNumber } from '../../scpi/parse.ts';
import { type DriverOptions, ScpiDriver } from '../base.ts';
import type { CallOptions, OpticalPowerMeter } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';

export interface Pm100dOptions extends DriverOptions {
  /** Wavelength correction set by init(), nm. */
  wavelengthNm?: number;
  /** Lanes the fibre switch of the fixture reaches (ROUT:LANE 1..lanes); 0 is the whole bundle. */
  lanes: number;
}

/**
 * Optical power meter: Thorlabs PM100D command strings (`SENS:CORR:WAV 450`, `SENS:POW:UNIT W`, `CONF:POW`,
 * `MEAS:POW?`), plus the fixture extension `ROUT:LANE n`.
 */
export class Pm100d extends ScpiDriver implements OpticalPowerMeter {
  private readonly wavelengthNm: number | undefined;
  private readonly lanes: number;

  constructor(o: Pm100dOptions) {
    super(o);
    this.wavelengthNm = o.wavelengthNm;
    this.lanes = o.lanes;
  }

  /** Power in W, the station's wavelength, power mode. */
  async init(opts?: CallOptions): Promise<void> {
    await this._send('SENS:POW:UNIT W', opts);
    if (this.wavelengthNm !== undefined) await this.setWavelength(this.wavelengthNm, opts);
    await this._send('CONF:POW', opts);
  }

  async setWavelength(nm: number, opts?: CallOptions): Promise<void> {
    if (!(nm > 0) || !Number.isFinite(nm)) this._refuse(`wavelength ${nm} nm is not > 0`);
    return this._send(`SENS:CORR:WAV ${formatNumber(nm)}`, opts);
  }

  async wavelength(opts?: CallOptions): Promise<number> {
    return this._number('SENS:CORR:WAV?', opts);
  }

  async selectLane(lane: number, opts?: CallOptions): Promise<void> {
    if (!Number.isInteger(lane) || lane < 0 || lane > this.lanes)
      this._refuse(`lane ${lane} is outside 0..${this.lanes}`);
    return this._send(`ROUT:LANE ${lane}`, opts);
  }

  /** Optical power, W (init() sets the unit). */
  async power(opts?: CallOptions): Promise<number> {
    return this._number('MEAS:POW?', opts);
  }

  /** Identity of the sensor head (`SYST:SENS:IDN?`). */
  async sensor(opts?: CallOptions): Promise<string> {
    return this._query('SYST:SENS:IDN?', opts);
  }

  /** A power meter drives nothing: there is nothing to switch off, so nothing to read back. */
  async safeState(_opts?: CallOptions): Promise<string> {
    return 'passive: a power meter drives nothing';
  }
}

export interface Pm100dSettings {
  wavelengthNm?: number;
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
  },
  create: (c) =>
    new Pm100d({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      lanes: c.lanes,
      ...(c.settings.wavelengthNm !== undefined ? { wavelengthNm: c.settings.wavelengthNm } : {}),
    }),
};
