import { z } from 'zod';
import { timerMs, timerSeconds } from '../../config/durations.ts';
import { formatSet } from '../../scpi/command-table.ts';
import { formatNumber } from '../../scpi/parse.ts';
import { type DriverOptions, NotSafeError, rampDelay, ScpiDriver } from '../base.ts';
import type { CallOptions, ThermalController } from '../capabilities.ts';
import type { DriverDescriptor, SettingsIssue } from '../descriptor.ts';
import { TED4015 } from './commands.ts';

export interface Ted4015Options extends DriverOptions {
  limits: { minC: number; maxC: number };
  /** Setpoint of the safe state; without it, safeState() switches the output off. */
  idleC?: number;
  ramp?: { stepC: number; delayMs: number };
  settle?: { toleranceC: number; dwellS: number; pollMs?: number };
}

/**
 * TEC controller: Thorlabs TED4015, through its command table (commands.ts: `UNIT:TEMP C`, `SOUR:TEMP 25C`,
 * `SOUR:TEMP?`, `MEAS:SCAL:TEMP?`, `OUTP ON`). init() sets the temperature unit to °C before anything reads one.
 * Setpoint changes ramp in steps of ramp.stepC with ramp.delayMs between them.
 */
export class Ted4015 extends ScpiDriver implements ThermalController {
  readonly limits: { minC: number; maxC: number };
  private readonly idleC: number | undefined;
  private readonly ramp: { stepC: number; delayMs: number } | undefined;
  private readonly settle: { toleranceC: number; dwellS: number; pollMs?: number } | undefined;

  constructor(o: Ted4015Options) {
    super(o);
    this.limits = o.limits;
    this.idleC = o.idleC;
    this.ramp = o.ramp;
    this.settle = o.settle;
  }

  /** Temperatures in °C: the unit is set before any setpoint is written or read. */
  async init(opts?: CallOptions): Promise<void> {
    await this._set(TED4015.unit, 'Celsius', undefined, opts);
  }

  /** Checks the limits, reads the present setpoint, then steps to the target. */
  async setSetpoint(celsius: number, opts?: CallOptions): Promise<void> {
    const { minC, maxC } = this.limits;
    if (!(celsius >= minC && celsius <= maxC)) this._refuse(`setpoint ${celsius} °C is outside ${minC}..${maxC} °C`);
    const from = this.ramp ? await this.setpoint(opts) : celsius;
    for (const [i, t] of stepsTo(from, celsius, this.ramp?.stepC).entries()) {
      if (i > 0) await rampDelay(this.clock, this.ramp?.delayMs ?? 0, opts?.signal);
      await this._set(TED4015.setpoint, t, undefined, opts);
    }
  }

  async setpoint(opts?: CallOptions): Promise<number> {
    return this._get1(TED4015.setpoint, opts);
  }

  async temperature(opts?: CallOptions): Promise<number> {
    return this._get1(TED4015.temperature, opts);
  }

  async setOutput(on: boolean, opts?: CallOptions): Promise<void> {
    return this._set(TED4015.output, on, undefined, opts);
  }

  async getOutput(opts?: CallOptions): Promise<boolean> {
    return this._get1(TED4015.output, opts);
  }

  /**
   * Polls the temperature until it stays within settle.toleranceC of the setpoint for settle.dwellS; resolves
   * with the last reading. The dwell and the poll interval (settle.pollMs) are instrument time (the station's
   * clock: real time on real hardware). Bounded by the caller's signal.
   */
  async waitSettled(opts?: CallOptions): Promise<number> {
    const tol = this.settle?.toleranceC ?? 0.1;
    const dwellS = this.settle?.dwellS ?? 0;
    const target = await this.setpoint(opts);
    let since: number | undefined;
    for (;;) {
      const t = await this.temperature(opts);
      const now = this.clock.now();
      if (Math.abs(t - target) <= tol) {
        since ??= now;
        if (now - since >= dwellS) return t;
      } else since = undefined;
      await this.clock.sleep((this.settle?.pollMs ?? 200) / 1000, opts?.signal);
    }
  }

