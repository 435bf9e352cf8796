/**
 * Simulated variable optical attenuator speaking Keysight N7764A commands (`:INP<n>:ATT <dB>`, `:OUTP<n>:STAT`,
 * the table in src/instruments/keysight-n7764a/commands.ts): one channel in front of each error-detector input.
 * *RST: 0 dB, shutters closed.
 */
import { N7764A } from '../../instruments/keysight-n7764a/commands.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import type { CommandContext } from '../server/tree.ts';
import { inRange } from './lanes.ts';
import type { BenchLink } from './link.ts';
import type { BenchOptics } from './optics.ts';

export class AttenuatorInstrument extends ScpiInstrument {
  private readonly optics: BenchOptics;
  readonly maxDb: number;

  constructor(link: BenchLink, optics: BenchOptics, maxDb: number) {
    super({ role: 'attenuator', identity: { ...link.profile.instruments.attenuator! }, clock: link.clock });
    this.optics = optics;
    this.maxDb = maxDb;
    this.implement(N7764A.attenuation, {
      set: ([db], _, c) => optics.setAttenuation(this.channel(c), inRange(db!, 0, maxDb, 'attenuation', ' dB')),
      get: (_, c) => optics.attenuation(this.channel(c)),
    });
    this.implement(N7764A.shutter, {
      set: ([on], _, c) => optics.setShutter(this.channel(c), on!),
      get: (_, c) => optics.shutterOpen(this.channel(c)),
    });
  }

  private channel(c: CommandContext): number {
    const n = c.suffixes[0]!;
    if (n < 1 || n > this.optics.edChannels)
      throw new ScpiCommandError(-114, `channel ${n} is outside 1..${this.optics.edChannels}`);
    return n;
  }

  protected override onReset(): void {
    for (let c = 1; c <= this.optics.edChannels; c++) {
      this.optics.setAttenuation(c, 0);
      this.optics.setShutter(c, false);
    }
  }
}
