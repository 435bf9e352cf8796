import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { z } from 'zod';
import type { BenchEvent, SafeStateReport } from '../../src/core/record.ts';
import type { Instrument } from '../../src/instruments/capabilities.ts';
import { EventBus } from '../../src/orchestrator/bus.ts';
import { type EngineDeps, startRun } from '../../src/orchestrator/engine.ts';
import { createGeometry } from '../../src/orchestrator/lanes.ts';
import { PromptBroker, scriptedResponder } from '../../src/orchestrator/prompts.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import type { BenchInstruments, StepDefinition } from '../../src/orchestrator/step.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { serveStream } from '../../src/sim/server/connection.ts';
import { openStore } from '../../src/store/index.ts';
import type { RunStore } from '../../src/store/types.ts';
import { PairTransport } from '../../src/transport/pair.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('cpobench-engine-');
afterAll(() => tmp.cleanup());

const stores: RunStore[] = [];
afterEach(() => {
  for (const s of stores.splice(0)) s.close();
});

/** A bench of one real SCPI instrument over an in-process pair; `hang` makes it stop answering. */
function demoBench() {
  const inst = new DemoInstrument();
  const faults: { stopAfterCommands?: number } = {};
  const session = new ScpiSession(
    new PairTransport('PAIR::demo', (end) => {
      serveStream(inst, end, { faults });
      return true;
    }),
    { name: 'demo', timeoutMs: 5000, lateReplyGraceMs: 50 },
  );
  let temperature = 25;
  const safeCalls: string[] = [];
  const tec = {
    role: 'tec',
    temperature: async () => temperature,
  };
  const instrument: Instrument = {
    role: 'demo',
    identify: (o) => session.idn(o),
    selfTest: (o) => session.tst(o),
    clearErrors: async (o) => (await session.drainErrors(o)).map((e) => `${e.code},"${e.message}"`),
    safeState: async (o) => {
      await session.write('VOLT 0', o);
      const v = await session.queryNumber('VOLT?', o); // confirmed by read-back, not just sent
      if (v !== 0) throw new Error(`VOLT? reads ${v}`);
      safeCalls.push('VOLT 0');
      return 'VOLT 0 (read back)';
    },
  };
  const instruments = {
    all: () => [{ role: 'demo', instrument }],
    has: (c: string) => c === 'thermal-controller',
    get: (c: string) => {
      if (c === 'thermal-controller') return tec;
      throw new Error(`the demo bench has no ${c}`);
    },
    find: (c: string) => (c === 'thermal-controller' ? tec : undefined),
  } as unknown as BenchInstruments;
  const safeState = async (timeoutMs: number): Promise<SafeStateReport[]> => {
    const t0 = performance.now();
    const signal = AbortSignal.timeout(timeoutMs);
    try {
      const observed = await instrument.safeState({ timeoutMs, signal });
      return [{ role: 'demo', safe: true, ms: performance.now() - t0, observed }];
    } catch (err) {
      return [{ role: 'demo', safe: false, ms: performance.now() - t0, error: (err as Error).message }];
    }
  };
  return {
    inst,
    session,
    faults,
    safeCalls,
    instruments,
    safeState,
    setTemperature: (t: number) => {
      temperature = t;
    },
  };
}

