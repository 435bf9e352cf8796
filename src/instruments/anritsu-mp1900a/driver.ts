import { z } from 'zod';
import { formatItemQuery } from '../../scpi/command-fields.ts';
import { formatQuery, formatSet, parseReply } from '../../scpi/command-table.ts';
import { compound, splitReplies } from '../../scpi/compound.ts';
import { type DriverOptions, NotSafeError, ScpiDriver } from '../base.ts';
import type { CallOptions, ErrorDetector, GateResult, Lanes, Pattern } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { ITEMS, MP1900A, PRBS_LENGTHS } from './commands.ts';

export interface Mp1900aOptions extends DriverOptions {
  /** The slot of the error-detector module. */
  module: number;
  channels: number;
}

/**
 * Error detector: Anritsu MP1900A with a multi-channel ED module (commands.ts). Its "lanes" are its input
 * channels 1..channels (behind an optical switch, src/station/switched-detector.ts makes them DUT lanes). Every
 * message starts by selecting the module, and per-channel commands select the channel first, so nothing depends
 * on what was selected before; several channels go in one compound message.
 */
export class Mp1900a extends ScpiDriver implements ErrorDetector {
  readonly maxLanesPerGate: number;
  private readonly module: number;

  constructor(o: Mp1900aOptions) {
    super(o);
    this.module = o.module;
    this.maxLanesPerGate = o.channels;
  }

  /** PRBS patterns only (O.150 polarity, logic POSitive): the ED compares them without a reference. */
  async setCheckerPattern(lanes: Lanes, pattern: Pattern, opts?: CallOptions): Promise<void> {
    const n = Number(/^PRBS(\d+)$/.exec(pattern)?.[1]);
    if (!PRBS_LENGTHS.includes(n as (typeof PRBS_LENGTHS)[number]))
      this._refuse(`the ED checks PRBS patterns, not ${pattern}`);
    const parts = this.channels(lanes).flatMap((c) => [
      formatSet(MP1900A.channel, c),
      formatSet(MP1900A.patternType, 'PRBS'),
      formatSet(MP1900A.prbsLength, n),
      formatSet(MP1900A.logic, 'POSitive'),
    ]);
    await this._send(this.message(parts), opts);
  }

  /** A single timed gate of `seconds` (rounded up to whole seconds, as the ED counts them), then started. */
  async startGate(seconds: number, opts?: CallOptions): Promise<void> {
    if (!(seconds > 0) || !Number.isFinite(seconds)) this._refuse(`gate time ${seconds} s is not > 0`);
    await this._send(
      this.message([
        formatSet(MP1900A.gateMode, 'SINGle'),
        formatSet(MP1900A.gateUnit, 'TIME'),
        formatSet(MP1900A.gatePeriod, Math.max(1, Math.ceil(seconds))),
        formatSet(MP1900A.start),
      ]),
      opts,
    );
  }

  async gateRunning(opts?: CallOptions): Promise<boolean> {
    const text = this.message([formatQuery(MP1900A.running)]);
    const reply = await this._query(text, opts);
    return this._wrap(text, () => parseReply(MP1900A.running, reply)[0]!);
  }

  async stopGate(opts?: CallOptions): Promise<void> {
    await this._send(this.message([formatSet(MP1900A.stop)]), opts);
  }

  async readCounters(lanes: Lanes, opts?: CallOptions): Promise<GateResult> {
    const channels = this.channels(lanes);
    const v = await this.items(channels, [ITEMS.bitCount, ITEMS.errorCount], opts);
    return {
      lanes: [...channels],
      bits: channels.map((_, i) => v[i]![0]!),
      errors: channels.map((_, i) => v[i]![1]!),
    };
  }

  async syncStatus(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return (await this.items(this.channels(lanes), [ITEMS.syncLoss], opts)).map(([s]) => s === 0);
  }

  async lossOfSignal(lanes: Lanes, opts?: CallOptions): Promise<boolean[]> {
    return (await this.items(this.channels(lanes), [ITEMS.clockLoss], opts)).map(([s]) => !(s === 0));
  }

  /** The measurement stopped, confirmed by `:SENS:MEAS:EAL:STAT?` = 0. */
  async safeState(opts?: CallOptions): Promise<string> {
    return this._makeSafe(
      [this.message([formatSet(MP1900A.stop)])],
      async () => {
        if (await this.gateRunning(opts))
          throw new NotSafeError(this.role, 'the measurement still runs (:SENS:MEAS:EAL:STAT? answered 1)');
        return `measurement stopped on module ${this.module} (read back)`;
      },
      opts,
    );
  }

  /** Result items per channel, one compound query: `[channel][item]`. */
  private async items(channels: number[], items: readonly string[], opts?: CallOptions): Promise<number[][]> {
    const parts = channels.flatMap((c) => [
      formatSet(MP1900A.channel, c),
      ...items.map((it) => formatItemQuery(MP1900A.result, it)),
    ]);
    const text = this.message(parts);
    const reply = await this._query(text, opts);
    return this._wrap(text, () => {
      const all = splitReplies(reply, channels.length * items.length).map((r) => parseReply(MP1900A.result, r)[0]!);
      return channels.map((_, i) => all.slice(i * items.length, (i + 1) * items.length));
    });
  }

  private message(parts: readonly string[]): string {
    return compound([formatSet(MP1900A.module, this.module), ...parts]);
  }

  private channels(lanes: Lanes): number[] {
    if (lanes.length === 0) this._refuse('no channels given');
    for (const c of lanes) {
      if (!Number.isInteger(c) || c < 1 || c > this.maxLanesPerGate)
        this._refuse(`channel ${c} is outside the ED's 1..${this.maxLanesPerGate}`);
    }
    return [...lanes];
  }
}

export interface Mp1900aSettings {
  module: number;
  channels: number;
}

/** Anritsu MP1900A with a 4-channel error-detector module. */
export const descriptor: DriverDescriptor<Mp1900aSettings> = {
  model: 'anritsu-mp1900a',
  title: 'Anritsu MP1900A signal quality analyzer, 4-channel error detector',
  speaks: 'Anritsu MP1900A (MX190000A SCPI)',
  capabilities: ['error-detector'],
  identity: 'MP1900A',
  settings: {
    /** Slot of the error-detector module (`:MODule:ID`). */
    module: z.number().int().min(1).max(8).default(1),
    /** Error-detector channels (inputs) of the module: lanes counted in one gate. */
    channels: z.number().int().min(1).max(4).default(4),
  },
  create: (c) =>
    new Mp1900a({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      module: c.settings.module,
      channels: c.settings.channels,
    }),
};
