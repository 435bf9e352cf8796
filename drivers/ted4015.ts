import { performance } from 'node:perf_hooks';
import { formatNumber } from '../src/scpi/parse.ts';
import { type DriverOptions, delay, NotSafeError, ScpiDriver } from './base.ts';
import type { CallOptions, ThermalController } from './capabilities.ts';

export interface Ted4015Options extends DriverOptions {
  limits: { minC: number; maxC: number };
  /** Setpoint of the safe state; without it, safeState() switches the output off. */
  idleC?: number;
  ramp?: { stepC: number; delayMs: number };
  settle?: { toleranceC: number; dwellS: number; pollMs?: number };
}

/**
 * TEC controller: Thorlabs TED4015 command strings (`SOUR:TEMP 25C`, `SOUR:TEMP?`, `MEAS:SCAL:TEMP?`, `OUTP ON`).
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

  /** Checks the limits, reads the present setpoint, then steps to the target. */
  async setSetpoint(celsius: number, opts?: CallOptions): Promise<void> {
    const { minC, maxC } = this.limits;
    if (!(celsius >= minC && celsius <= maxC)) this._refuse(`setpoint ${celsius} °C is outside ${minC}..${maxC} °C`);
    const from = this.ramp ? await this.setpoint(opts) : celsius;
    for (const [i, t] of stepsTo(from, celsius, this.ramp?.stepC).entries()) {
      if (i > 0) await delay(this.ramp?.delayMs ?? 0, opts?.signal);
      await this._send(`SOUR:TEMP ${formatNumber(t)}C`, opts);
    }
  }

  async setpoint(opts?: CallOptions): Promise<number> {
    return this._number('SOUR:TEMP?', opts);
  }

  async temperature(opts?: CallOptions): Promise<number> {
    return this._number('MEAS:SCAL:TEMP?', opts);
  }

  async setOutput(on: boolean, opts?: CallOptions): Promise<void> {
    return this._send(`OUTP ${on ? 'ON' : 'OFF'}`, opts);
  }

  async getOutput(opts?: CallOptions): Promise<boolean> {
    return (await this._number('OUTP?', opts)) === 1;
  }

  /**
   * Polls the temperature until it stays within settle.toleranceC of the setpoint for settle.dwellS (wall
   * clock); resolves with the last reading. Bounded by the caller's signal.
   */
  async waitSettled(opts?: CallOptions): Promise<number> {
    const tol = this.settle?.toleranceC ?? 0.1;
    const dwellMs = (this.settle?.dwellS ?? 0) * 1000;
    const target = await this.setpoint(opts);
    let since: number | undefined;
    for (;;) {
      const t = await this.temperature(opts);
      const now = performance.now();
      if (Math.abs(t - target) <= tol) {
        since ??= now;
        if (now - since >= dwellMs) return t;
      } else since = undefined;
      await delay(this.settle?.pollMs ?? 200, opts?.signal);
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
        ['OUTP OFF'],
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
