/**
 * Every path ends in the safe state, read back: a throw injected at each stage of the engine (the results store,
 * event listeners, a step's own code, its declared measurements, the prompt responder, the bench preparation, the
 * safe-state code itself, a fault from outside the run's flow, a step that ignores its abort signal). One simulated
 * bench over real sockets serves every case in turn, and before each run it is left lit, as a crashed previous
 * run would leave it; after each run a second client reads the LED driver back: every lane off at 0 A.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { type AppContext, openContext, startSequenceRun } from '../../src/app/context.ts';
import type { RunRecord } from '../../src/core/record.ts';
import { EventBus } from '../../src/orchestrator/bus.ts';
import type { EngineDeps } from '../../src/orchestrator/engine.ts';
import { PromptBroker, scriptedResponder } from '../../src/orchestrator/prompts.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import type { StepDefinition } from '../../src/orchestrator/step.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { ensureOperatingDrive } from '../../src/steps/util.ts';
import { openStore } from '../../src/store/index.ts';
import type { RunStore } from '../../src/store/types.ts';
import { createTransport } from '../../src/transport/open.ts';
import { isDark, readLed } from '../helpers/probe.ts';

const LANES = 400;
let ctx: AppContext;
let dir: string;
let ledResource: string;
const baseRegistry = new Map<string, StepDefinition>();

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cpobench-faults-'));
  ctx = await openContext({ sim: { profile: 'mosaic-800g', timeScale: 1000 }, db: join(dir, 'base.db') });
  ledResource = ctx.sim!.instruments.find((i) => i.role === 'led-driver')!.resource;
  for (const [k, v] of ctx.registry) baseRegistry.set(k, v);
});

afterAll(async () => {
  await ctx?.close();
  rmSync(dir, { recursive: true, force: true });
});

/** Lights every lane from outside, as a run killed mid-way would leave the board. */
async function leaveLit(): Promise<void> {
  const s = new ScpiSession(createTransport(ledResource, { reconnect: false }), { name: 'prelight', timeoutMs: 3000 });
  await s.open();
  try {
    await s.write(`SOUR:CURR:BIAS 4E-5,(@1:${LANES})`);
    await s.write(`SOUR:CURR:MOD 3.2E-4,(@1:${LANES})`);
    await s.write(`OUTP ON,(@1:${LANES})`);
    expect(await s.queryNumbers('OUTP? (@1:5)')).toEqual([1, 1, 1, 1, 1]);
  } finally {
    await s.close();
  }
}

/** A store that throws from `method` from its `nth` call on. */
function faultyStore(inner: RunStore, method: keyof RunStore, nth = 1): RunStore {
  let n = 0;
  return new Proxy(inner, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver);
      if (typeof v !== 'function') return v;
      if (prop !== method) return v.bind(target);
      return (...args: unknown[]) => {
        if (++n >= nth) throw new Error(`injected: ${String(prop)} failed`);
        return v.apply(target, args);
      };
    },
  });
}

const lightStep: StepDefinition = {
  type: 'light',
  description: 'every lane on at the operating point',
  requires: ['current-source'],
  params: z.object({}),
  measurements: () => [{ name: 'lit', unit: 'count', dimensions: [] }],
  run: async (ctx) => {
    await ensureOperatingDrive(ctx);
    await ctx.instruments.get('current-source').setOutput(ctx.geometry.all, true, { signal: ctx.signal });
    ctx.measure('lit', ctx.geometry.all.length);
  },
};

function throwingStep(type: string, run: StepDefinition['run'], measurements?: StepDefinition['measurements']) {
  return {
    type,
    description: type,
    requires: [],
    params: z.object({}),
    measurements: measurements ?? (() => []),
    run,
  } as StepDefinition;
}

interface Case {
  name: string;
  yaml?: string;
  store?: (s: RunStore) => RunStore;
  deps?: Partial<EngineDeps>;
  /** Runs alongside the run (e.g. a fault from outside its flow). */
  during?: (h: ReturnType<typeof startSequenceRun>) => Promise<void>;
  outcome: RunRecord['outcome'];
  error?: RegExp;
}

const LIGHT_THEN = (type: string) => `
name: fault
steps:
  - { id: light, type: light }
  - { id: bad, type: ${type} }
  - { id: after, type: light }
`;

