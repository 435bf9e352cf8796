/**
 * Simulated optical power meter speaking Thorlabs PM100D command strings (`optical-meter`), with an S120C-class
 * silicon head at the far end of the fibre. `ROUT:LANE n` (fixture extension) selects which lane's fibre
 * reaches the head; 0 takes the whole bundle. The meter converts photocurrent with the responsivity at the
 * wavelength it is set to, so a setting away from the source wavelength scales the reading by
 * λ_source / λ_set (silicon responsivity ∝ λ at constant quantum efficiency).
 */
import { ScpiInstrument } from '../server/instrument.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';

export const WAVELENGTH_RANGE_NM = [400, 1100] as const;
/** Readings never go below the head's noise floor (for dBm). */
const FLOOR_W = 1e-12;

export class OpticalMeter extends ScpiInstrument {
  readonly link: BenchLink;
  private wavelengthNm = 450;
  private unit: 'W' | 'DBM' = 'W';
  private lane = 0;
  private averages = 1;
  private autoRange = true;

  constructor(link: BenchLink) {
    super({ role: 'optical-meter', identity: { ...link.profile.instruments['optical-meter'] }, clock: link.clock });
    this.link = link;
    const lanes = link.model.lanes;

    this.command('SENSe:CORRection:WAVelength', {
      set: (c) => {
        const [lo, hi] = WAVELENGTH_RANGE_NM;
        let v = c.params[0]!.number('M', { MIN: lo, MAX: hi });
        if (v < 1e-3) v *= 1e9; // given in metres (450nm, 450E-9)
        this.wavelengthNm = inRange(v, lo, hi, 'wavelength', ' nm');
      },
      query: () => this.wavelengthNm,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('SENSe:POWer:UNIT', {
      set: (c) => {
        this.unit = c.params[0]!.keyword(['W', 'DBM']) as 'W' | 'DBM';
      },
      query: () => this.unit,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('SENSe:POWer[:DC]:RANGe:AUTO', {
      set: (c) => {
        this.autoRange = c.params[0]!.bool();
      },
      query: () => this.autoRange,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('SENSe:AVERage[:COUNt]', {
      set: (c) => {
        this.averages = inRange(c.params[0]!.int(), 1, 10000, 'average count');
      },
      query: () => this.averages,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('CONFigure[:SCALar]:POWer', { set: () => undefined, setParams: [0, 0] });
    this.command('CONFigure', { query: () => 'POW', queryParams: [0, 0] });
    this.command('MEASure[:SCALar]:POWer', { query: () => this.reading(), queryParams: [0, 0] });
    this.command('READ', { query: () => this.reading(), queryParams: [0, 0] });
    this.command('SYSTem:SENSor:IDN', { query: () => 'S120C,SIM120001,01-Jan-2024,1,18,289', queryParams: [0, 0] });
    this.command('ROUTe:LANE', {
      set: (c) => {
        this.lane = inRange(c.params[0]!.int(), 0, lanes, 'lane');
      },
      query: () => this.lane,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
  }

  /** Power at the head, in the selected unit, corrected for the wavelength setting. */
  private reading(): number {
    const rx = this.link.sync().receivedPower();
    let p = 0;
    if (this.lane === 0) for (let i = 0; i < rx.length; i++) p += rx[i]!;
    else p = rx[this.lane - 1]!;
    p *= this.link.profile.link.wavelengthNm / this.wavelengthNm;
    if (this.unit === 'W') return p;
    return 10 * Math.log10(Math.max(p, FLOOR_W) / 1e-3);
  }

  protected override onReset(): void {
    this.wavelengthNm = 450;
    this.unit = 'W';
    this.lane = 0;
    this.averages = 1;
    this.autoRange = true;
  }
}