function registry(bench: ReturnType<typeof demoBench>): Map<string, StepDefinition> {
  const set: StepDefinition<{ volts: number }> = {
    type: 'set-volts',
    description: 'sets the demo voltage and measures it',
    requires: [],
    params: z.object({ volts: z.number().min(0).max(10).default(1), rate: z.number().optional() }),
    measurements: () => [{ name: 'volts', unit: 'V', dimensions: [], limits: { low: 0, high: 5, marginal: 0.5 } }],
    run: async (ctx, p) => {
      await bench.session.write(`VOLT ${p.volts}`, { signal: ctx.signal });
      ctx.measure('volts', await bench.session.queryNumber('VOLT?', { signal: ctx.signal }));
    },
  };
  const lanes: StepDefinition<{ bad: number[] }> = {
    type: 'lane-check',
    description: 'per-lane values, bad lanes read 0',
    requires: [],
    params: z.object({ bad: z.array(z.number()).default([]) }),
    measurements: () => [{ name: 'lane_power', unit: 'W', dimensions: ['lane'], limits: { low: 1e-6 } }],
    run: async (ctx, p) => {
      const all = ctx.geometry.all;
      ctx.measure('lane_power', { lanes: all, values: all.map((l) => (p.bad.includes(l) ? 0 : 1e-5)) });
    },
  };
  const remap: StepDefinition = {
    type: 'remap',
    repairsLanes: true,
    description: 'moves failed lanes to spares',
    requires: [],
    params: z.object({}),
    measurements: () => [{ name: 'unrepaired_lanes', unit: 'lanes', dimensions: [], limits: { high: 0 } }],
    run: async (ctx) => {
      let unrepaired = 0;
      ctx.lanes.logicalToPhysical.forEach((phys, logical) => {
        if (!ctx.lanes.failed.has(phys)) return;
        const to = ctx.lanes.sparesLeft.shift();
        if (to === undefined) {
          unrepaired++;
          return;
        }
        ctx.lanes.logicalToPhysical[logical] = to;
        ctx.lanes.remapped.push({ logical, from: phys, to });
      });
      ctx.measure('unrepaired_lanes', unrepaired);
    },
  };
  const figures: StepDefinition = {
    type: 'figures',
    description: 'a BER bound and an energy figure under names of its own, declared as what the summary reads',
    requires: [],
    params: z.object({}),
    measurements: () => [
      { name: 'worst95', unit: '', dimensions: ['lane'], limits: { high: 1e-9 }, summary: 'ber-bound' },
      { name: 'pj', unit: 'pJ/bit', dimensions: [], summary: 'energy-per-bit' },
      { name: 'energy_per_bit', unit: 'pJ/bit', dimensions: [] }, // the old name, no role: ignored
    ],
    run: async (ctx) => {
      const all = ctx.geometry.all;
      ctx.measure('worst95', { lanes: all, values: all.map((l) => l * 1e-12) });
      ctx.measure('pj', 3.25);
      ctx.measure('energy_per_bit', 99);
    },
  };
  const shuffle: StepDefinition = {
    type: 'shuffle',
    description: 'moves failed lanes to spares like a remap, but does not declare that it repairs lanes',
    requires: [],
    params: z.object({}),
    measurements: () => [],
    run: async (ctx) => {
      ctx.lanes.logicalToPhysical.forEach((phys, logical) => {
        if (!ctx.lanes.failed.has(phys)) return;
        const to = ctx.lanes.sparesLeft.shift();
        if (to !== undefined) ctx.lanes.logicalToPhysical[logical] = to;
      });
    },
  };
  const hang: StepDefinition = {
    type: 'hang',
    description: 'a query the instrument never answers',
    requires: [],
    params: z.object({}),
    measurements: () => [],
    run: async (ctx) => {
      bench.faults.stopAfterCommands = 0;
      await bench.session.query('*IDN?', { signal: ctx.signal, timeoutMs: 60_000 });
    },
  };
  const flaky: StepDefinition<{ failures: number }> = {
    type: 'flaky',
    description: 'times out the first N attempts',
    requires: [],
    params: z.object({ failures: z.number().default(1) }),
    measurements: () => [{ name: 'ok', unit: '', dimensions: [] }],
    run: async (ctx, p) => {
      const n = (ctx.shared.get('attempts') as number | undefined) ?? 0;
      ctx.shared.set('attempts', n + 1);
      if (n < p.failures) await bench.session.query('HANG?', { signal: ctx.signal, timeoutMs: 100 });
      ctx.measure('ok', 1);
    },
  };
  const broken: StepDefinition = {
    type: 'broken',
    description: 'throws naming itself, as step code does',
    requires: [],
    params: z.object({}),
    measurements: () => [],
    run: async () => {
      throw new Error('broken: no lanes to sweep');
    },
  };
  const ask: StepDefinition = {
    type: 'ask',
    description: 'asks the operator',
    requires: [],
    params: z.object({}),
    measurements: () => [{ name: 'operator_ok', unit: '', dimensions: [], limits: { low: 1 } }],
    run: async (ctx) => {
      const a = await ctx.prompt('passfail', 'Is the fibre bundle seated?');
      ctx.measure('operator_ok', a === true ? 1 : 0);
    },
  };
  const flood: StepDefinition<{ frames: number }> = {
    type: 'flood',
    description: 'records many 400-value frames',
    requires: [],
    params: z.object({ frames: z.number().default(10) }),
    measurements: () => [{ name: 'frame', unit: 'W', dimensions: ['lane'] }],
    run: async (ctx, p) => {
      const lanes = Array.from({ length: 400 }, (_, i) => i + 1);
      for (let k = 0; k < p.frames; k++) ctx.measure('frame', { lanes, values: lanes.map((l) => l * 1e-6 + k) });
    },
  };
  return new Map<string, StepDefinition>(
    [set, lanes, remap, hang, flaky, broken, ask, flood, figures, shuffle].map((d) => [
      d.type,
      d as unknown as StepDefinition,
    ]),
  );
}

