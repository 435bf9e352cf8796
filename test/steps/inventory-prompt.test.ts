import { describe, expect, it } from 'vitest';
import { inventoryStep } from '../../src/steps/inventory.ts';
import { answerValue, numberValue, operatorPromptStep } from '../../src/steps/operator-prompt.ts';
import { createStepRegistry } from '../../src/steps/registry.ts';
import { createFakeBench } from './fake-bench.ts';
import { runStep } from './helpers.ts';

describe('inventory', () => {
  it('identifies, self-tests and clears every instrument', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(bench, inventoryStep);
    expect(ctx.get('instruments').value).toBe(5);
    expect(ctx.get('self_test_failures').value).toBe(0);
    expect(ctx.get('self_test_failures').verdict).toBe('PASS');
    expect(bench.log.count('identify')).toBe(5);
    expect(bench.log.count('selfTest')).toBe(5);
    expect(bench.log.count('clearErrors')).toBe(5);
  });

  it('fails when a self-test is not 0 or a required role is missing', async () => {
    const bench = createFakeBench({ selfTest: { tec: 3 } });
    const ctx = await runStep(bench, inventoryStep, { require: ['bert'] });
    expect(ctx.get('self_test_failures').value).toBe(2);
    expect(ctx.get('self_test_failures').verdict).toBe('FAIL');
    expect(ctx.logs.some((l) => l.msg.includes('tec: *TST? returned 3'))).toBe(true);
  });
});

describe('operator-prompt', () => {
  it('records a pass/fail answer as a verdict', async () => {
    const bench = createFakeBench();
    const pass = await runStep(
      bench,
      operatorPromptStep,
      { kind: 'passfail', message: 'Fibre clean?' },
      { answers: ['pass'] },
    );
    expect(pass.get('operator_answer').verdict).toBe('PASS');
    const fail = await runStep(
      bench,
      operatorPromptStep,
      { kind: 'passfail', message: 'Fibre clean?' },
      { answers: [false] },
    );
    expect(fail.get('operator_answer').verdict).toBe('FAIL');
  });

  it('records a value with limits', async () => {
    const bench = createFakeBench();
    const ctx = await runStep(
      bench,
      operatorPromptStep,
      { kind: 'value', message: 'Fibre length (m)?', name: 'fibre_m', unit: 'm', low: 1, high: 50 },
      { answers: ['12.5'] },
    );
    expect(ctx.get('fibre_m').value).toBe(12.5);
    expect(ctx.get('fibre_m').verdict).toBe('PASS');
    expect(answerValue('maybe')).toBeNull();
  });

  it('a value prompt answered yes (a default answer, or a slip) is an error, not a measurement of 1', async () => {
    const bench = createFakeBench();
    const params = { kind: 'value', message: 'Fibre length (m)?', name: 'fibre_m', unit: 'm', low: 0, high: 50 };
    for (const answer of [true, 'yes', 'pass', '']) {
      await expect(runStep(bench, operatorPromptStep, params, { answers: [answer] })).rejects.toThrow(
        /operator answer .* to "Fibre length \(m\)\?" is not a number/,
      );
    }
    expect(numberValue(' 12.5 ')).toBe(12.5);
    expect(numberValue(true)).toBeNull();
  });
});

describe('registry', () => {
  it('holds every step type, fresh per call', () => {
    const a = createStepRegistry();
    const b = createStepRegistry();
    expect(a).not.toBe(b);
    expect([...a.keys()].sort()).toEqual(
      [
        'bathtub',
        'ber',
        'burn-in',
        'crosstalk',
        'energy-per-bit',
        'inventory',
        'lane-map',
        'li-sweep',
        'margins',
        'open-short',
        'operator-prompt',
        'remap',
        'skew',
        'supply-margin',
        'temperature-sweep',
        'waterfall',
      ].sort(),
    );
    a.delete('ber');
    expect(b.has('ber')).toBe(true);
    for (const def of a.values()) expect(() => def.params.parse({})).not.toThrow();
  });
});
