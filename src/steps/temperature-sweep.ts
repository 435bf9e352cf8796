/**
 * Q9 temperature sweep (nested): for each setpoint, set the TEC, wait until |T − setpoint| ≤ tolerance holds for
 * the dwell time (polling; an error past the settle timeout), then run the nested steps with
 * at.temperature = setpoint. Records the settle time per setpoint; returns to the idle setpoint at the end.
 * Dwell, settle timeout, poll interval and the recorded settle time are instrument time (the bench's clock:
 * real time on real hardware, N times faster on a simulated bench running N times faster).
 */

import { z } from 'zod';
import { timerMs, timerSeconds } from '../config/durations.ts';
import { benchClock, type StepContext, type StepDefinition } from '../orchestrator/step.ts';
import { callOpts } from './util.ts';

export const temperatureSweepParams = z.strictObject({
  setpoints: z.array(z.number()).min(1).default([25, 45, 65, 85]),
  toleranceC: z.number().positive().default(0.2),
  /** Time the temperature must stay inside the tolerance, instrument seconds. */
  dwellS: timerSeconds().min(0).default(2),
  /** Instrument seconds. */
  settleTimeoutS: timerSeconds().positive().default(600),
  /** Instrument ms between temperature reads. */
  pollMs: timerMs().int().min(1).default(250),
  /** Setpoint to return to at the end (also on failure, unless aborted). */
  idleC: z.number().default(25),
});
export type TemperatureSweepParams = z.infer<typeof temperatureSweepParams>;

/**
 * Sends the TEC its setpoint and waits for it to settle there, timed on the bench's clock from before the setpoint
 * went out (a reply that takes long, on a fast instrument clock, must not shorten the settle). Returns the
 * instrument seconds until the temperature entered the band for good.
 */
export async function settleAt(
  ctx: StepContext,
  setpoint: number,
  p: Pick<TemperatureSweepParams, 'toleranceC' | 'dwellS' | 'settleTimeoutS' | 'pollMs'>,
): Promise<{ settleS: number; temperature: number }> {
  const tec = ctx.instruments.get('thermal-controller');
  const clock = benchClock(ctx.instruments);
  const start = clock.now();
  await tec.setSetpoint(setpoint, callOpts(ctx));
  const elapsed = () => clock.now() - start;
  let inBandSince: number | undefined;
  for (;;) {
    const t = await tec.temperature(callOpts(ctx));
    const now = elapsed();
    if (Math.abs(t - setpoint) <= p.toleranceC) {
      inBandSince ??= now;
      if (now - inBandSince >= p.dwellS) return { settleS: inBandSince, temperature: t };
    } else inBandSince = undefined;
    // Past the timeout only a reading outside the band fails: one inside may finish its dwell (a poll that took
    // long, on a fast instrument clock, must not fail a mount that has settled).
    if (now > p.settleTimeoutS && inBandSince === undefined) {
      throw new Error(
        `temperature did not settle at ${setpoint} °C within ${p.settleTimeoutS} s (last reading ${t.toFixed(2)} °C, tolerance ±${p.toleranceC} °C)`,
      );
    }
    await clock.sleep(p.pollMs / 1000, ctx.signal);
  }
}

export const temperatureSweepStep: StepDefinition<TemperatureSweepParams> = {
  type: 'temperature-sweep',
  requires: ['thermal-controller'],
  description: 'Step the TEC through setpoints, wait for each to settle, run the nested steps at each',
  params: temperatureSweepParams,
  temperatureParams: ['setpoints', 'idleC'],
  nested: true,
  measurements: (p) => [
    {
      name: 'tec_settle_s',
      unit: 's',
      description: 'time for the TEC to settle at each setpoint (at.temperature)',
      limits: { high: p.settleTimeoutS },
      dimensions: ['temperature'],
    },
    {
      name: 'tec_temperature',
      unit: 'degC',
      description: 'temperature reached at each setpoint',
      dimensions: ['temperature'],
    },
  ],
  async run(ctx, params, children) {
    const tec = ctx.instruments.get('thermal-controller');
    await tec.setOutput(true, callOpts(ctx));
    try {
      for (const [i, sp] of params.setpoints.entries()) {
        ctx.log('info', `temperature sweep: ${sp} °C`);
        const { settleS, temperature } = await settleAt(ctx, sp, params);
        ctx.measure('tec_settle_s', settleS, { temperature: sp });
        ctx.measure('tec_temperature', temperature, { temperature: sp });
        ctx.progress(i + 0.5, params.setpoints.length, 'setpoints');
        await ctx.runSteps(children, { ...ctx.at, temperature: sp });
        ctx.progress(i + 1, params.setpoints.length, 'setpoints');
      }
    } finally {
      if (!ctx.signal.aborted) await tec.setSetpoint(params.idleC, callOpts(ctx));
    }
  },
};
