/**
 * Simulated optical power meter speaking Thorlabs PM100D command strings (`optical-meter`), with an S120C-class
 * silicon head at the far end of the fibre. The head sees what reaches it: on our benches the whole bundle, every
 * lane's received power. The meter converts photocurrent with the responsivity at the wavelength it is set to, so a
 * setting away from the source wavelength scales the reading by λ_source / λ_set (silicon responsivity ∝ λ at
 * constant quantum efficiency).
 *
 * The head has a dark level (DARK_W at the source wavelength) that every reading includes until a dark zeroing
 * (`SENS:CORR:COLL:ZERO`) measures it: the zeroing takes ZERO_S instrument seconds (`...:ZERO:STAT?` reads 1
 * meanwhile), takes the head's level when it starts (light included, if the head was not dark) and subtracts it
 * from every reading after. Averaging (`SENS:AVER:COUN`) is kept and read back; the simulated head has no noise
 * for it to reduce.
 */
import { PM100D } from '../../instruments/thorlabs-pm100d/commands.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';

export const WAVELENGTH_RANGE_NM = [400, 1100] as const;
export const AVERAGE_RANGE = [1, 10000] as const;
/** The head's dark level, W at the source wavelength, before a zeroing removes it. */
export const DARK_W = 2e-9;
/** How long a dark zeroing takes, instrument seconds. */
export const ZERO_S = 0.5;
/** Readings in dBm never go below the head's noise floor. */
const FLOOR_W = 1e-12;

export class OpticalMeter extends ScpiInstrument {
  readonly link: BenchLink;
  private wavelengthNm = 450;
  private unit: 'W' | 'DBM' = 'W';
  private averages = 1;
  private autoRange = true;
  /** The dark level the last zeroing took, W at the source wavelength (0: never zeroed). */
  private zeroW = 0;
  /** Instrument time a running zeroing ends, and the level it took. */
  private zeroing: { untilS: number; levelW: number } | undefined;

  constructor(link: BenchLink) {
    super({ role: 'optical-meter', identity: { ...link.profile.instruments['optical-meter'] }, clock: link.clock });
    this.link = link;

    // The model's command table (src/instruments/thorlabs-pm100d/commands.ts), the one the driver reads.
    const [lo, hi] = WAVELENGTH_RANGE_NM;
    this.implement(
      PM100D.wavelength,
      {
        set: ([v]) => {
          const nm = v! < 1e-3 ? v! * 1e9 : v!; // given in metres (450nm, 450E-9)
          this.wavelengthNm = inRange(nm, lo, hi, 'wavelength', ' nm');
        },
        get: () => this.wavelengthNm,
      },
      { keywords: { MIN: lo, MAX: hi } },
    );
    this.implement(PM100D.powerUnit, {
      set: ([u]) => {
        this.unit = u!;
      },
      get: () => this.unit,
    });
    this.implement(PM100D.autoRange, {
      set: ([on]) => {
        this.autoRange = on!;
      },
      get: () => this.autoRange,
    });
    this.implement(PM100D.averageCount, {
      set: ([n]) => {
        this.averages = inRange(n!, AVERAGE_RANGE[0], AVERAGE_RANGE[1], 'average count');
      },
      get: () => this.averages,
    });
    this.implement(PM100D.zero, {
      set: () => {
        const levelW = this.headW();
        this.zeroing = { untilS: this.clock.now() + ZERO_S, levelW };
      },
    });
    this.implement(PM100D.zeroState, { get: () => this.zeroRunning() });
    this.implement(PM100D.zeroMagnitude, {
      get: () => {
        this.zeroRunning();
        return this.zeroW * this.wavelengthScale();
      },
    });
    this.implement(PM100D.zeroAbort, {
      set: () => {
        if (this.zeroRunning()) this.zeroing = undefined;
      },
    });
    this.implement(PM100D.configurePower, { set: () => undefined });
    this.implement(PM100D.configuration, { get: () => 'POWer' as const });
    this.implement(PM100D.power, { get: () => this.reading() });
    this.implement(PM100D.read, { get: () => this.reading() });
    this.implement(PM100D.sensor, { get: () => 'S120C,SIM120001,01-Jan-2024,1,18,289' });
  }

  /** Whether a zeroing still runs; one that has ended becomes the zero. */
  private zeroRunning(): boolean {
    const z = this.zeroing;
    if (!z) return false;
    if (this.clock.now() < z.untilS) return true;
    this.zeroW = z.levelW;
    this.zeroing = undefined;
    return false;
  }

  /** What the head sees, dark level included, W at the source wavelength: the whole bundle. */
  private headW(): number {
    const rx = this.link.sync().receivedPower();
    let p = DARK_W;
    for (let i = 0; i < rx.length; i++) p += rx[i]!;
    return p;
  }

  private wavelengthScale(): number {
    return this.link.profile.link.wavelengthNm / this.wavelengthNm;
  }

  /** Power at the head less the zero, in the selected unit, corrected for the wavelength setting. */
  private reading(): number {
    this.zeroRunning();
    const p = (this.headW() - this.zeroW) * this.wavelengthScale();
    if (this.unit === 'W') return p;
    return 10 * Math.log10(Math.max(p, FLOOR_W) / 1e-3);
  }

  protected override onReset(): void {
    this.wavelengthNm = 450;
    this.unit = 'W';
    this.averages = 1;
    this.autoRange = true;
    this.zeroW = 0;
    this.zeroing = undefined;
  }
}
