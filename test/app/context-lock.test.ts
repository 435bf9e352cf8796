/**
 * openContext takes the bench lock for the life of the context: a second context on the same instruments in
 * the same process is refused naming every instrument and the holder, and gets them once the first closes.
 */
import { writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { type Bench, benchStation, startBench, stationYaml } from '../../src/sim/bench.ts';
import { InstrumentLockedError, instrumentLockState } from '../../src/station/bench-lock.ts';
import { tempDirs } from '../e2e/helpers.ts';

const tmp = tempDirs('cpobench-ctx-lock-');
let bench: Bench;
let stationFile: string;

beforeAll(async () => {
  bench = await startBench({ profile: 'mosaic-800g', timeScale: 1000 });
  stationFile = join(tmp.make(), 'station.yaml');
  writeFileSync(stationFile, stationYaml(benchStation(bench)));
});
afterAll(async () => {
  await bench?.close();
  tmp.cleanup();
});

describe('openContext and the bench lock', () => {
  it('two contexts on one station in one process: the second is refused until the first closes', async () => {
    const dir = tmp.make();
    const first: AppContext = await openContext({
      stationFile,
      db: join(dir, 'a.db'),
      lock: { command: 'cpobench serve --station station.yaml' },
    });
    const name = first.stationConfig.name;
    let second: AppContext | undefined;
    try {
      for (const i of bench.instruments) expect(instrumentLockState(i.resource).kind, i.role).toBe('held');
      // the other context spells the instruments TCPIP:: instead of TCPIP0::
      const other = join(dir, 'other.yaml');
      writeFileSync(other, stationYaml(benchStation(bench)).replaceAll('TCPIP0::', 'TCPIP::'));
      const err = await openContext({ stationFile: other, db: join(dir, 'b.db') }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(InstrumentLockedError);
      const msg = (err as Error).message;
      for (const i of bench.instruments)
        expect(msg).toContain(`${i.role} (${i.resource.replace('TCPIP0::', 'TCPIP::')})`);
      expect(msg).toContain(`held by pid ${process.pid} on ${hostname()}`);
      expect(msg).toContain(`"cpobench serve --station station.yaml", station "${name}", since `);
    } finally {
      await first.close();
    }
    for (const i of bench.instruments) expect(instrumentLockState(i.resource).kind, i.role).toBe('free');
    second = await openContext({ stationFile, db: join(dir, 'b.db') });
    try {
      expect(second.station.problems()).toEqual([]);
    } finally {
      await second.close();
      await second.close(); // idempotent
    }
    for (const i of bench.instruments) expect(instrumentLockState(i.resource).kind, i.role).toBe('free');
  });

  it('a simulated bench started by the context is locked too, and released on close', async () => {
    const ctx = await openContext({ sim: { profile: 'mosaic-800g', timeScale: 1000 }, db: join(tmp.make(), 'c.db') });
    const resources = ctx.sim!.instruments.map((i) => i.resource);
    try {
      for (const r of resources) expect(instrumentLockState(r).kind).toBe('held');
    } finally {
      await ctx.close();
    }
    for (const r of resources) expect(instrumentLockState(r).kind).toBe('free');
  });
});
