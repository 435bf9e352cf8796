/** `npm run calibrate`: every shipped profile inside its class, alc-30m limited by reach, the README current. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CALIBRATION_BEGIN,
  CALIBRATION_END,
  calibrate,
  calibrationTable,
  replaceCalibrationSection,
} from '../../src/sim/calibration.ts';
import { builtinProfileNames } from '../../src/sim/model/profile.ts';

const rows = calibrate(builtinProfileNames());
const row = (n: string) => rows.find((r) => r.profile === n)!;

describe('calibration', () => {
  it('every shipped profile has a class and sits inside its published figures', () => {
    for (const r of rows) {
      expect(r.check, r.profile).toBeDefined();
      const missed = r.check!.results.filter((x) => x.met === false).map((x) => x.metric);
      expect(missed, r.profile).toEqual([]);
    }
  });

  it('alc-30m is limited by reach; the MOSAIC and LightBundle profiles are not', () => {
    expect(row('alc-30m').limitedBy).toBe('reach');
    expect(row('alc-30m').maxRateGbps).toBeLessThan(0.7 * row('alc-30m').maxRateAt1mGbps);
    expect(row('alc-30m').reachM).toBeGreaterThanOrEqual(30);
    expect(row('alc-30m').reachM).toBeLessThan(45);
    expect(row('mosaic-800g').limitedBy).not.toBe('reach');
    expect(row('lightbundle-512g').limitedBy).not.toBe('reach');
  });

  it('the figures are the published classes: MOSAIC 3.9-6.6 pJ/bit at 400 lanes, LightBundle 1-2 pJ/bit, 256 lanes', () => {
    expect(row('mosaic-800g').pjPerBit).toBeGreaterThan(3.9);
    expect(row('mosaic-800g').pjPerBit).toBeLessThan(6.6);
    expect(row('lightbundle-512g').lanes).toBe(256); // its dead lane is left to a spare
    expect(row('lightbundle-512g').pjPerBit).toBeGreaterThan(1);
    expect(row('lightbundle-512g').pjPerBit).toBeLessThan(2);
    expect(row('mosaic-800g').p85OverP25).toBeGreaterThan(0.9);
  });

  it("the README's calibration table is the output of npm run calibrate", () => {
    const readme = readFileSync('README.md', 'utf8');
    const table = calibrationTable(rows);
    expect(replaceCalibrationSection(readme, table)).toBe(readme);
    const between = readme.slice(readme.indexOf(CALIBRATION_BEGIN), readme.indexOf(CALIBRATION_END));
    expect(between).toContain('`alc-30m`');
    expect(() => replaceCalibrationSection('no markers', table)).toThrow(/calibration markers are missing/);
  });
});
