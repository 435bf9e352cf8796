import { describe, expect, it } from 'vitest';
import { cpobench } from '../helpers/cli.ts';

describe('cpobench steps', () => {
  it('lists every step type with what it needs, its parameters and defaults, and its declared measurements', async () => {
    const r = await cpobench(['steps']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^ber: Per-lane BER upper bound/m);
    expect(r.stdout).toMatch(/^ {2}needs: current-source, pattern-generator, error-detector$/m);
    expect(r.stdout).toMatch(/^ {2}param targetBer: number = 1e-9$/m);
    expect(r.stdout).toMatch(/^ {2}measures ber_upper_bound \[-\] per lane, limits ≤ 1e-9, summary: ber-bound$/m);
    expect(r.stdout).toMatch(/^remap: [^\n]*\n {2}needs: [^\n]* \(repairs lanes\)$/m);
    expect(r.stdout).toMatch(/^temperature-sweep: [^\n]*\n {2}needs: thermal-controller$/m);
    expect(r.stdout).toMatch(
      /^burn-in: [^\n]*\n {2}needs: current-source, lane-power-monitor, thermal-controller \(resumable: cpobench resume\)$/m,
    );
    expect(r.stdout).toMatch(/^ {2}measures burnin_l70_use_h \[h\] per lane, limits ≥ 50000$/m);
    const json = JSON.parse((await cpobench(['steps', '--json'])).stdout) as {
      type: string;
      params: { name: string }[];
      measurements: { name: string }[];
    }[];
    expect(json.map((s) => s.type)).toEqual([
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
    ]);
    expect(json.find((s) => s.type === 'energy-per-bit')!.measurements.map((m) => m.name)).toContain('energy_per_bit');
  });
});
