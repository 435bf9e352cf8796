import { z } from 'zod';
import { withSuffix } from '../../scpi/command-suffix.ts';
import { formatQuery, formatSet, parseReply, type ScpiCommand } from '../../scpi/command-table.ts';
import { compound, splitReplies } from '../../scpi/compound.ts';
import { formatNumber } from '../../scpi/parse.ts';
import { type DriverOptions, NotSafeError, ScpiDriver } from '../base.ts';
import type { Attenuator, CallOptions } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { N7764A } from './commands.ts';

export interface N7764aOptions extends DriverOptions {
  channels: number;
  maxDb: number;
  /** Attenuation prepare() sets before it opens the shutters, dB. */
  operatingDb: number;
}

/**
 * Variable optical attenuator: Keysight N7764A (commands.ts), one suffixed command per channel, several channels
 * in one compound message. The safe state closes every shutter; prepare() (before a run's first step) sets the
 * operating attenuation and opens them again, both read back.
 */
export class N7764a extends ScpiDriver implements Attenuator {
  readonly channels: number;
  private readonly maxDb: number;
  private readonly operatingDb: number;

  constructor(o: N7764aOptions) {
    super(o);
    this.channels = o.channels;
    this.maxDb = o.maxDb;
    this.operatingDb = o.operatingDb;
  }

  async setAttenuation(db: number, channels?: readonly number[], opts?: CallOptions): Promise<void> {
    if (!(db >= 0 && db <= this.maxDb)) this._refuse(`attenuation ${db} dB is outside 0..${this.maxDb} dB`);
    await this._send(compound(this.list(channels).map((c) => formatSet(withSuffix(N7764A.attenuation, c), db))), opts);
  }

  async attenuation(channels?: readonly number[], opts?: CallOptions): Promise<number[]> {
    return this.read(N7764A.attenuation, this.list(channels), opts);
  }

  async setEnabled(on: boolean, channels?: readonly number[], opts?: CallOptions): Promise<void> {
    await this._send(compound(this.list(channels).map((c) => formatSet(withSuffix(N7764A.shutter, c), on))), opts);
  }

  async enabled(channels?: readonly number[], opts?: CallOptions): Promise<boolean[]> {
    return this.read(N7764A.shutter, this.list(channels), opts);
  }

  /** Every shutter closed, confirmed by `:OUTP<n>:STAT?` on each channel. */
  async safeState(opts?: CallOptions): Promise<string> {
    const all = this.list();
    return this._makeSafe(
      [compound(all.map((c) => formatSet(withSuffix(N7764A.shutter, c), false)))],
      async () => {
        const open = (await this.enabled(all, opts)).flatMap((on, i) => (on ? [all[i]] : []));
        if (open.length)
          throw new NotSafeError(this.role, `shutter still open on channel ${open.join(', ')} (read back)`);
        return `shutter closed on every channel (${all.join(', ')}) (read back)`;
      },
      opts,
    );
  }

  /** Where a run starts from: the operating attenuation on every channel, shutters open, read back. */
  async prepare(opts?: CallOptions): Promise<void> {
    await this.setAttenuation(this.operatingDb, undefined, opts);
    await this.setEnabled(true, undefined, opts);
    const att = await this.attenuation(undefined, opts);
    const on = await this.enabled(undefined, opts);
    const wrong = this.list().filter((_, i) => !on[i] || Math.abs(att[i]! - this.operatingDb) > 0.01);
    if (wrong.length) {
      throw new NotSafeError(
        this.role,
        `channel ${wrong.join(', ')} not at ${formatNumber(this.operatingDb)} dB with its shutter open (read back)`,
      );
    }
  }

  private list(channels?: readonly number[]): number[] {
    const list = channels ? [...channels] : Array.from({ length: this.channels }, (_, i) => i + 1);
    if (list.length === 0) this._refuse('no channels given');
    for (const c of list)
      if (!Number.isInteger(c) || c < 1 || c > this.channels)
        this._refuse(`channel ${c} is outside 1..${this.channels}`);
    return list;
  }

  private async read<T>(cmd: ScpiCommand<T>, channels: number[], opts?: CallOptions): Promise<T[]> {
    const text = compound(channels.map((c) => formatQuery(withSuffix(cmd, c))));
    const reply = await this._query(text, opts);
    return this._wrap(text, () => splitReplies(reply, channels.length).map((r) => parseReply(cmd, r)[0]!));
  }
}

export interface N7764aSettings {
  channels: number;
  limits: { maxDb: number };
  operatingDb: number;
}

/** Keysight N7764A 4-channel variable optical attenuator. */
export const descriptor: DriverDescriptor<N7764aSettings> = {
  model: 'keysight-n7764a',
  title: 'Keysight N7764A 4-channel variable optical attenuator',
  speaks: 'Keysight N7764A (N77xx attenuator commands)',
  capabilities: ['attenuator'],
  identity: 'N7764A',
  settings: {
    /** Attenuator channels in use (N7764A: 4). */
    channels: z.number().int().min(1).max(4).default(4),
    /** Highest attenuation the station allows, dB. */
    limits: z.strictObject({ maxDb: z.number().gt(0).max(60) }).default({ maxDb: 40 }),
    /** Attenuation a run starts from (prepare() opens the shutters at it), dB. */
    operatingDb: z.number().min(0).default(0),
  },
  check(s) {
    return s.operatingDb > s.limits.maxDb
      ? [{ path: ['operatingDb'], message: `expected at most limits.maxDb (${s.limits.maxDb} dB)` }]
      : [];
  },
  create: (c) =>
    new N7764a({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      channels: c.settings.channels,
      maxDb: c.settings.limits.maxDb,
      operatingDb: c.settings.operatingDb,
    }),
};