  /**
   * The configured idle setpoint (ramped), confirmed by `SOUR:TEMP?`; or, when none is configured, the output off,
   * confirmed by `OUTP?`.
   */
  async safeState(opts?: CallOptions): Promise<string> {
    const idle = this.idleC;
    if (idle === undefined) {
      return this._makeSafe(
        [formatSet(TED4015.output, false)],
        async () => {
          if (await this.getOutput(opts))
            throw new NotSafeError(this.role, 'the TEC output is still on (OUTP? answered 1)');
          return 'TEC output off (read back)';
        },
        opts,
      );
    }
    return this._makeSafe(
      [() => this.setSetpoint(idle, opts)],
      async () => {
        const sp = await this.setpoint(opts);
        const on = await this.getOutput(opts);
        // Stryker disable next-line EqualityOperator: `>=` differs only at exactly 1e-6 °C
        if (Math.abs(sp - idle) > 1e-6) {
          throw new NotSafeError(
            this.role,
            `setpoint reads ${formatNumber(sp)} °C, not the idle ${formatNumber(idle)} °C`,
          );
        }
        return `setpoint ${formatNumber(sp)} °C (idle), output ${on ? 'on' : 'off'} (read back)`;
      },
      opts,
    );
  }
}

/** from + step, from + 2 step, ... then `to` exactly: whole steps, so setpoints read 35, 45, 50. */
function stepsTo(from: number, to: number, step: number | undefined): number[] {
  if (!step || step <= 0 || !Number.isFinite(from)) return [to];
  const dir = Math.sign(to - from);
  const out: number[] = [];
  for (let t = from + dir * step; dir !== 0 && (to - t) * dir > 1e-9; t += dir * step)
    out.push(Number(t.toPrecision(12)));
  out.push(to);
  return out;
}

export interface Ted4015Settings {
  limits: { minC: number; maxC: number };
  idleC?: number;
  ramp?: { stepC: number; delayMs: number };
  settle?: { toleranceC: number; dwellS: number };
}

/** Thorlabs TED4015 TEC controller. */
export const descriptor: DriverDescriptor<Ted4015Settings> = {
  model: 'thorlabs-ted4015',
  title: 'Thorlabs TED4015 TEC controller',
  speaks: 'Thorlabs TED4015',
  capabilities: ['thermal-controller'],
  identity: 'TED4015',
  settings: {
    limits: z.strictObject({ minC: z.number(), maxC: z.number() }),
    /** Setpoint of the safe state; without it, the safe state switches the TEC output off. */
    idleC: z.number().optional(),
    ramp: z.strictObject({ stepC: z.number().gt(0), delayMs: timerMs().min(0).default(0) }).optional(),
    settle: z.strictObject({ toleranceC: z.number().gt(0), dwellS: timerSeconds().min(0) }).optional(),
  },
  check(t) {
    const out: SettingsIssue[] = [];
    if (t.limits.minC >= t.limits.maxC)
      out.push({ path: ['limits', 'maxC'], message: `expected a number > limits.minC (${t.limits.minC})` });
    if (t.idleC !== undefined && (t.idleC < t.limits.minC || t.idleC > t.limits.maxC))
      out.push({ path: ['idleC'], message: `expected a temperature within limits ${t.limits.minC}..${t.limits.maxC}` });
    return out;
  },
  create: (c) =>
    new Ted4015({
      role: c.name,
      session: c.session,
      clock: c.clock,
      checkErrors: c.checkErrors,
      ...(c.trace ? { trace: c.trace } : {}),
      limits: c.settings.limits,
      ...(c.settings.idleC !== undefined ? { idleC: c.settings.idleC } : {}),
      ...(c.settings.ramp ? { ramp: c.settings.ramp } : {}),
      ...(c.settings.settle ? { settle: c.settings.settle } : {}),
    }),
};
