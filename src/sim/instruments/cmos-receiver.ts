/**
 * Simulated CMOS sensor receiver evaluation kit (`cmos-receiver`): the shared receiver command set plus
 * frames. `FETC:FRAM?` answers one frame of the shared link (a spot per lane) as a definite-length block of
 * 16-bit little-endian pixels, row-major; its noise comes from the bench's seeded streams.
 *
 * Frames run at the sensor's frame rate on the instrument clock (`sensor.frameRateHz`; an exposure longer than
 * the frame period stretches the period to it): fetches within one frame period, with the light and the settings
 * unchanged, return that same frame, byte for byte. A change of the light gives a new frame at once (rolling
 * exposure, rows exposed at staggered times, is not modelled).
 */
import { CMOS_KIT } from '../../instruments/cmos-kit/commands.ts';
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
  /** The last frame sent, and what it was taken under. */
  private last: { index: number; state: number; exposureS: number; gain: number; bytes: Buffer } | undefined;

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
    // The CMOS kit's lines of its command table (src/instruments/cmos-kit/commands.ts).
    this.implement(CMOS_KIT.frameSize, { get: () => [this.width, this.height] });
    const [elo, ehi] = EXPOSURE_RANGE_S;
    this.implement(
      CMOS_KIT.exposure,
      {
        set: ([v]) => {
          this.exposureS = inRange(v!, elo, ehi, 'exposure', ' s');
        },
        get: () => this.exposureS,
      },
      { keywords: { MIN: elo, MAX: ehi, DEF: this.defaultExposure() } },
    );
    const [glo, ghi] = GAIN_RANGE;
    this.implement(
      CMOS_KIT.gain,
      {
        set: ([v]) => {
          this.gain = inRange(v!, glo, ghi, 'gain');
        },
        get: () => this.gain,
      },
      { keywords: { MIN: glo, MAX: ghi, DEF: 1 } },
    );
    this.implement(CMOS_KIT.frame, {
      get: () => {
        const m = this.link.sync();
        const period = this.framePeriodS();
        // without a frame rate every fetch is a new frame (NaN matches nothing)
        const index = period > 0 ? Math.floor(this.clock.now() / period) : Number.NaN;
        const l = this.last;
        if (
          l &&
          l.index === index &&
          l.state === m.stateVersion &&
          l.exposureS === this.exposureS &&
          l.gain === this.gain
        )
          return l.bytes;
        const px = m.frame(this.width, this.height, this.exposureS, this.gain, this.link.nextRng('frame'));
        if (px.length !== this.width * this.height) throw new ScpiCommandError(-240, 'frame size mismatch');
        const bytes = toLittleEndian(px); // sent as a definite-length block
        this.last = { index, state: m.stateVersion, exposureS: this.exposureS, gain: this.gain, bytes };
        return bytes;
      },
    });
    this.onReset();
  }

  /** One frame's time on the instrument clock: 1/frame rate, or the exposure when longer; 0 without a rate. */
  private framePeriodS(): number {
    const rate = this.link.profile.receiver.sensor?.frameRateHz;
    return rate ? Math.max(1 / rate, this.exposureS) : 0;
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
