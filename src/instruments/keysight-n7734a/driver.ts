import { z } from 'zod';
import { readFields } from '../../scpi/command-fields.ts';
import { withSuffix } from '../../scpi/command-suffix.ts';
import { formatQuery, formatSet } from '../../scpi/command-table.ts';
import { compound, splitReplies } from '../../scpi/compound.ts';
import { type DriverOptions, NotSafeError, ScpiDriver } from '../base.ts';
import type { CallOptions, OpticalSwitch, SwitchRoute } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { N7734A } from './commands.ts';

export interface N7734aOptions extends DriverOptions {
  slot: number;
  channels: number;
  ports: number;
}

/**
 * Optical switch: Keysight N7734A-class routing (commands.ts). route() connects several channels in one compound
 * message; routes() reads them back in one. A switch drives nothing: its safe state is to confirm it answers and
 * report where its channels are connected.
 */
export class N7734a extends ScpiDriver implements OpticalSwitch {
  readonly channels: number;
  readonly ports: number;
  private readonly slot: number;

  constructor(o: N7734aOptions) {
    super(o);
    this.slot = o.slot;
    this.channels = o.channels;
    this.ports = o.ports;
  }

  async route(routes: readonly SwitchRoute[], opts?: CallOptions): Promise<void> {
    if (routes.length === 0) this._refuse('no routes given');
    const used = new Map<number, number>();
    for (const { channel, port } of routes) {
      this.checkChannel(channel);
      if (!Number.isInteger(port) || port < 1 || port > this.ports)
        this._refuse(`port ${port} is outside 1..${this.ports}`);
      const other = used.get(port);
      if (other !== undefined && other !== channel)
        this._refuse(`port ${port} routed to channels ${other} and ${channel}`);
      used.set(port, channel);
    }
    await this._send(compound(routes.map((r) => formatSet(this.line(r.channel), r.port))), opts);
  }

  async routes(channels: readonly number[], opts?: CallOptions): Promise<number[]> {
    if (channels.length === 0) this._refuse('no channels given');
    for (const c of channels) this.checkChannel(c);
    const text = compound(channels.map((c) => formatQuery(this.line(c))));
    const reply = await this._query(text, opts);
    return this._wrap(text, () => splitReplies(reply, channels.length).map((r) => readFields(N7734A.route, r)));
  }

  /** Passive: confirms the switch answers and says where each channel is connected (read back). */
  async safeState(opts?: CallOptions): Promise<string> {
    const all = Array.from({ length: this.channels }, (_, i) => i + 1);
    return this._makeSafe(
      [],
      async () => {
        let ports: number[];
        try {
          ports = await this.routes(all, opts);
        } catch (err) {
          throw new NotSafeError(this.role, `routes could not be read back: ${(err as Error).message}`);
        }
        const where = ports.map((p, i) => `${all[i]}→${p === 0 ? 'none' : p}`).join(', ');
        return `passive: a switch drives nothing; channels ${where} (read back)`;
      },
      opts,
    );
  }

  private line(channel: number) {
    return withSuffix(N7734A.route, this.slot, channel);
  }

  private checkChannel(c: number): void {
    if (!Number.isInteger(c) || c < 1 || c > this.channels) this._refuse(`channel ${c} is outside 1..${this.channels}`);
  }
}

export interface N7734aSettings {
  slot: number;
  channels: number;
  ports: number;
}

/** Keysight N7734A-class optical switch. */
export const descriptor: DriverDescriptor<N7734aSettings> = {
  model: 'keysight-n7734a',
  title: 'Keysight N7734A-class optical switch',
  speaks: 'Keysight N77xx optical switch (ROUTe)',
  capabilities: ['optical-switch'],
  identity: 'N7734A',
  settings: {
    /** The slot (first suffix of :ROUT<slot>:CHAN<m>). */
    slot: z.number().int().min(1).default(1),
    /** Switch channels: one common each (an error-detector input, a meter head). */
    channels: z.number().int().min(1).max(64),
    /** Ports per channel: lane fibres. */
    ports: z.number().int().min(1).max(4096),
  },
  create: (c) =>
    new N7734a({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      slot: c.settings.slot,
      channels: c.settings.channels,
      ports: c.settings.ports,
    }),
};
