/**
 * Simulated CMOS sensor receiver evaluation kit (`cmos-receiver`): the shared receiver command set plus
 * frames. `FETC:FRAM?` answers one frame of the shared link (a spot per lane) as a definite-length block of
 * 16-bit little-endian pixels, row-major; its noise comes from the bench's seeded streams.
 */
import { ScpiCommandError } from '../server/errors.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';
import { ReceiverInstrument } from './receiver.ts';

export const EXPOSURE_RANGE_S = [1e-6, 1] as const;
export const GAIN_RANGE = [1, 16] as const;

export class CmosReceiver extends ReceiverInstrument {
  readonly width: number;
  readonly height: number;
  private exposureS: number;
  private gain = 1;

  constructor(link: BenchLink) {
    super(link, {
      role: 'cmos-receiver',
      identity: { ...link.profile.instruments['cmos-receiver'] },
      clock: link.clock,
    });
    const fr = link.profile.receiver.frame;
    this.width = fr?.width ?? 160;
    this.height = fr?.height ?? 160;
    this.exposureS = fr?.exposureS ?? 1e-3;
    this.command('SENSe:FRAMe:SIZE', { query: () => [this.width, this.height], queryParams: [0, 0] });
    this.command('SENSe:EXPosure[:TIME]', {
      set: (c) => {
        const [lo, hi] = EXPOSURE_RANGE_S;
        const v = c.params[0]!.number('S', { MIN: lo, MAX: hi, DEF: this.defaultExposure() });
        this.exposureS = inRange(v, lo, hi, 'exposure', ' s');
      },
      query: () => this.exposureS,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('SENSe:GAIN', {
      set: (c) => {
        const [lo, hi] = GAIN_RANGE;
        const v = c.params[0]!.number(undefined, { MIN: lo, MAX: hi, DEF: 1 });
        this.gain = inRange(v, lo, hi, 'gain');
      },
      query: () => this.gain,
      setParams: [1, 1],
      queryParams: [0, 0],
    });
    this.command('FETCh:FRAMe', {
      query: () => {
        const m = this.link.sync();
        const px = m.frame(this.width, this.height, this.exposureS, this.gain, this.link.nextRng('frame'));
        if (px.length !== this.width * this.height) throw new ScpiCommandError(-240, 'frame size mismatch');
        return toLittleEndian(px); // a Buffer reply is sent as a definite-length block
      },
      queryParams: [0, 0],
    });
    this.onReset();
  }

  private defaultExposure(): number {
    return this.link.profile.receiver.frame?.exposureS ?? 1e-3;
  }

  protected override onReset(): void {
    super.onReset();
    this.exposureS = this.defaultExposure();
    this.gain = 1;
  }
}

function toLittleEndian(px: Uint16Array): Buffer {
  const out = Buffer.allocUnsafe(px.length * 2);
  for (let i = 0; i < px.length; i++) out.writeUInt16LE(px[i]!, i * 2);
  return out;
}