function setup(yaml: string, opts: { spares?: number[]; maxPageCount?: number } = {}) {
  const bench = demoBench();
  const reg = registry(bench);
  const seq = parseSequence(yaml, 'test.yaml', reg, { rateRange: [1e8, 4e9] });
  const store = openStore(join(tmp.make(), 'runs.db'), {
    maxPageCount: opts.maxPageCount,
  });
  stores.push(store);
  const bus = new EventBus();
  const events: BenchEvent[] = [];
  const persistedWhenStreamed: boolean[] = [];
  const prompts = new PromptBroker();
  bus.on((e) => {
    events.push(e);
    if (e.type === 'measurement') {
      const rec = store.getRun(e.runId);
      persistedWhenStreamed.push(
        rec.steps.some((s) => s.measurements.some((m) => m.spec.name === e.measurement.spec.name)),
      );
    }
  });
  const deps: EngineDeps = {
    instruments: bench.instruments,
    safeState: bench.safeState,
    instrumentRecords: () => [{ role: 'demo', resource: 'PAIR::demo', driver: 'demo' }],
    geometry: createGeometry({ rows: 2, cols: 3, spares: opts.spares ?? [] }),
    store,
    bus,
    registry: reg,
    prompts,
    transcripts: bench.session.transcript,
    safeStateTimeoutMs: 800,
  };
  const run = () =>
    startRun(deps, {
      sequence: seq,
      dut: 'DUT-1',
      operator: 'ana',
      station: { name: 'test', snapshot: {} },
      software: { version: '0.1.0' },
    });
  return { bench, store, events, persistedWhenStreamed, prompts, run };
}

