import { describe, expect, it } from 'vitest';
import { parseFibreLength, simOptions } from '../../src/cli/commands/common.ts';
import { planBench } from '../../src/sim/bench.ts';

describe('--fibre-length', () => {
  it('takes metres 0..10000 and goes with --sim only', () => {
    expect(parseFibreLength('30')).toBe(30);
    expect(parseFibreLength('2.5')).toBe(2.5);
    for (const bad of ['far', '-3', '1e3', '10001', ''])
      expect(() => parseFibreLength(bad)).toThrow(/--fibre-length must be metres in 0\.\.10000, got/);
    expect(simOptions({ sim: 'alc-30m', fibreLength: '5' })?.fibreLengthM).toBe(5);
    expect(() => simOptions({ station: 's.yaml', fibreLength: '5' })).toThrow(/--fibre-length go with --sim/);
  });

  it('the bench runs at it, and refuses it for a profile without a fibre', () => {
    expect(planBench({ profile: 'alc-30m', fibreLengthM: 5 }).fibreLengthM).toBe(5);
    expect(planBench({ profile: 'alc-30m' }).fibreLengthM).toBeUndefined();
    expect(() => planBench({ profile: 'alc-30m', fibreLengthM: 20000 })).toThrow(/0\.\.10000/);
  });
});
