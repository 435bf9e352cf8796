/**
 * Each simulated instrument serves exactly its model's command table (plus the IEEE 488.2 common commands and the
 * SCPI system commands every instrument has): no header of its own that the driver's table lacks, every table line
 * with the forms (setting, query) the table gives it.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { CMOS_KIT } from '../../src/instruments/cmos-kit/commands.ts';
import { N6705C } from '../../src/instruments/keysight-n6705c/commands.ts';
import { LED_BOARD } from '../../src/instruments/led-board/commands.ts';
import { PD_KIT } from '../../src/instruments/pd-kit/commands.ts';
import { PM100D } from '../../src/instruments/thorlabs-pm100d/commands.ts';
import { TED4015 } from '../../src/instruments/thorlabs-ted4015/commands.ts';
import type { ScpiCommand } from '../../src/scpi/command-table.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';

const COMMON = [
  '*IDN',
  '*RST',
  '*CLS',
  '*ESE',
  '*ESR',
  '*SRE',
  '*STB',
  '*OPC',
  '*WAI',
  '*TST',
  'SYSTem:ERRor[:NEXT]',
  'SYSTem:ERRor:COUNt',
  'SYSTem:VERSion',
];

const benches: Bench[] = [];
afterEach(async () => {
  for (const b of benches.splice(0)) await b.close();
});

async function instrument(profile: string, role: string) {
  const bench = await startBench({ profile, seed: 1 });
  benches.push(bench);
  return bench.instruments.find((i) => i.role === role)!.instrument;
}

describe('simulated instruments serve their model command tables', () => {
  for (const [profile, role, table] of [
    ['mosaic-800g', 'led-driver', LED_BOARD],
    ['mosaic-800g', 'pd-receiver', PD_KIT],
    ['mosaic-800g-cmos', 'cmos-receiver', CMOS_KIT],
    ['mosaic-800g', 'power-analyzer', N6705C],
    ['mosaic-800g', 'optical-meter', PM100D],
    ['mosaic-800g', 'tec', TED4015],
  ] as const) {
    it(`${role} (${profile})`, async () => {
      const inst = await instrument(profile, role);
      const lines = Object.values(table) as ScpiCommand<unknown>[];
      expect(
        inst.tree
          .patterns()
          .filter((p) => !COMMON.includes(p))
          .sort(),
      ).toEqual(lines.map((c) => c.header).sort());
      for (const cmd of lines) {
        const spec = inst.tree.resolve(cmd.send.toUpperCase().split(':'))?.spec;
        expect(spec, cmd.send).toBeDefined();
        expect([cmd.send, spec!.set !== undefined, spec!.query !== undefined]).toEqual([
          cmd.send,
          cmd.settable,
          cmd.queryable,
        ]);
      }
    });
  }
});
