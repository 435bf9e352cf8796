import pino, { type Logger } from 'pino';
import { CpobenchError } from '../core/errors.ts';
import type { TranscriptEntry } from '../core/record.ts';
import { EventBus } from '../orchestrator/bus.ts';
import { type RunHandle, startRun } from '../orchestrator/engine.ts';
import { createGeometry } from '../orchestrator/lanes.ts';
import { PromptBroker } from '../orchestrator/prompts.ts';
import { type LoadedSequence, loadSequence, resolveSequencePath } from '../orchestrator/sequence.ts';
import type { LaneGeometry, StepDefinition } from '../orchestrator/step.ts';
import { type Bench, type BenchOptions, planBench, startBench } from '../sim/bench.ts';
import { loadStation, type StationConfig, stationFromObject } from '../station/schema.ts';
import { openStation, type Station } from '../station/station.ts';
import { createStepRegistry } from '../steps/registry.ts';
import { openStore } from '../store/index.ts';
import type { RunStore } from '../store/types.ts';
import { softwareInfo } from './software.ts';

export interface ContextOptions {
  /** A station file, or: */
  stationFile?: string;
  /** a simulated bench started in this process. */
  sim?: BenchOptions;
  /** SQLite file; default ./data/cpobench.db. */
  db?: string;
  logger?: Logger;
  /** Refuse to start when an instrument is unreachable or is the wrong one (default true). */
  requireAll?: boolean;
  /** Driver calls kept in station.trace (default 1000). */
  traceSize?: number;
}

/** Everything a run needs, opened in an order that finds bad input before anything starts. */
export interface AppContext {
  station: Station;
  stationConfig: StationConfig;
  sim?: Bench;
  store: RunStore;
  bus: EventBus;
  prompts: PromptBroker;
  registry: ReadonlyMap<string, StepDefinition>;
  geometry: LaneGeometry;
  logger: Logger;
  /** The LED driver's rate range (station limits.rateBps), when given, for sequence checks. */
  rateRange?: [number, number];
  close(): Promise<void>;
}

export async function openContext(o: ContextOptions): Promise<AppContext> {
  const logger = o.logger ?? pino({ level: 'silent' });
  if (!o.stationFile === !o.sim)
    throw new CpobenchError('E_USAGE', 'give either a station file (--station) or a simulated profile (--sim)');
  // 1. inputs: nothing starts if any is wrong
  const plan = o.sim ? planBench(o.sim) : undefined;
  const fileConfig = o.stationFile ? loadStation(o.stationFile) : undefined;
  // 2. the store (a bad --db refuses here, before instruments are touched)
  const store = openStore(o.db);
  const closers: (() => Promise<unknown> | unknown)[] = [() => store.close()];
  const closeAll = async () => {
    for (const c of closers.splice(0).reverse()) {
      try {
        await c();
      } catch {
        /* keep closing */
      }
    }
  };
  try {
    let sim: Bench | undefined;
    if (o.sim) {
      sim = await startBench({ ...o.sim, profile: plan!.profile });
      closers.push(() => sim!.close());
    }
    const stationConfig = fileConfig ?? stationFromObject(sim!.station, `simulated ${sim!.profile.name}`);
    const station = await openStation(stationConfig, {
      logger,
      ...(o.traceSize !== undefined ? { traceSize: o.traceSize } : {}),
    });
    closers.push(() => station.close());
    if (o.requireAll ?? true) {
      const problems = station.problems();
      if (problems.length > 0) {
        throw new CpobenchError(
          'E_STATION',
          problems.map((p) => `${p.role} at ${p.resource}: ${p.error ?? p.state}`).join('; '),
        );
      }
    }
    const lanes = stationConfig.lanes;
    const geometry = createGeometry({
      rows: lanes.rows,
      cols: lanes.cols,
      order: lanes.order,
      spares: lanes.spares,
      active: lanes.active,
    });
    const rateBps = stationConfig.instruments['led-driver']?.limits.rateBps;
    return {
      station,
      stationConfig,
      sim,
      store,
      bus: new EventBus((err) => logger.error({ err }, 'event listener failed')),
      prompts: new PromptBroker(),
      registry: createStepRegistry(),
      geometry,
      logger,
      rateRange: rateBps ? [rateBps[0], rateBps[1]] : undefined,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

export function loadSequenceFor(ctx: AppContext, nameOrPath: string): LoadedSequence {
  return loadSequence(resolveSequencePath(nameOrPath), ctx.registry, { rateRange: ctx.rateRange });
}

/** Starts a run of a loaded sequence on the context's station. */
export function startSequenceRun(
  ctx: AppContext,
  sequence: LoadedSequence,
  who: { dut: string; operator: string },
): RunHandle {
  return startRun(
    {
      instruments: ctx.station,
      safeState: (timeoutMs) => ctx.station.safeState({ timeoutMs }),
      instrumentRecords: () =>
        ctx.station.instruments().map((i) => ({
          role: i.role,
          resource: i.resource,
          driver: i.driver,
          identity: i.identity ? parseIdentity(i.identity) : undefined,
        })),
      geometry: ctx.geometry,
      store: ctx.store,
      bus: ctx.bus,
      registry: ctx.registry,
      prompts: ctx.prompts,
      transcripts: { subscribe: (l: (e: TranscriptEntry) => void) => ctx.station.subscribeTranscripts(l) },
      logger: ctx.logger,
      safeStateTimeoutMs: 800,
    },
    {
      sequence,
      dut: who.dut,
      operator: who.operator,
      station: { name: ctx.stationConfig.name, snapshot: ctx.stationConfig },
      software: softwareInfo(),
    },
  );
}

function parseIdentity(raw: string) {
  const f = raw.split(',').map((s) => s.trim());
  return { manufacturer: f[0] ?? '', model: f[1] ?? '', serial: f[2] ?? '', firmware: f.slice(3).join(','), raw };
}
