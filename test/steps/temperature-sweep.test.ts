import { describe, expect, it } from 'vitest';
import { temperatureSweepStep } from '../../src/steps/temperature-sweep.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep, seqStep } from './helpers.ts';

describe('temperature-sweep', () => {
  it('waits for each setpoint to settle and runs the nested steps with at.temperature', async () => {
    const bench = createFakeBench({ tecStep: 0.5 });
    const child = seqStep('inventory', {}, 'inv');
    const ctx = await runStep(
      bench,
      temperatureSweepStep,
      { setpoints: [45, 65], toleranceC: 0.2, dwellS: 1, pollMs: 250 },
      {},
      [child],
    );
    expect(ctx.nested.map((n) => n.at)).toEqual([{ temperature: 45 }, { temperature: 65 }]);
    for (const n of ctx.nested) expect(Math.abs(n.temperature - n.at.temperature)).toBeLessThanOrEqual(0.2);
    // the child's measurements carry the coordinate
    const inv = ctx.all('self_test_failures');
    expect(inv.map((m) => m.at.temperature)).toEqual([45, 65]);
    // settle time: 20 °C at half the way per 250 ms poll → inside ±0.2 °C after 7 polls (1.5 s of sleeps), on
    // the bench's instrument clock: the dwell and the polls are instrument time, not real sleeps
    const s45 = ctx.get('tec_settle_s', { temperature: 45 });
    expect(s45.value).toBeCloseTo(1.5, 6);
    expect(bench.clock.slept).toBeGreaterThanOrEqual(2 * (1.5 + 1));
    expect(ctx.sleptMs).toBe(0);
    expect(ctx.get('tec_temperature', { temperature: 65 }).value as number).toBeCloseTo(65, 0);
    // back to idle at the end
    expect(bench.tec.setpoints).toEqual([45, 65, 25]);
  });

  it('times the settle from before the setpoint went out: a slow reply to it is part of the wait', async () => {
    const bench = createFakeBench({ tecStep: 0.5 });
    const send = bench.tec.setSetpoint.bind(bench.tec);
    // the controller answers its setpoint command 3 instrument seconds later (a slow link on a fast clock)
    bench.tec.setSetpoint = async (c, o) => {
      await send(c, o);
      await bench.clock.sleep(3);
    };
    const ctx = await runStep(bench, temperatureSweepStep, {
      setpoints: [45],
      toleranceC: 0.2,
      dwellS: 1,
      pollMs: 250,
    });
    expect(ctx.get('tec_settle_s', { temperature: 45 }).value).toBeCloseTo(3 + 1.5, 6);
  });

  it('fails with a clear error when the TEC does not settle, and still returns to idle', async () => {
    const bench = createFakeBench({ tecStep: 0 });
    await expect(
      runStep(bench, temperatureSweepStep, { setpoints: [85], settleTimeoutS: 5, pollMs: 500 }),
    ).rejects.toThrow(/did not settle at 85 °C within 5 s/);
    expect(bench.tec.setpoints).toEqual([85, 25]);
  });
});