describe('run engine', () => {
  it('runs steps, judges limits, persists each measurement before streaming it, and keeps the transcript', async () => {
    const t = setup(`
name: basic
steps:
  - { id: a, type: set-volts, params: { volts: 2 } }
  - { id: b, type: set-volts, params: { volts: 4.8 } }
`);
    const rec = await t.run().done;
    expect(rec.outcome).toBe('PASS');
    expect(rec.steps.map((s) => s.verdict)).toEqual(['PASS', 'MARGINAL']);
    expect(rec.steps[1]!.measurements[0]).toMatchObject({ kind: 'scalar', value: 4.8, verdict: 'MARGINAL' });
    expect(t.persistedWhenStreamed).toEqual([true, true]);
    expect(t.events.map((e) => e.type).filter((x) => x !== 'log')).toEqual([
      'run.started',
      'safe-state', // a known, read-back state before the first step
      'instrument',
      'step.started',
      'measurement',
      'lanemap', // the lane map as it stands after each step
      'step.finished',
      'step.started',
      'measurement',
      'lanemap',
      'step.finished',
      'safe-state', // and after the last
      'instrument',
      'run.finished',
    ]);
    expect(t.bench.safeCalls).toEqual(['VOLT 0', 'VOLT 0']);
    expect(rec.startState).toMatchObject({
      safe: true,
      instruments: [{ role: 'demo', safe: true, observed: 'VOLT 0 (read back)' }],
    });
    expect(rec.safeState).toMatchObject({
      safe: true,
      instruments: [{ role: 'demo', safe: true, observed: 'VOLT 0 (read back)' }],
    });
    expect(rec.summary?.benchSafe).toBe(true);
    // the transcript holds the steps and both safe-state checks, commands and read-backs
    const texts = t.store.getTranscript(rec.id).entries.map((e) => e.text);
    expect(texts).toContain('VOLT 4.8');
    expect(texts.filter((x) => x === 'VOLT 0')).toHaveLength(2);
    expect(texts.filter((x) => x === 'VOLT?').length).toBeGreaterThanOrEqual(2);
    expect(texts.lastIndexOf('VOLT 0')).toBeGreaterThan(texts.lastIndexOf('VOLT 4.8'));
  });

  it('fails a run on a limit, with the value and limit in the record', async () => {
    const t = setup(`
name: fail
steps:
  - { id: a, type: set-volts, params: { volts: 7 } }
  - { id: b, type: set-volts, params: { volts: 1 } }
`);
    const rec = await t.run().done;
    expect(rec.outcome).toBe('FAIL');
    expect(rec.steps[0]!.measurements[0]).toMatchObject({ value: 7, verdict: 'FAIL', spec: { limits: { high: 5 } } });
    expect(rec.steps[1]!.verdict).toBe('PASS');
  });

  it('passes with a remap when failed lanes move to spares, fails naming lanes when spares run out', async () => {
    const ok = setup(
      `
name: remap
steps:
  - { id: check, type: lane-check, params: { bad: [2] } }
  - { id: remap, type: remap }
`,
      { spares: [6] },
    );
    const rec = await ok.run().done;
    expect(rec.steps[0]!.verdict).toBe('FAIL');
    expect(rec.outcome).toBe('PASS');
    expect(rec.laneMap?.remapped).toEqual([{ logical: 1, from: 2, to: 6 }]);
    expect(rec.summary?.repairedSteps).toEqual([{ step: 'check', lanes: [2] }]);
    const short = setup(
      `
name: remap
steps:
  - { id: check, type: lane-check, params: { bad: [2, 3] } }
  - { id: remap, type: remap }
`,
      { spares: [6] },
    );
    const rec2 = await short.run().done;
    expect(rec2.outcome).toBe('FAIL');
    expect(rec2.steps[1]!.measurements[0]).toMatchObject({ value: 1, verdict: 'FAIL' });
  });

  it('the summary comes from what steps declare (summary roles, repairsLanes), never from step or measurement names', async () => {
    const t = setup(`
name: figures
steps:
  - { id: f, type: figures }
`);
    const rec = await t.run().done;
    // 6 lanes, lane l at l·1e-12: the worst is lane 6; the energy figure is the one declared, not "energy_per_bit"
    expect(rec.summary).toMatchObject({ worstBerUpperBound: 6e-12, worstLane: 6, energyPerBitPj: 3.25 });
    // a step that moves lanes like a remap but does not declare it repairs them leaves the failure standing
    const t2 = setup(
      `
name: shuffle
steps:
  - { id: check, type: lane-check, params: { bad: [2] } }
  - { id: move, type: shuffle }
`,
      { spares: [6] },
    );
    const rec2 = await t2.run().done;
    expect(rec2.outcome).toBe('FAIL');
    expect(rec2.summary?.repairedSteps).toBeUndefined();
  });

  it('aborts a step blocked on I/O, reaches the safe state within a bound even with a hung instrument, keeps partial data', async () => {
    const t = setup(`
name: abort
steps:
  - { id: first, type: set-volts, params: { volts: 3 } }
  - { id: stuck, type: hang }
  - { id: never, type: set-volts }
`);
    const h = t.run();
    await new Promise((r) => setTimeout(r, 150));
    const t0 = performance.now();
    await Promise.all([h.abort('test'), h.abort('second ctrl-c')]);
    const took = performance.now() - t0;
    const rec = await h.done;
    expect(rec.outcome).toBe('ABORTED');
    // The hung instrument holds the abort for exactly its safe-state bound (800 ms), no more: the bound plus a
    // stated margin of 400 ms for a loaded machine. A bound ten times looser (8 s) or none at all fails here.
    expect(took).toBeGreaterThanOrEqual(800 - 1);
    expect(took).toBeLessThan(800 + 400);
    expect(rec.abort?.by).toBe('test');
    expect(rec.abort?.safeStateMs).toBeGreaterThanOrEqual(800 - 1);
    expect(rec.abort?.safeStateMs).toBeLessThan(800 + 400);
    expect(rec.steps.map((s) => [s.id, s.verdict])).toEqual([
      ['first', 'PASS'],
      ['stuck', 'SKIPPED'],
    ]);
    expect(rec.steps[0]!.measurements[0]!.kind).toBe('scalar');
    const safe = t.events.filter((e) => e.type === 'instrument').at(-1);
    // the instrument stopped answering, so its safe state could not be confirmed, and the run says so everywhere
    expect(safe).toMatchObject({ role: 'demo', state: expect.stringMatching(/^NOT SAFE: /) });
    expect(rec.error).toMatch(/^BENCH NOT SAFE: demo: .*; aborted by test$/);
    expect(rec.safeState).toMatchObject({ safe: false, instruments: [{ role: 'demo', safe: false }] });
    expect(rec.summary).toMatchObject({ benchSafe: false, notSafe: ['demo'] });
    const finished = t.events.find((e) => e.type === 'run.finished');
    expect(finished).toMatchObject({ outcome: 'ABORTED', safeState: { safe: false } });
  });

  it('retries a step after an instrument timeout, then errors when retries run out, keeping what was measured', async () => {
    const ok = setup(`
name: retry
steps:
  - { id: flaky, type: flaky, params: { failures: 1 }, retries: 1 }
`);
    const rec = await ok.run().done;
    expect(rec.outcome).toBe('PASS');
    expect(rec.steps[0]!.attempts).toBe(2);
    const bad = setup(`
name: retry
steps:
  - { id: a, type: set-volts, params: { volts: 2 } }
  - { id: flaky, type: flaky, params: { failures: 5 }, retries: 1 }
  - { id: b, type: set-volts }
`);
    const rec2 = await bad.run().done;
    expect(rec2.outcome).toBe('ERROR');
    expect(rec2.error).toMatch(/step flaky \(flaky\): demo: no reply to "HANG\?" within 100 ms/);
    expect(rec2.steps.map((s) => s.verdict)).toEqual(['PASS', 'ERROR']);
    expect(rec2.steps[0]!.measurements).toHaveLength(1);
    expect(bad.bench.safeCalls).toEqual(['VOLT 0', 'VOLT 0']); // before the first step, and at the end
  });

  it("names a failing step once: its own type prefix is not repeated after the step's name", async () => {
    const rec = await setup(`
name: named
steps:
  - { id: sweep, type: broken }
`).run().done;
    expect(rec.outcome).toBe('ERROR');
    expect(rec.error).toBe('step sweep (broken): no lanes to sweep');
    expect(rec.steps[0]!.error).toBe('no lanes to sweep');
  });

  it('ends as ERROR, keeping what was written, when the disk fills mid-run', async () => {
    const t = setup(
      `
name: full
steps:
  - { id: a, type: set-volts, params: { volts: 2 } }
  - { id: flood, type: flood, params: { frames: 2000 } }
`,
      { maxPageCount: 60 },
    );
    const rec = await t.run().done;
    expect(rec.outcome).toBe('ERROR');
    expect(rec.error).toMatch(/full/i);
    expect(rec.steps[0]).toMatchObject({ id: 'a', verdict: 'PASS' });
    expect(rec.steps[0]!.measurements).toHaveLength(1);
    expect(t.events.some((e) => e.type === 'run.finished' && e.outcome === 'ERROR')).toBe(true);
  });

  it('holds while a watched value is out of band and records the hold', async () => {
    const t = setup(`
name: hold
watch: [ { source: temperature, band: [20, 30], settleS: 0.1, pollS: 0.02 } ]
steps:
  - { id: a, type: set-volts }
`);
    t.bench.setTemperature(40);
    const h = t.run();
    await new Promise((r) => setTimeout(r, 100));
    expect(t.events.some((e) => e.type === 'hold')).toBe(true);
    expect(t.events.some((e) => e.type === 'step.started')).toBe(false);
    t.bench.setTemperature(25);
    const rec = await h.done;
    expect(rec.outcome).toBe('PASS');
    expect(rec.holds).toHaveLength(1);
    expect(rec.holds[0]).toMatchObject({ watched: 'temperature', value: 25, band: [20, 30] });
    expect(rec.holds[0]!.endedAt).toBeDefined();
  });

  it('asks the operator; a scripted responder answers for CI', async () => {
    const t = setup(`
name: prompt
steps:
  - { id: seat, type: ask }
`);
    scriptedResponder(t.prompts, [{ match: 'bundle', answer: 'pass' }]);
    const rec = await t.run().done;
    expect(rec.outcome).toBe('PASS');
    expect(rec.prompts[0]).toMatchObject({
      kind: 'passfail',
      message: 'Is the fibre bundle seated?',
      answer: true,
      answeredBy: 'script',
    });
  });
});

