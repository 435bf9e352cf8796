/**
 * Newport 1936-R / 2936-R optical power meter: the README's worked example of adding a model ("Writing a
 * driver"). One file: its command table, its driver, its descriptor; a protocol test
 * (test/drivers/newport-1936r.test.ts) and one line in src/instruments/registry.ts.
 *
 * Command table from the 1936-R / 2936-R user's manual (computer interface commands, as the public drivers use
 * them): the meter speaks a SCPI-like `PM:` tree but has no `SYST:ERR?` queue; `ERRSTR?` answers the oldest
 * error as `<code>, "<text>"` (0 when there is none), and `*IDN?` answers space-separated fields
 * (`NEWPORT 1936-R v1.0.2 08/13/12 SN12345`). On the 2936-R (two heads) the commands address the head
 * `PM:CHANnel` selects; cpobench uses channel 1.
 */
import { z } from 'zod';
import type { InstrumentErrorEntry } from '../../core/errors.ts';
import { control, int, measure, num, type ScpiValue } from '../../scpi/command-table.ts';
import { formatErrorEntry, parseErrorEntry } from '../../scpi/parse.ts';
import { type DriverOptions, ScpiDriver } from '../base.ts';
import type { CallOptions, OpticalPowerMeter } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';

/** `PM:UNITs` codes (user's manual): 0 A, 1 V, 2 W, 3 W/cm², 4 J, 5 J/cm², 6 dBW, 7 dBW/cm². */
export const UNIT_WATTS = 2;
/** `PM:MODE` codes: 0 is DC continuous. */
export const MODE_DC_CONTINUOUS = 0;

/** An `ERRSTR?` reply: `<code>, "<text>"`. */
const errorEntry: ScpiValue<InstrumentErrorEntry> = {
  describe: '<code>, "<text>"',
  write: (e) => formatErrorEntry(e),
  read: (t) => parseErrorEntry(t),
  parse: () => {
    throw new Error('ERRSTR is a query');
  },
  reply: (e) => formatErrorEntry(e),
};

export const NEWPORT_1936R = {
  wavelength: control('PM:Lambda', int, 'wavelength the responsivity is taken at, nm', {
    send: 'PM:Lambda',
    unit: 'nm',
  }),
  units: control('PM:UNITs', int, 'unit of PM:Power? (2 = W)', { send: 'PM:UNITs' }),
  mode: control('PM:MODE', int, 'acquisition mode (0 = DC continuous)', { send: 'PM:MODE' }),
  autoRange: control('PM:AUTO', int, 'automatic ranging (1 = on)', { send: 'PM:AUTO' }),
  power: measure('PM:Power', num('W'), 'power, in the unit PM:UNITs sets', { send: 'PM:Power', unit: 'W' }),
  error: measure('ERRSTR', errorEntry, 'the oldest error: <code>, "<text>" (0 when none)', { send: 'ERRSTR' }),
};

export interface Newport1936rOptions extends Omit<DriverOptions, 'checkErrors'> {
  wavelengthNm?: number;
}

/**
 * Optical power meter: Newport 1936-R / 2936-R. init() sets W, DC continuous, auto range and the station's
 * wavelength. Setting commands are not followed by `SYST:ERR?` (the meter has none); clearErrors() reads
 * `ERRSTR?` until it answers 0.
 */
export class Newport1936r extends ScpiDriver implements OpticalPowerMeter {
  private readonly wavelengthNm: number | undefined;

  constructor(o: Newport1936rOptions) {
    super({ ...o, checkErrors: false });
    this.wavelengthNm = o.wavelengthNm;
  }

  async init(opts?: CallOptions): Promise<void> {
    await this._set(NEWPORT_1936R.units, UNIT_WATTS, undefined, opts);
    await this._set(NEWPORT_1936R.mode, MODE_DC_CONTINUOUS, undefined, opts);
    await this._set(NEWPORT_1936R.autoRange, 1, undefined, opts);
    if (this.wavelengthNm !== undefined) await this.setWavelength(this.wavelengthNm, opts);
  }

  async setWavelength(nm: number, opts?: CallOptions): Promise<void> {
    if (!Number.isInteger(nm) || nm <= 0) this._refuse(`wavelength ${nm} nm is not a whole number of nm > 0`);
    await this._set(NEWPORT_1936R.wavelength, nm, undefined, opts);
  }

  async power(opts?: CallOptions): Promise<number> {
    return this._get1(NEWPORT_1936R.power, opts);
  }

  /** `ERRSTR?` until it answers code 0 (at most 32 entries). */
  override async clearErrors(opts?: CallOptions): Promise<string[]> {
    const out: string[] = [];
    for (let i = 0; i < 32; i++) {
      const e = await this._get1(NEWPORT_1936R.error, opts);
      if (e.code === 0) break;
      out.push(`${e.code},"${e.message}"`);
    }
    return out;
  }

  /** A power meter drives nothing: there is nothing to switch off, so nothing to read back. */
  async safeState(_opts?: CallOptions): Promise<string> {
    return 'passive: a power meter drives nothing';
  }
}

export interface Newport1936rSettings {
  wavelengthNm?: number;
}

/** Newport 1936-R / 2936-R optical power meter. */
export const descriptor: DriverDescriptor<Newport1936rSettings> = {
  model: 'newport-1936r',
  title: 'Newport 1936-R / 2936-R optical power meter',
  speaks: 'Newport 1936-R (PM: commands)',
  capabilities: ['optical-power-meter'],
  identity: '[12]936-R',
  settings: {
    /** Wavelength set at open, whole nm. */
    wavelengthNm: z.number().int().gt(0).optional(),
  },
  create: (c) =>
    new Newport1936r({
      role: c.name,
      session: c.session,
      clock: c.clock,
      ...(c.trace ? { trace: c.trace } : {}),
      ...(c.settings.wavelengthNm !== undefined ? { wavelengthNm: c.settings.wavelengthNm } : {}),
    }),
};