const cases: Case[] = [
  { name: 'an event listener that throws on every event', outcome: 'PASS' },
  {
    name: 'the store failing to start a step',
    store: (s) => faultyStore(s, 'appendStep', 2),
    outcome: 'ERROR',
    error: /injected: appendStep failed/,
  },
  {
    name: 'the store failing to keep a measurement',
    store: (s) => faultyStore(s, 'addMeasurement'),
    outcome: 'ERROR',
    error: /injected: addMeasurement/,
  },
  {
    name: 'the store failing to finish a step',
    store: (s) => faultyStore(s, 'finishStep'),
    outcome: 'ERROR',
    error: /injected: finishStep/,
  },
  {
    name: 'the store failing to keep the lane map',
    store: (s) => faultyStore(s, 'setLaneMap'),
    outcome: 'ERROR',
    error: /injected: setLaneMap/,
  },
  {
    name: 'the store failing to keep the transcript',
    store: (s) => faultyStore(s, 'appendTranscript'),
    outcome: 'PASS',
  },
  {
    name: 'the store failing to keep the safe state at the start',
    store: (s) => faultyStore(s, 'recordSafeState'),
    outcome: 'ERROR',
    error: /could not keep the safe state read back before the first step/,
  },
  {
    name: 'the store failing to keep the safe state at the end',
    store: (s) => faultyStore(s, 'recordSafeState', 2),
    outcome: 'ERROR',
    error: /could not keep the safe state read back at the end of the run/,
  },
  {
    name: 'the store failing to finish the run',
    store: (s) => faultyStore(s, 'finishRun'),
    outcome: 'ERROR',
    error: /results store failed while finishing/,
  },
  { name: 'the store failing to give the record back', store: (s) => faultyStore(s, 'getRun'), outcome: 'PASS' },
  {
    name: 'a bug in a step (TypeError)',
    yaml: LIGHT_THEN('bug'),
    outcome: 'ERROR',
    error: /step bad \(bug\): .*undefined/,
  },
  {
    name: "a bug in a step's declared measurements",
    yaml: LIGHT_THEN('bad-spec'),
    outcome: 'ERROR',
    error: /cpobench internal error: spec bug/,
  },
  {
    name: 'a prompt responder that throws',
    yaml: LIGHT_THEN('ask'),
    outcome: 'ERROR',
    error: /the responder failed: responder bug/,
  },
  {
    name: 'the bench preparation failing',
    deps: { prepare: async () => Promise.reject(new Error('prepare bug')) },
    outcome: 'ERROR',
    error: /prepare bug/,
  },
  {
    name: 'a fault from outside the run (an uncaught exception)',
    yaml: LIGHT_THEN('wait'),
    during: async (h) => {
      await new Promise((r) => setTimeout(r, 200));
      await h.fail(new TypeError('callback bug'));
    },
    outcome: 'ERROR',
    error: /^cpobench internal error: callback bug$/,
  },
  {
    name: 'a step that ignores its abort signal, then an abort',
    yaml: LIGHT_THEN('deaf'),
    during: async (h) => {
      await new Promise((r) => setTimeout(r, 200));
      await h.abort('test');
    },
    outcome: 'ABORTED',
    error: /aborted by test/,
  },
];

describe('the bench ends dark, read back, whatever throws inside the engine', () => {
  for (const c of cases) {
    it(c.name, async () => {
      await leaveLit();
      const registry = new Map(baseRegistry);
      registry.set('light', lightStep);
      registry.set(
        'bug',
        throwingStep('bug', async (sc) => {
          await ensureOperatingDrive(sc);
          const missing = sc.shared.get('nothing here') as { x: number };
          sc.log('info', String(missing.x)); // TypeError
        }),
      );
      let specCalls = 0;
      registry.set(
        'bad-spec',
        throwingStep(
          'bad-spec',
          async () => undefined,
          () => {
            if (++specCalls > 1) throw new TypeError('spec bug'); // the loader's call passes; the run's throws
            return [];
          },
        ),
      );
      registry.set(
        'ask',
        throwingStep('ask', async (sc) => {
          await sc.prompt('confirm', 'Is the fibre connected?');
        }),
      );
      registry.set(
        'wait',
        throwingStep('wait', async (sc) => {
          await sc.sleep(60_000);
        }),
      );
      registry.set(
        'deaf',
        throwingStep('deaf', async () => {
          await new Promise(() => undefined); // never settles and never looks at its signal
        }),
      );
      const store = openStore(join(dir, `${c.name.replace(/\W+/g, '-')}.db`));
      try {
        const run: AppContext = {
          ...ctx,
          store: c.store ? c.store(store) : store,
          registry,
          bus: new EventBus(),
          prompts: new PromptBroker(),
        };
        if (c.name.startsWith('an event listener')) {
          run.bus.on(() => {
            throw new Error('listener bug');
          });
        }
        if (c.name.startsWith('a prompt responder')) {
          run.prompts.onPrompt(() => {
            throw new Error('responder bug');
          });
        } else scriptedResponder(run.prompts, [], true);
        const seq = parseSequence(c.yaml ?? LIGHT_THEN('light'), 'fault.yaml', registry);
        const h = startSequenceRun(run, seq, { dut: 'F1', operator: 'test' }, c.deps);
        const [rec] = await Promise.all([h.done, c.during?.(h)]);
        expect(rec.outcome).toBe(c.outcome);
        if (c.error) expect(rec.error).toMatch(c.error);
        expect(rec.safeState?.safe).toBe(true);
        const led = await readLed(ledResource, LANES);
        expect(isDark(led), `LED driver after "${c.name}": ${JSON.stringify(led.outputs.slice(0, 5))}`).toBe(true);
      } finally {
        store.close();
      }
    });
  }

  it('a bug in the safe-state code itself: NOT SAFE at the start, nothing driven, and dark at the end', async () => {
    await leaveLit();
    const store = openStore(join(dir, 'safe-bug.db'));
    try {
      let calls = 0;
      const registry = new Map(baseRegistry);
      registry.set('light', lightStep);
      const run: AppContext = { ...ctx, store, registry };
      const seq = parseSequence(LIGHT_THEN('light'), 'fault.yaml', registry);
      const h = startSequenceRun(
        run,
        seq,
        { dut: 'F1', operator: 'test' },
        {
          safeState: async (timeoutMs) => {
            if (++calls === 1) throw new TypeError('safe-state bug');
            return ctx.station.safeState({ timeoutMs });
          },
        },
      );
      const rec = await h.done;
      expect(rec.outcome).toBe('ERROR');
      expect(rec.error).toMatch(
        /did not confirm its safe state before the first step: bench: safe state could not run: safe-state bug/,
      );
      expect(rec.steps).toEqual([]);
      expect(rec.startState?.safe).toBe(false);
      expect(rec.safeState?.safe).toBe(true);
      expect(isDark(await readLed(ledResource, LANES))).toBe(true);
    } finally {
      store.close();
    }
  });
});
