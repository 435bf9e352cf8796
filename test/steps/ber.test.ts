import { describe, expect, it } from 'vitest';
import { berUpperBound } from '../../src/core/ber.ts';
import { berStep, gateFor, nextPollMs } from '../../src/steps/ber.ts';
import { decorrelatedSeeds, neighbours } from '../../src/steps/patterns.ts';
import { createFakeBench } from './fake-bench.ts';
import { makeGeometry, runStep } from './helpers.ts';

describe('ber', () => {
  it('sizes the gate at 3/BER bits for 95 % and passes clean lanes', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(bench, berStep, { targetBer: 1e-9, confidence: 0.95, rate: 2e9 });
    const gate = bench.log.calls.find((c) => c.method === 'startGate')!;
    const seconds = gate.args[0] as number;
    // −ln(0.05)/1e-9 = 2.996e9 ≈ 3/BER, plus the default 2 % gate margin
    expect(seconds * 2e9).toBeCloseTo(2.9957e9 * 1.02, -6);
    expect(ctx.get('gate_bits').value).toBe(Math.ceil((-Math.log(0.05) / 1e-9) * 1.02));
    const exact = await runStep(createFakeBench(), berStep, { gateMargin: 1 });
    expect(exact.get('gate_bits').value).toBe(Math.ceil(-Math.log(0.05) / 1e-9));
    expect(gateFor(1e-12, 0.95, 2e9).seconds).toBeCloseTo(1497.9, 0); // 25 min at 2 Gb/s
    const ub = ctx.lanesOf('ber_upper_bound');
    expect(ub.size).toBe(16);
    for (const v of ub.values()) expect(v).toBeLessThanOrEqual(1e-9);
    expect(ctx.get('ber_upper_bound').verdict).toBe('PASS');
    expect(ctx.get('ber_upper_bound').spec.limits?.high).toBe(1e-9);
    expect(ctx.frames.some((f) => f.metric === 'ber_upper_bound')).toBe(true);
    // configured with channel lists: one call each for all lanes
    expect(bench.log.count('setPattern')).toBe(1);
    expect(bench.log.count('setSeed')).toBe(1);
    expect(bench.log.count('setCheckerPattern')).toBe(1);
    expect(bench.log.count('readCounters')).toBeGreaterThanOrEqual(1);
    // polled with ctx.sleep while the gate ran
    expect(ctx.sleptMs).toBeGreaterThan(0);
    expect(ctx.progressCalls.at(-1)).toEqual([ctx.get('gate_bits').value, ctx.get('gate_bits').value]);
    expect(ctx.lanes.failed.size).toBe(0);
  });

  it("polls the gate when the instrument's bit count says it ends, within [1 ms, pollMs]", () => {
    // a quarter of the bits in 40 ms: the rest takes 120 ms
    expect(nextPollMs(0.25e9, 1e9, 40, 1, 200)).toBeCloseTo(120, 9);
    // a long gate (real hardware): no longer than pollMs
    expect(nextPollMs(1e6, 3e12, 2, 1, 200)).toBe(200);
    // a fast clock: the gate is nearly done, look again in a millisecond
    expect(nextPollMs(0.999e9, 1e9, 3, 1, 200)).toBe(1);
    // nothing counted yet: back off
    expect(nextPollMs(0, 1e9, 5, 4, 200)).toBe(8);
    expect(nextPollMs(0, 1e9, 5, 150, 200)).toBe(200);
  });

  it('reports gate progress as bits against the gate, errors so far and time left', async () => {
    // lane 5 counts errors at 1e-6, lane 6 has no signal; the fake reads half the counts while the gate runs
    const bench = createFakeBench({ noisy: [5], dead: [6], badBer: 1e-6, gatePolls: 3 });
    const ctx = await runStep(bench, berStep, { targetBer: 1e-9 });
    const gate = ctx.get('gate_bits').value as number;
    const errors = ctx.lanesOf('ber_errors').get(5)!;
    expect(errors).toBeGreaterThan(100);
    const during = ctx.progressEvents.filter((p) => p.done < p.total);
    expect(during.length).toBeGreaterThanOrEqual(1);
    for (const p of during) {
      expect(p).toMatchObject({ unit: 'bits', total: gate, errors: Math.round(errors / 2) });
      expect(p.done).toBe(Math.round(gate / 2));
      expect(p.etaS).toBeGreaterThanOrEqual(0);
    }
    // the gate's end: every bit, every error of the lanes with sync, nothing left
    expect(ctx.progressEvents.at(-1)).toEqual({ done: gate, total: gate, etaS: 0, unit: 'bits', errors });
  });

  it('reports the upper bound when errors occur, fails fast on sync loss and marks the lanes', async () => {
    const bench = createFakeBench({ noisy: [5], dead: [6], badBer: 1e-6 });
    const ctx = await runStep(bench, berStep, { targetBer: 1e-9 });
    const ub = ctx.lanesOf('ber_upper_bound');
    const bits = ctx.lanesOf('ber_bits');
    const errs = ctx.lanesOf('ber_errors');
    expect(errs.get(5)).toBe(Math.round(bits.get(5)! * 1e-6));
    expect(ub.get(5)).toBeCloseTo(berUpperBound(bits.get(5)!, errs.get(5)!, 0.95), 15);
    expect(ub.get(5)!).toBeGreaterThan(1e-6);
    expect(ub.get(6)).toBe(1); // no signal
    expect(ctx.get('lanes_sync_lost').value).toBe(1);
    expect(ctx.get('ber_upper_bound').verdict).toBe('FAIL');
    expect(ctx.get('ber_upper_bound').verdicts?.filter((v) => v === 'FAIL')).toHaveLength(2);
    expect([...ctx.lanes.failed.keys()].sort((a, b) => a - b)).toEqual([5, 6]);
  });

  it('skips dead lanes and reads each lane at its mapped receiver lane', async () => {
    const bench = createFakeBench({ swap: [2, 9] });
    const geometry = makeGeometry(4, 4);
    const shared = new Map<string, unknown>([
      [
        'steps.laneMap',
        {
          rxOf: new Map([
            [2, 9],
            [9, 2],
          ]),
        },
      ],
    ]);
    const ctx = await runStep(bench, berStep, { lanes: [2, 3] }, { geometry, shared });
    const read = bench.log.calls.filter((c) => c.method === 'readCounters').at(-1)!;
    expect(read.args[0]).toEqual([9, 3]);
    expect(ctx.get('ber_upper_bound').verdict).toBe('PASS');
  });

  it('stops the gate early when every lane lost sync', async () => {
    const bench = createFakeBench({ dead: [1, 2], gatePolls: 50 });
    const ctx = await runStep(bench, berStep, { lanes: [1, 2] });
    expect(bench.log.count('stopGate')).toBe(1);
    expect(bench.log.count('gateRunning')).toBe(1);
    expect(ctx.get('lanes_sync_lost').value).toBe(2);
  });

  it('gives every lane a seed different from its neighbours', () => {
    const g = makeGeometry(20, 20);
    const seeds = decorrelatedSeeds(g.all, g);
    for (const l of g.all) {
      expect(seeds[l - 1]).toBeGreaterThan(0);
      for (const n of neighbours(g, l, true)) expect(seeds[n - 1]).not.toBe(seeds[l - 1]);
    }
    expect(decorrelatedSeeds(g.all, g)).toEqual(seeds);
  });
});
