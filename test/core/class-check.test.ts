import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { builtinClassNames, loadClassTargets } from '../../src/config/class-targets.ts';
import { checkClass, deviceDensity, targetRange } from '../../src/core/class-check.ts';

const dir = mkdtempSync(join(tmpdir(), 'cpobench-class-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('class targets', () => {
  it('ships a targets file per class, each target with its source', () => {
    expect(builtinClassNames()).toEqual(['alc-30m', 'lightbundle-512g', 'mosaic-800g']);
    for (const n of builtinClassNames()) {
      const c = loadClassTargets(n);
      expect(c.copperReference?.pjPerBit).toBeGreaterThan(0);
      for (const t of c.targets) expect(t.source.length).toBeGreaterThan(5);
    }
  });

  it('checks figures: met, missed, not measured; energy against copper derived from the reference', () => {
    const c = loadClassTargets('lightbundle-512g');
    const r = checkClass(c, { lanes_active: 256, energy_pj_per_bit: 2.5, ber: 1e-10, lanes_per_mm2: null });
    const by = (m: string) => r.results.find((x) => x.metric === m)!;
    expect(by('lanes_active').met).toBe(true);
    expect(by('energy_pj_per_bit')).toMatchObject({ value: 2.5, met: false });
    expect(by('energy_vs_copper').value).toBeCloseTo(2.5 / 20, 12);
    expect(by('ber').met).toBe(true);
    expect(by('lanes_per_mm2').met).toBeNull();
    expect(by('reach_m').met).toBeNull();
    expect(r.met).toBe(false);
    expect(r.notMeasured).toBe(4); // lane rate, P85/P25, reach, density
    expect(checkClass(c, { energy_pj_per_bit: 1.5 }).met).toBe(true);
    expect(targetRange({ min: 1, max: 2 })).toBe('1..2');
    expect(targetRange({ max: 1e-9 })).toBe('≤ 1e-9');
  });

  it('density from pitch: 20 x 20 lanes at 45 µm is 0.81 mm², 494 lanes/mm²', () => {
    const d = deviceDensity(20, 20, 400, 45);
    expect(d.arrayAreaMm2).toBeCloseTo(0.81, 12);
    expect(d.lanesPerMm2).toBeCloseTo(493.827, 3);
    expect(deviceDensity(20, 20, 400, undefined)).toEqual({});
  });

  it('a bad targets file is refused naming file:line:column and the key', () => {
    const f = join(dir, 'bad.yaml');
    writeFileSync(f, 'name: x\ntitle: y\ntargets:\n  - { metric: speed, min: 1, source: z }\n');
    expect(() => loadClassTargets(f)).toThrow(/bad\.yaml:4:15 targets\[0\]\.metric: expected one of "lanes_active"/);
    expect(() => loadClassTargets('nope')).toThrow(/unknown device class "nope"; available: alc-30m/);
  });
});
