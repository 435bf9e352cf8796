import { z } from 'zod';
import { formatQuery, formatSet, parseReply } from '../../scpi/command-table.ts';
import { compound, splitReplies } from '../../scpi/compound.ts';
import { formatNumber } from '../../scpi/parse.ts';
import { type DriverOptions, NotSafeError, ScpiDriver } from '../base.ts';
import type { CallOptions, SmuReading, SourceMeasureUnit } from '../capabilities.ts';
import type { DriverDescriptor, SettingsIssue } from '../descriptor.ts';
import { K2450 } from './commands.ts';

export interface K2450Options extends DriverOptions {
  limits: { maxCurrentA: number; maxVoltageV: number };
  /** Voltage limit (compliance) init() sets, V. */
  voltageLimitV: number;
  /** The DUT lane its leads are on, when it is wired to one. */
  lane?: number;
}

/**
 * Source-measure unit: Keithley 2450 in SCPI (commands.ts). init() makes it a current source measuring voltage
 * with its voltage limit; sourceCurrent/setVoltageLimit check the station limits before anything is sent;
 * measure() reads voltage, current and the limit flag in one compound message.
 */
export class Keithley2450 extends ScpiDriver implements SourceMeasureUnit {
  readonly lane: number | undefined;
  private readonly limits: { maxCurrentA: number; maxVoltageV: number };
  private readonly voltageLimitV: number;

  constructor(o: K2450Options) {
    super(o);
    this.limits = o.limits;
    this.voltageLimitV = o.voltageLimitV;
    this.lane = o.lane;
  }

  async init(opts?: CallOptions): Promise<void> {
    await this._set(K2450.sourceFunction, 'CURRent', undefined, opts);
    await this._set(K2450.senseFunction, 'VOLT', undefined, opts);
    await this._set(K2450.voltageAutoRange, true, undefined, opts);
    await this.setVoltageLimit(this.voltageLimitV, opts);
  }

  async sourceCurrent(amps: number, opts?: CallOptions): Promise<void> {
    const max = this.limits.maxCurrentA;
    if (!(Math.abs(amps) <= max)) this._refuse(`${amps} A is beyond the current limit ±${max} A`);
    await this._set(K2450.current, amps, undefined, opts);
  }

  async setVoltageLimit(volts: number, opts?: CallOptions): Promise<void> {
    const max = this.limits.maxVoltageV;
    if (!(volts > 0 && volts <= max)) this._refuse(`voltage limit ${volts} V is outside (0, ${max}] V`);
    await this._set(K2450.voltageLimit, volts, undefined, opts);
  }

  async setOutput(on: boolean, opts?: CallOptions): Promise<void> {
    await this._set(K2450.output, on, undefined, opts);
  }

  async getOutput(opts?: CallOptions): Promise<boolean> {
    return this._get1(K2450.output, opts);
  }

  /** Voltage, current and the voltage-limit flag, as one message: `:MEAS:VOLT?;:MEAS:CURR?;:SOUR:CURR:VLIM:TRIP?`. */
  async measure(opts?: CallOptions): Promise<SmuReading> {
    const text = compound([
      formatQuery(K2450.measureVoltage),
      formatQuery(K2450.measureCurrent),
      formatQuery(K2450.voltageLimitTripped),
    ]);
    const reply = await this._query(text, opts);
    return this._wrap(text, () => {
      const [v, i, t] = splitReplies(reply, 3);
      return {
        volts: parseReply(K2450.measureVoltage, v!)[0]!,
        amps: parseReply(K2450.measureCurrent, i!)[0]!,
        inCompliance: parseReply(K2450.voltageLimitTripped, t!)[0]!,
      };
    });
  }

  /** Output off and the level at 0 A, confirmed by `:OUTP?` and `:SOUR:CURR?`. */
  async safeState(opts?: CallOptions): Promise<string> {
    return this._makeSafe(
      [formatSet(K2450.output, false), formatSet(K2450.current, 0)],
      async () => {
        const on = await this.getOutput(opts);
        const level = await this._get1(K2450.current, opts);
        if (on)
          throw new NotSafeError(
            this.role,
            `the output is still on (:OUTP? answered 1), level ${formatNumber(level)} A`,
          );
        return `output off, source level ${formatNumber(level)} A (read back)`;
      },
      opts,
    );
  }
}

export interface K2450Settings {
  limits: { maxCurrentA: number; maxVoltageV: number };
  voltageLimitV: number;
  lane?: number;
}

/** Keithley 2450 SourceMeter (SCPI command set). */
export const descriptor: DriverDescriptor<K2450Settings> = {
  model: 'keithley-2450',
  title: 'Keithley 2450 SourceMeter (SCPI)',
  speaks: 'Keithley 2450 (SCPI)',
  capabilities: ['smu'],
  identity: 'MODEL 2450',
  settings: {
    /** What the station allows it to source: |I| and the voltage limit. */
    limits: z.strictObject({ maxCurrentA: z.number().gt(0).max(1.05), maxVoltageV: z.number().gt(0).max(210) }),
    /** Voltage limit (compliance) set at open, V. */
    voltageLimitV: z.number().gt(0).default(5),
    /** The DUT lane its leads are on (single-lane L-I-V). */
    lane: z.number().int().min(1).optional(),
  },
  check(s) {
    const out: SettingsIssue[] = [];
    if (s.voltageLimitV > s.limits.maxVoltageV)
      out.push({ path: ['voltageLimitV'], message: `expected at most limits.maxVoltageV (${s.limits.maxVoltageV} V)` });
    return out;
  },
  create: (c) =>
    new Keithley2450({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      limits: c.settings.limits,
      voltageLimitV: c.settings.voltageLimitV,
      ...(c.settings.lane !== undefined ? { lane: c.settings.lane } : {}),
    }),
};
