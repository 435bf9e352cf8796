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
      'lane-power-monitor',
      'frame-camera',
    ]);
    // every model the table shows is in the JSON, and the other way round
    for (const d of list) expect(r.stdout).toMatch(new RegExp(`^${d.model}\\s`, 'm'));
  });
});
