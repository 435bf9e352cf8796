/**
 * PD against CMOS: the same qualification on mosaic-800g (a PD kit) and mosaic-800g-cmos (a CMOS-sensor kit, its
 * data path derived from binned pixels) on one link and seed gives different results, each difference the one
 * the receivers' parameters explain, shown side by side by `cpobench compare-receivers` (the real CLI).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import type { ComparedFigure } from '../../src/report/compare.ts';
import { loadProfile } from '../../src/sim/model/profile.ts';
import { receiverFacts } from '../../src/sim/receiver-explain.ts';
import { cpobench, tempDirs } from './helpers.ts';

const tmp = tempDirs();
afterAll(() => tmp.cleanup());

describe('cpobench compare-receivers', () => {
  it('mosaic-800g-qual on the PD and the CMOS bench: both PASS, different and explained, side by side', async () => {
    const dir = tmp.make();
    const json = join(dir, 'cmp.json');
    const r = await cpobench(['compare-receivers', '--db', join(dir, 'runs.db'), '--json', json]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/mosaic-800g-qual on mosaic-800g: PASS .* on mosaic-800g-cmos: PASS/);
    expect(r.stdout).toMatch(/why they differ:/);
    expect(r.stdout).toMatch(/crosstalk\/xt_nearest_db \(dB\)\s+-20\s+-19\.\d/);
    const out = JSON.parse(readFileSync(json, 'utf8')) as { records: RunRecord[]; comparison: ComparedFigure[] };
    const row = (name: string) => out.comparison.find((c) => c.name === name)!;
    const pd = receiverFacts(loadProfile('mosaic-800g'));
    const cmos = receiverFacts(loadProfile('mosaic-800g-cmos'));
    // crosstalk: the fibre's -20 dB on the PD; the CMOS lane map adds the sensor's pixel crosstalk (not the fibre's
    // a second time: it used to read -18.1 dB)
    expect(row('xt_nearest_db').a).toBeCloseTo(-20, 1);
    expect(Math.abs(row('xt_nearest_db').b! - cmos.expectedNearestDb)).toBeLessThan(0.4);
    expect(row('xt_nearest_db').b!).toBeGreaterThan(-19.8);
    // sensitivity: the median lane's margin moves by what the model predicts from responsivity, noise, bandwidth
    const dMargin = row('sensitivity_margin_db').b! - row('sensitivity_margin_db').a!;
    expect(dMargin).toBeLessThan(-0.05);
    expect(Math.abs(dMargin - (cmos.predictedMarginDb - pd.predictedMarginDb))).toBeLessThan(0.15);
    // energy: the CMOS kit's receiver rail draws 0.4 mW more per lane: 400 × 0.4 mW / 800 Gb/s = 0.2 pJ/bit
    expect(row('energy_per_bit').b! - row('energy_per_bit').a!).toBeCloseTo((400 * 0.4e-3) / 800e9 / 1e-12, 2);
    expect(out.records.map((x) => x.outcome)).toEqual(['PASS', 'PASS']);
  }, 300_000);
});
