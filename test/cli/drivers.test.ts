import { describe, expect, it } from 'vitest';
import { cpobench } from '../helpers/cli.ts';

describe('cpobench drivers', () => {
  it('lists every registered model with its capabilities and settings; --json gives the same list', async () => {
    const r = await cpobench(['drivers']);
    expect(r.code).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^MODEL\s+CAPABILITIES\s+DESCRIPTION$/);
    expect(r.stdout).toMatch(/^keysight-n6705c\s+rail-meter, supply\s+Keysight N6705C/m);
    expect(r.stdout).toMatch(/^cpobench-led-board\s+current-source, pattern-generator\s+/m);
    expect(r.stdout).toMatch(/settings: limits, idleC, ramp, settle; \*IDN\? matches \/TED4015\//);
    const json = await cpobench(['drivers', '--json']);
    const list = JSON.parse(json.stdout) as { model: string; capabilities: string[] }[];
    expect(list.map((d) => d.model)).toEqual([...list.map((d) => d.model)].sort());
    expect(list.find((d) => d.model === 'cpobench-cmos-kit')!.capabilities).toEqual([
      'error-detector',
      'decision-threshold',
      'lane-deskew',
      'lane-power-monitor',
      'frame-camera',
    ]);
    // every model the table shows is in the JSON, and the other way round
    for (const d of list) expect(r.stdout).toMatch(new RegExp(`^${d.model}\\s`, 'm'));
    // at least nine models, each with the capabilities it gives the steps
    expect(list.length).toBeGreaterThanOrEqual(9);
    for (const d of list) expect(d.capabilities.length, d.model).toBeGreaterThan(0);
    const caps = Object.fromEntries(list.map((d) => [d.model, d.capabilities]));
    expect(caps).toMatchObject({
      'keithley-2450': ['smu'],
      'anritsu-mp1900a': ['error-detector'],
      'keysight-n7734a': ['optical-switch'],
      'keysight-n7764a': ['attenuator'],
      'newport-1936r': ['optical-power-meter'],
      'thorlabs-pm100d': ['optical-power-meter'],
    });
    expect(r.stdout).toMatch(/^keithley-2450\s+smu\s+Keithley 2450 SourceMeter \(SCPI\)$/m);
    expect(r.stdout).toMatch(/settings: module, channels; \*IDN\? matches \/MP1900A\//);
  });
});
