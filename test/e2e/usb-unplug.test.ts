/**
 * A USB instrument unplugged mid-run. The simulated TED4015 is reached as a real one is, over USBTMC
 * (`USB0::0x1313::0x804A::M00412345::INSTR`), through the bulk-endpoint emulator; the rest of the bench on its
 * sockets. The cable is pulled while the temperature sweep drives the TEC: the run ends ERROR with an error that
 * names the instrument and its resource, the safe state is still attempted on every other instrument and
 * confirmed there (the LED driver reads back dark over a second connection), the TEC is reported as not
 * confirmed rather than assumed safe, and the BER screen measured before the pull is in the store.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { type AppContext, openContext, startSequenceRun } from '../../src/app/context.ts';
import { scriptedResponder } from '../../src/orchestrator/prompts.ts';
import { parseSequence } from '../../src/orchestrator/sequence.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { UsbtmcDeviceEmulator } from '../../src/sim/server/usbtmc-device.ts';
import { openStore } from '../../src/store/index.ts';
import { createTransport } from '../../src/transport/open.ts';
import { isDark, readLed } from '../helpers/probe.ts';

const TEC_USB = 'USB0::0x1313::0x804A::M00412345::INSTR';
const SEQUENCE = `
name: unplug
steps:
  - id: screen
    type: ber
    params: { rate: 2.0e9, pattern: PRBS31, targetBer: 1.0e-9, confidence: 0.95, pollMs: 50 }
    limits: { ber_upper_bound: { high: 1.0e-9 } }
  - id: temperature
    type: temperature-sweep
    params: { setpoints: [45, 65], toleranceC: 0.2, dwellS: 2, settleTimeoutS: 600, idleC: 25 }
    steps:
      - id: t-li
        type: li-sweep
        params: { points: 4, iMinA: 1.0e-5, framePerPoint: false }
`;

let dir: string;
let bench: Bench;
let ctx: AppContext;
let device: UsbtmcDeviceEmulator;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'cpobench-unplug-'));
  bench = await startBench({ profile: 'mosaic-800g', timeScale: 1000 });
  const tec = bench.instruments.find((i) => i.role === 'tec')!;
  device = new UsbtmcDeviceEmulator(tec.instrument, { maxPacketSize: 64 });
  const station = structuredClone(bench.station) as { instruments: Record<string, { resource: string }> };
  station.instruments.tec!.resource = TEC_USB;
  const stationFile = join(dir, 'station.yaml');
  writeFileSync(stationFile, stringify(station));
  ctx = await openContext({
    stationFile,
    db: join(dir, 'runs.db'),
    lock: { dir: join(dir, 'locks') },
    createTransport: (resource, options) =>
      createTransport(resource, resource === TEC_USB ? { ...options, usbPipe: async () => device } : options),
  });
});

afterAll(async () => {
  await ctx?.close();
  await bench?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('a USB instrument unplugged mid-run', () => {
  it('ERROR naming the instrument; the rest of the bench confirmed safe; what was measured is kept', async () => {
    const led = bench.instruments.find((i) => i.role === 'led-driver')!.resource;
    scriptedResponder(ctx.prompts, [], true);
    const seq = parseSequence(SEQUENCE, 'unplug.yaml', ctx.registry);
    let pulled = false;
    ctx.bus.on((e) => {
      if (!pulled && e.type === 'step.started' && e.step.id === 'temperature') {
        pulled = true;
        setTimeout(() => device.unplug(), 50);
      }
    });
    const h = startSequenceRun(ctx, seq, { dut: 'U1', operator: 'test' });
    const rec = await h.done;

    expect(pulled).toBe(true);
    expect(rec.outcome).toBe('ERROR');
    expect(rec.error).toMatch(/tec/);
    expect(rec.error).toContain(TEC_USB);
    expect(rec.error).toMatch(/unplugged|connection lost/);

    // the safe state was attempted on every instrument: the LED driver is confirmed off, the TEC is not
    // reported safe, since nothing can be read back from it
    const byRole = new Map(rec.safeState!.instruments.map((i) => [i.role, i]));
    expect(byRole.get('led-driver')?.safe).toBe(true);
    expect(byRole.get('tec')?.safe).toBe(false);
    expect(rec.safeState!.safe).toBe(false);
    expect(isDark(await readLed(led, 400))).toBe(true);

    // the screen measured before the pull is in the record and in the store
    const screen = rec.steps.find((s) => s.id === 'screen')!;
    expect(screen.verdict).toBe('PASS');
    const store = openStore(join(dir, 'runs.db'));
    try {
      const stored = store.getRun(rec.id)!;
      expect(stored.outcome).toBe('ERROR');
      expect(stored.steps.find((s) => s.id === 'screen')?.measurements.map((m) => m.spec.name)).toContain(
        'ber_upper_bound',
      );
    } finally {
      store.close();
    }
  });
});
