/**
 * A station opened on a simulated bench (real SCPI servers over TCP), for driver tests against the simulated
 * instruments: `open()` starts a bench and opens its station; `closeAll()` (in afterEach) ends them all.
 */
import { expect } from 'vitest';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { type StationConfig, stationFromObject } from '../../src/station/schema.ts';
import { openStation, type Station } from '../../src/station/station.ts';

export interface SimStations {
  open(profile: string, edit?: (c: StationConfig) => void): Promise<Station>;
  /** The simulated bench behind a station `open` returned (its link model is the device's truth). */
  benchOf(st: Station): Bench;
  closeAll(): Promise<void>;
}

export function simStations(options: { seed?: number; timeScale?: number } = {}): SimStations {
  const cleanups: (() => Promise<unknown> | unknown)[] = [];
  const benches = new Map<Station, Bench>();
  return {
    async open(profile, edit) {
      const bench = await startBench({ profile, seed: options.seed ?? 7, timeScale: options.timeScale ?? 10_000 });
      cleanups.push(() => bench.close());
      const config = stationFromObject(bench.station, profile);
      edit?.(config);
      const st = await openStation(config);
      cleanups.push(() => st.close());
      expect(st.problems()).toEqual([]);
      benches.set(st, bench);
      return st;
    },
    benchOf(st) {
      const b = benches.get(st);
      if (!b) throw new Error('not a station these benches opened');
      return b;
    },
    async closeAll() {
      for (const c of cleanups.splice(0).reverse()) await c();
      benches.clear();
    },
  };
}

/** Polls `cond` every 10 ms until it holds; throws naming `what` after `tries` attempts. */
export async function until(cond: () => Promise<boolean>, what: string, tries = 500): Promise<void> {
  for (let i = 0; i < tries; i++) {
    if (await cond()) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}
