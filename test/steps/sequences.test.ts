import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { builtinSequenceDir, parseSequence } from '../../src/orchestrator/sequence.ts';
import { createStepRegistry } from '../../src/steps/registry.ts';

const load = (name: string, rateRange: [number, number]) => {
  const file = join(builtinSequenceDir(), `${name}.yaml`);
  return parseSequence(readFileSync(file, 'utf8'), file, createStepRegistry(), { rateRange });
};

describe('shipped sequences', () => {
  it('smoke: inventory, BER screen, energy per bit', () => {
    const s = load('smoke', [0.5e9, 4e9]);
    expect(s.steps.map((x) => x.type)).toEqual(['inventory', 'ber', 'energy-per-bit']);
    expect(s.steps[1].params).toMatchObject({ targetBer: 1e-9, confidence: 0.95, pattern: 'PRBS31' });
  });

  it('mosaic-800g-qual: Q0-Q10 with a nested temperature sweep', () => {
    const s = load('mosaic-800g-qual', [0.5e9, 4e9]);
    expect(s.steps.map((x) => x.type)).toEqual([
      'inventory',
      'open-short',
      'lane-map',
      'li-sweep',
      'crosstalk',
      'ber',
      'remap',
      'energy-per-bit',
      'temperature-sweep',
      'margins',
      'waterfall',
      'supply-margin',
    ]);
    const ber = s.steps.find((x) => x.id === 'ber')!;
    expect(ber.params).toMatchObject({ targetBer: 1e-12, confidence: 0.95, rate: 2e9 });
    const sweep = s.steps.find((x) => x.type === 'temperature-sweep')!;
    expect(sweep.params.setpoints).toEqual([25, 45, 65, 85]);
    expect(sweep.steps.map((x) => x.type)).toEqual(['li-sweep', 'ber']);
    expect(s.steps.find((x) => x.id === 'energy')!.limits.energy_per_bit.high).toBe(6.6);
    expect(s.watch).toHaveLength(1);
  });

  it('lightbundle-512g-qual: raw BER 1e-9, remap, 2 pJ/bit', () => {
    const s = load('lightbundle-512g-qual', [0.5e9, 3.5e9]);
    expect(s.steps.map((x) => x.type)).toContain('remap');
    // Q1 before the lane map (every lane, spares included), Q10b bathtub and Q10d supply margin at the end
    expect(s.steps.map((x) => x.type).slice(0, 3)).toEqual(['inventory', 'open-short', 'lane-map']);
    expect(s.steps.find((x) => x.id === 'open-short')!.params.lanes).toBe('all');
    expect(s.steps.map((x) => x.type).slice(-2)).toEqual(['bathtub', 'supply-margin']);
    expect(s.steps.map((x) => x.id)).toContain('aggregate'); // Q7 after the re-test, before energy
    expect(s.steps.find((x) => x.id === 'energy')!.limits.energy_per_bit.high).toBe(2);
    expect(s.steps.find((x) => x.id === 'ber')!.params.targetBer).toBe(1e-9);
  });

  it('burn-in-96h: 96 h at 85 °C with checkpoints every 4 h, then remap', () => {
    const s = load('burn-in-96h', [0.5e9, 4e9]);
    expect(s.steps.map((x) => x.type)).toEqual(['inventory', 'burn-in', 'remap']);
    expect(s.steps[1].params).toMatchObject({ durationH: 96, checkpointH: 4, temperatureC: 85, stressFactor: 1.5 });
  });

  it('rejects unknown params of a step type', () => {
    const text = 'name: bad\nsteps:\n  - id: b\n    type: ber\n    params: { rat: 2.0e9 }\n';
    expect(() => parseSequence(text, 'bad.yaml', createStepRegistry())).toThrow(/rat/);
  });
});
