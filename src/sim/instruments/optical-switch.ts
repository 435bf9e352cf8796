/**
 * Simulated optical switch speaking the Keysight N7734A-class routing commands (`:ROUT1:CHAN<m> A,<port>`, the
 * table in src/instruments/keysight-n7734a/commands.ts): slot 1, the bench's switch channels, one port per lane.
 */
import { N7734A } from '../../instruments/keysight-n7734a/commands.ts';
import { ScpiCommandError } from '../server/errors.ts';
import { serveFields } from '../server/fields.ts';
import { ScpiInstrument } from '../server/instrument.ts';
import type { CommandContext } from '../server/tree.ts';
import type { BenchLink } from './link.ts';
import type { BenchOptics } from './optics.ts';

export class OpticalSwitch extends ScpiInstrument {
  private readonly optics: BenchOptics;

  constructor(link: BenchLink, optics: BenchOptics) {
    super({ role: 'lane-switch', identity: { ...link.profile.instruments['lane-switch']! }, clock: link.clock });
    this.optics = optics;
    serveFields(this, N7734A.route, {
      set: (port, c) => {
        const channel = this.channel(c);
        if (port < 1 || port > optics.lanes)
          throw new ScpiCommandError(-222, `port ${port} is outside 1..${optics.lanes}`);
        optics.connect(channel, port);
      },
      get: (c) => optics.portOf(this.channel(c)),
    });
  }

  private channel(c: CommandContext): number {
    const [slot, channel] = c.suffixes as [number, number];
    if (slot !== 1) throw new ScpiCommandError(-114, `no switch in slot ${slot}`);
    if (channel < 1 || channel > this.optics.channels)
      throw new ScpiCommandError(-114, `channel ${channel} is outside 1..${this.optics.channels}`);
    return channel;
  }
}
