import { z } from 'zod';
import { formatQuery, formatSet } from '../../scpi/command-table.ts';
import { DriverError, type DriverOptions, NotSafeError, ScpiDriver } from '../base.ts';
import type { CallOptions, RailMeter, RailReading, Supply } from '../capabilities.ts';
import type { DriverDescriptor } from '../descriptor.ts';
import { measuresPower, N6705C } from './commands.ts';

export interface Rail {
  channel: number;
  name: string;
  /** Counts toward energy per bit. */
  counted: boolean;
  /** Highest voltage setpoint allowed on this rail, V. */
  maxV?: number;
  /** Lowest voltage setpoint allowed on this rail, V (0 = off is always allowed). */
  minV?: number;
  /** The DUT's nominal voltage on this rail, V (supply margins are relative to it). */
  nominalV?: number;
}

export interface N6705cOptions extends DriverOptions {
  rails: readonly Rail[];
  /** What safeState() does with the outputs: leave them (the DUT stays powered) or switch them off. */
  safeOutputs: 'keep' | 'off';
}

/**
 * DC power analyzer: Keysight N6705C, through its command table (commands.ts: `MEAS:VOLT? (@1:4)`,
 * `VOLT 3.3,(@1)`, `OUTP ON,(@1:4)`). Rails are the mainframe channels named in the station file. `MEAS:POW?` goes
 * only to modules that measure power (read once with `SYST:CHAN:MOD?`); the others' power is V × I.
 */
export class N6705c extends ScpiDriver implements RailMeter, Supply {
  readonly rails: readonly Rail[];
  readonly railNames: readonly string[];
  private readonly safeOutputs: 'keep' | 'off';
  /** Module model per configured rail, read once (moduleModels). */
  private modules: ReadonlyMap<number, string> | undefined;

  constructor(o: N6705cOptions) {
    super(o);
    this.rails = [...o.rails].sort((a, b) => a.channel - b.channel);
    this.railNames = this.rails.map((r) => r.name);
    this.safeOutputs = o.safeOutputs;
  }

  /** Channels that count toward energy per bit. */
  get countedRails(): number[] {
    return this.rails.filter((r) => r.counted).map((r) => r.channel);
  }

  async channelCount(opts?: CallOptions): Promise<number> {
    return this._get1(N6705C.channelCount, opts);
  }

  /**
   * The module model in each configured rail's channel (`SYST:CHAN:MOD?`), read once per driver: which rails
   * answer `MEAS:POW?`.
   */
  async moduleModels(opts?: CallOptions): Promise<ReadonlyMap<number, string>> {
    if (this.modules) return this.modules;
    const channels = this.rails.map((r) => r.channel);
    if (channels.length === 0) return new Map();
    const models = await this._get(N6705C.moduleModel, channels, opts);
    this.modules = new Map(channels.map((ch, i) => [ch, models[i]!]));
    return this.modules;
  }

  /**
   * Voltage, current and power of each rail (default: every configured rail): `MEAS:VOLT?` and `MEAS:CURR?` over
   * the rails, `MEAS:POW?` over those whose module measures power; for the others the power is volts × amps of
   * those readings, and the reading says so (`power: 'V×I'`).
   */
  async measure(
    rails: readonly number[] = this.rails.map((r) => r.channel),
    opts?: CallOptions,
  ): Promise<RailReading[]> {
    this._channels(rails);
    const models = await this.moduleModels(opts);
    const volts = await this._get(N6705C.measuredVoltage, rails, opts);
    const amps = await this._get(N6705C.measuredCurrent, rails, opts);
    const metered = rails.filter((ch) => measuresPower(models.get(ch) ?? ''));
    const watts = metered.length ? await this._get(N6705C.measuredPower, metered, opts) : [];
    return rails.map((rail, i) => {
      const k = metered.indexOf(rail);
      return {
        rail,
        name: this.rails.find((r) => r.channel === rail)?.name ?? `ch${rail}`,
        volts: volts[i]!,
        amps: amps[i]!,
        watts: k >= 0 ? watts[k]! : volts[i]! * amps[i]!,
        power: k >= 0 ? 'measured' : 'V×I',
      };
    });
  }

  async setOutput(rails: readonly number[], on: boolean, opts?: CallOptions): Promise<void> {
    return this._set(N6705C.output, on, this._channels(rails), opts);
  }

  async getOutput(rails: readonly number[], opts?: CallOptions): Promise<boolean[]> {
    return this._get(N6705C.output, this._channels(rails), opts);
  }

