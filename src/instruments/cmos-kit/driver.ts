import { toUint16LE } from '../../scpi/block.ts';
import { formatQuery } from '../../scpi/command-table.ts';
import { DriverError } from '../base.ts';
import type { CallOptions, Frame, FrameCamera } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { PdReceiver, type PdReceiverOptions } from '../pd-kit/driver.ts';
import { CMOS_KIT } from './commands.ts';

/**
 * CMOS sensor receiver evaluation kit: a virtual SCPI instrument, through its command table (commands.ts, the PD
 * kit's plus frames). Everything the PD kit does, plus frame capture as an IEEE 488.2 definite-length block of
 * 16-bit little-endian pixels.
 */
export class CmosReceiver extends PdReceiver implements FrameCamera {
  private size: { width: number; height: number } | undefined;

  constructor(o: PdReceiverOptions) {
    super(o);
  }

  async frameSize(opts?: CallOptions): Promise<{ width: number; height: number }> {
    const [width, height] = (await this._get1(CMOS_KIT.frameSize, opts)) as [number, number];
    if (!(width > 0 && height > 0)) {
      throw new DriverError(
        this.role,
        formatQuery(CMOS_KIT.frameSize),
        new Error(`frame size ${width}x${height} is not positive`),
      );
    }
    this.size = { width, height };
    return { width, height };
  }

  /** One frame; the size is read once and cached. The block length must match width x height x 2. */
  async captureFrame(opts?: CallOptions): Promise<Frame> {
    const { width, height } = this.size ?? (await this.frameSize(opts));
    const data = await this._getBlock(CMOS_KIT.frame, opts);
    if (data.length !== width * height * 2) {
      throw new DriverError(
        this.role,
        formatQuery(CMOS_KIT.frame),
        new Error(`block of ${data.length} bytes is not a ${width}x${height} frame of 16-bit pixels`),
      );
    }
    return { width, height, pixels: toUint16LE(data) };
  }

  async setExposure(seconds: number, opts?: CallOptions): Promise<void> {
    if (!(seconds > 0) || !Number.isFinite(seconds)) this._refuse(`exposure ${seconds} s is not > 0`);
    return this._set(CMOS_KIT.exposure, seconds, undefined, opts);
  }

  async setGain(gain: number, opts?: CallOptions): Promise<void> {
    if (!(gain >= 1 && gain <= 16)) this._refuse(`gain ${gain} is outside 1..16`);
    return this._set(CMOS_KIT.gain, gain, undefined, opts);
  }
}

/** The CMOS sensor receiver kit: the PD kit's functions plus frames. */
export const descriptor: DriverDescriptor<Record<string, never>> = {
  model: 'cpobench-cmos-kit',
  title: 'CMOS sensor receiver evaluation kit (frames, per-lane power, error counters)',
  speaks: 'virtual: the cpobench CMOS kit command table',
  capabilities: ['error-detector', 'decision-threshold', 'lane-deskew', 'lane-power-monitor', 'frame-camera'],
  identity: ',CMOSRX-',
  settings: {},
  create: (c) =>
    new CmosReceiver({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      lanes: c.lanes,
    }),
};
