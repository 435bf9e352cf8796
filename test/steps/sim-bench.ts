/**
 * A harness bench on the simulated instruments: real SCPI servers over TCP sharing one link model, and a station
 * opened on them, so a step runs through the engine's step context (helpers.ts) against the model's truth.
 * `close()` ends the station and the servers.
 */
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { type StationConfig, stationFromObject } from '../../src/station/schema.ts';
import { openStation, type Station } from '../../src/station/station.ts';
import type { HarnessBench } from './helpers.ts';

export interface SimHarnessBench extends HarnessBench {
  sim: Bench;
  station: Station;
  close(): Promise<void>;
}

export async function openSimBench(
  profile: string,
  o: { seed?: number; timeScale?: number; faults?: object; edit?: (c: StationConfig) => void } = {},
): Promise<SimHarnessBench> {
  const sim = await startBench({
    profile,
    seed: o.seed ?? 7,
    timeScale: o.timeScale ?? 1e6,
    ...(o.faults ? { faults: o.faults } : {}),
  });
  try {
    const config = stationFromObject(sim.station, profile);
    o.edit?.(config);
    const station = await openStation(config);
    const geometry = sim.profile.geometry;
    return {
      sim,
      station,
      instruments: station,
      model: { rows: geometry.rows, cols: geometry.cols },
      tec: { t: Number.NaN },
      async close() {
        await station.close();
        await sim.close();
      },
    };
  } catch (err) {
    await sim.close();
    throw err;
  }
}