describe('sequence loading', () => {
  const reg = registry(demoBench());
  const load = (yaml: string) => () => parseSequence(yaml, 'seq.yaml', reg, { rateRange: [1e8, 4e9] });
  it('refuses an unknown step type with file, line, column and the known types', () => {
    expect(load('name: x\nsteps:\n  - id: a\n    type: warp-drive\n')).toThrow(
      /^seq\.yaml:4:11 steps\[0\]\.type: one of the step types: ask, broken, figures, flaky, flood, hang, lane-check, remap, set-volts, shuffle,/,
    );
  });
  it('refuses bad parameters, limits with low > high, unknown measurements and rates beyond the driver', () => {
    expect(load('name: x\nsteps:\n  - id: a\n    type: set-volts\n    params: { volts: 20 }\n')).toThrow(
      /^seq\.yaml:5:22 steps\[0\]\.params\.volts:/,
    );
    expect(
      load('name: x\nsteps:\n  - id: a\n    type: set-volts\n    limits: { volts: { low: 5, high: 1 } }\n'),
    ).toThrow(/steps\[0\]\.limits\.volts\.low: low ≤ high \(low 5 > high 1\)/);
    expect(load('name: x\nsteps:\n  - id: a\n    type: set-volts\n    limits: { amps: { high: 1 } }\n')).toThrow(
      /steps\[0\]\.limits\.amps: a measurement of step type set-volts: volts/,
    );
    expect(load('name: x\nsteps:\n  - id: a\n    type: set-volts\n    params: { rate: 9.0e9 }\n')).toThrow(
      /steps\[0\]\.params\.rate: a rate within the LED driver's range/,
    );
    expect(load('name: x\nsteps:\n  - id: a\n    type: set-volts\n    bogus: 1\n')).toThrow(/seq\.yaml:5:5/);
    expect(load('name: x\nsteps: [ { id: a, type: set-volts }, { id: a, type: set-volts } ]\n')).toThrow(
      /a unique step id/,
    );
  });
});