  async setVoltage(rails: readonly number[], volts: number, opts?: CallOptions): Promise<void> {
    this._channels(rails);
    if (!Number.isFinite(volts) || volts < 0) this._refuse(`voltage ${volts} V is not >= 0`);
    for (const ch of rails) {
      const r = this.rails.find((x) => x.channel === ch);
      if (r?.maxV !== undefined && volts > r.maxV)
        this._refuse(`voltage ${volts} V on rail ${ch} (${r.name}) is above its limit ${r.maxV} V`);
      if (r?.minV !== undefined && volts > 0 && volts < r.minV)
        this._refuse(`voltage ${volts} V on rail ${ch} (${r.name}) is below its limit ${r.minV} V`);
    }
    return this._set(N6705C.voltage, volts, rails, opts);
  }

  /** The voltage setpoint of each rail, read back (`VOLT? (@...)`). */
  async voltage(rails: readonly number[], opts?: CallOptions): Promise<number[]> {
    return this._get(N6705C.voltage, this._channels(rails), opts);
  }

  async setCurrentLimit(rails: readonly number[], amps: number, opts?: CallOptions): Promise<void> {
    this._channels(rails);
    if (!Number.isFinite(amps) || amps <= 0) this._refuse(`current limit ${amps} A is not > 0`);
    return this._set(N6705C.currentLimit, amps, rails, opts);
  }

  /**
   * Outputs as configured: `keep` leaves them (the DUT stays powered) and reads them back for the record; `off`
   * switches every configured rail off and confirms each reads back off.
   */
  async safeState(opts?: CallOptions): Promise<string> {
    const channels = this.rails.map((r) => r.channel);
    if (channels.length === 0) return 'no rails configured: nothing to switch';
    const describe = (on: boolean[]) => this.rails.map((r, i) => `${r.name} ${on[i] ? 'on' : 'off'}`).join(', ');
    if (this.safeOutputs === 'keep') {
      return this._makeSafe(
        [],
        async () => `outputs kept (safe.outputs: keep): ${describe(await this.getOutput(channels, opts))} (read back)`,
        opts,
      );
    }
    return this._makeSafe(
      [formatSet(N6705C.output, false, channels)],
      async () => {
        const on = await this.getOutput(channels, opts);
        if (on.some(Boolean)) throw new NotSafeError(this.role, `rails still on: ${describe(on)} (read back)`);
        return `every rail off: ${describe(on)} (read back)`;
      },
      opts,
    );
  }

  /** With `safe.outputs: off`, a run powers the DUT again: every configured rail on, read back. */
  async prepare(opts?: CallOptions): Promise<void> {
    if (this.safeOutputs !== 'off' || this.rails.length === 0) return;
    const channels = this.rails.map((r) => r.channel);
    await this.setOutput(channels, true, opts);
    const on = await this.getOutput(channels, opts);
    const off = this.rails.filter((_, i) => !on[i]).map((r) => r.name);
    if (off.length) {
      const query = formatQuery(N6705C.output, channels);
      throw new DriverError(this.role, query, new Error(`rails did not switch on: ${off.join(', ')}`));
    }
  }

  /** The rails, once checked to be configured ones (refused before anything is sent). */
  private _channels(rails: readonly number[]): readonly number[] {
    if (rails.length === 0) this._refuse('no rails given');
    for (const ch of rails) {
      if (!this.rails.some((r) => r.channel === ch)) {
        this._refuse(`rail ${ch} is not configured (rails: ${this.rails.map((r) => r.channel).join(', ')})`);
      }
    }
    return rails;
  }
}

const railSchema = z.strictObject({
  channel: z.number().int().min(1).max(4),
  name: z.string().min(1),
  /** Counts toward energy per bit. */
  counted: z.boolean().default(true),
  /** Highest voltage setpoint allowed, V. */
  maxV: z.number().gt(0).optional(),
  /** Lowest voltage setpoint allowed (other than 0, off), V. */
  minV: z.number().gt(0).optional(),
  /** The DUT's nominal voltage on this rail, V: supply margins are relative to it. */
  nominalV: z.number().gt(0).optional(),
});

export interface N6705cSettings {
  rails: Rail[];
  safe: { outputs: 'keep' | 'off' };
}

/** Keysight N6705C DC power analyzer: the DUT's rails, metered and supplied. */
export const descriptor: DriverDescriptor<N6705cSettings> = {
  model: 'keysight-n6705c',
  title: 'Keysight N6705C DC power analyzer (up to 4 rails: V, I, P; outputs)',
  speaks: 'Keysight N6705C',
  capabilities: ['rail-meter', 'supply'],
  identity: 'N6705C',
  settings: {
    rails: z
      .array(railSchema)
      .default([])
      .refine((r) => new Set(r.map((x) => x.channel)).size === r.length, {
        message: 'expected distinct rail channels',
      }),
    safe: z.strictObject({ outputs: z.enum(['keep', 'off']).default('keep') }).default({ outputs: 'keep' }),
  },
  create: (c) =>
    new N6705c({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      rails: c.settings.rails,
      safeOutputs: c.settings.safe.outputs,
    }),
};
