import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import pino, { type Logger } from 'pino';
import { loadClassTargets } from '../config/class-targets.ts';
import { type ClassTargets, type DeviceSummary, deviceDensity } from '../core/class-check.ts';
import { CpobenchError, errorMessage } from '../core/errors.ts';
import type { DutOrigin, RunRecord, TranscriptEntry } from '../core/record.ts';
import { EventBus } from '../orchestrator/bus.ts';
import { type EngineDeps, type RunHandle, startRun } from '../orchestrator/engine.ts';
import { createGeometry } from '../orchestrator/lanes.ts';
import { PromptBroker } from '../orchestrator/prompts.ts';
import { type LoadContext, type LoadedSequence, loadSequence, resolveSequencePath } from '../orchestrator/sequence.ts';
import type { LaneGeometry, StepDefinition } from '../orchestrator/step.ts';
import { parseIdn } from '../scpi/idn.ts';
import { type Bench, type BenchOptions, planBench, startBench } from '../sim/bench.ts';
import { type BenchLockOptions, lockStation } from '../station/bench-lock.ts';
import { loadStation, type StationConfig, stationFromObject } from '../station/schema.ts';
import { type OpenStationOptions, openStation, type Station } from '../station/station.ts';
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
  /** Bench lock: its directory (default CPOBENCH_LOCK_DIR or <tmp>/cpobench-locks), the command line shown. */
  lock?: Pick<BenchLockOptions, 'dir' | 'command'>;
  /** Driver calls kept in station.trace (default 1000). */
  traceSize?: number;
  /** Builds each instrument's transport instead of createTransport (tests: a USBTMC device on its emulator). */
  createTransport?: OpenStationOptions['createTransport'];
}

/** Everything a run needs, opened in an order that finds bad input before anything starts. */
export interface AppContext {
  station: Station;
  stationConfig: StationConfig;
  /** The device under test as the station describes it, and its class's targets (the record's class check). */
  device?: { summary: DeviceSummary; targets?: ClassTargets };
  sim?: Bench;
  store: RunStore;
  bus: EventBus;
  prompts: PromptBroker;
  registry: ReadonlyMap<string, StepDefinition>;
  geometry: LaneGeometry;
  logger: Logger;
  /** What the station allows (rate range, lane count, TEC limits), for the sequence loader's checks. */
  loadContext: LoadContext;
  /** How the bench was opened: kept with each run so `cpobench resume` can open it again. */
  launch: Launch;
  close(): Promise<void>;
}

/** How a context's bench was opened (a station file, or a simulated bench and its options). */
export interface Launch {
  station?: string;
  sim?: { profile: string; seed: number; timeScale: number; faults?: string };
}

function launchOf(o: ContextOptions, plan: ReturnType<typeof planBench> | undefined): Launch {
  if (o.stationFile) return { station: resolve(o.stationFile) };
  const p = o.sim!.profile;
  // a profile file by its absolute path; a shipped one (or a profile object) by name
  const profile = typeof p === 'string' && existsSync(p) ? resolve(p) : plan!.profile.name;
  const faults = typeof o.sim!.faults === 'string' ? o.sim!.faults : undefined;
  return {
    sim: {
      profile,
      seed: plan!.seed,
      timeScale: plan!.timeScale,
      ...(faults ? { faults: existsSync(faults) ? resolve(faults) : faults } : {}),
    },
  };
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
    const device = deviceOf(stationConfig);
    // no other process (or station of this one) drives these instruments until close(); taken before a
    // single byte goes to them
    const lock = await lockStation(stationConfig, o.lock);
    closers.push(() => lock.release());
    for (const t of lock.tookOver)
      logger.warn({ lock: t }, `took over the lock of ${t.role} left by pid ${t.owner.pid}`);
    const station = await openStation(stationConfig, {
      logger,
      deviceLocks: true,
      ...(o.traceSize !== undefined ? { traceSize: o.traceSize } : {}),
      ...(o.createTransport ? { createTransport: o.createTransport } : {}),
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
    return {
      station,
      stationConfig,
      ...(device ? { device } : {}),
      sim,
      store,
      bus: new EventBus((err) => logger.error({ err }, 'event listener failed')),
      prompts: new PromptBroker(),
      registry: createStepRegistry(),
      geometry,
      logger,
      loadContext: stationLoadContext(station),
      launch: launchOf(o, plan),
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * The station's `device:` section as the record keeps it (its density from the lane pitch), with its class's
 * targets loaded; an unknown class is refused before anything starts.
 */
export function deviceOf(cfg: StationConfig): { summary: DeviceSummary; targets?: ClassTargets } | undefined {
  const d = cfg.device;
  if (!d) return undefined;
  const active = cfg.lanes.active ?? cfg.lanes.rows * cfg.lanes.cols - cfg.lanes.spares.length;
  const summary: DeviceSummary = {
    ...(d.class ? { class: d.class } : {}),
    ...(d.fibreLengthM !== undefined ? { fibreLengthM: d.fibreLengthM } : {}),
    ...(d.lanePitchUm !== undefined ? { lanePitchUm: d.lanePitchUm } : {}),
    ...deviceDensity(cfg.lanes.rows, cfg.lanes.cols, active, d.lanePitchUm),
  };
  if (!d.class) return { summary };
  try {
    return { summary, targets: loadClassTargets(d.class) };
  } catch (err) {
    throw new CpobenchError('E_STATION', `station device.class: ${errorMessage(err)}`);
  }
}

/**
 * What a sequence is checked against at load: the capabilities the station provides, its lane count, the pattern
 * generator's rate range and the thermal controller's limits (as their drivers know them from the station).
 */
export function stationLoadContext(station: Station): LoadContext {
  const capabilities = new Map([...station.capabilities()].map((c) => [c, station.providers(c)]));
  const one = <T>(get: () => T | undefined): T | undefined => {
    try {
      return get();
    } catch {
      return undefined; // several instruments provide it: a step that needs exactly one is refused when it runs
    }
  };
  const rate = one(() => station.find('pattern-generator')?.rateRange);
  const tec = one(() => station.find('thermal-controller')?.limits);
  return {
    capabilities,
    rateRange: rate ? [rate[0], rate[1]] : undefined,
    laneCount: station.config.lanes.rows * station.config.lanes.cols,
    temperatureRange: tec ? [tec.minC, tec.maxC] : undefined,
  };
}

export function loadSequenceFor(ctx: AppContext, nameOrPath: string): LoadedSequence {
  return loadSequence(resolveSequencePath(nameOrPath), ctx.registry, ctx.loadContext);
}

/** Starts a run of a loaded sequence on the context's station. */
export function startSequenceRun(
  ctx: AppContext,
  sequence: LoadedSequence,
  who: { dut: string; operator: string } & DutOrigin,
  /** Replaces parts of the engine's wiring (tests inject faults here). */
  overrides: Partial<EngineDeps> = {},
  /** An INTERRUPTED run of this sequence to continue instead (src/app/resume.ts checks it first). */
  resume?: RunRecord,
): RunHandle {
  return startRun(
    {
      instruments: ctx.station,
      safeState: (timeoutMs) => ctx.station.safeState({ timeoutMs }),
      prepare: (signal) => ctx.station.prepare({ signal }),
      instrumentRecords: () =>
        ctx.station.instruments().map((i) => ({
          role: i.role,
          resource: i.resource,
          driver: i.driver,
          identity: i.identity ? parseIdn(i.identity) : undefined,
        })),
      geometry: ctx.geometry,
      store: ctx.store,
      bus: ctx.bus,
      registry: ctx.registry,
      prompts: ctx.prompts,
      transcripts: { subscribe: (l: (e: TranscriptEntry) => void) => ctx.station.subscribeTranscripts(l) },
      logger: ctx.logger,
      safeStateTimeoutMs: 800,
      ...(ctx.device ? { device: ctx.device } : {}),
      ...overrides,
    },
    {
      sequence,
      dut: who.dut,
      operator: who.operator,
      origin: { lot: who.lot, wafer: who.wafer, die: who.die },
      station: { name: ctx.stationConfig.name, snapshot: ctx.stationConfig },
      software: softwareInfo(),
      resume: {
        fingerprint: stationFingerprint(ctx),
        launch: { ...ctx.launch, sequence: resolve(sequence.file) },
      },
    },
    resume,
  );
}

/**
 * What identifies a station for `cpobench resume`: each instrument by role, driver and identity (manufacturer,
 * model, serial; not the resource, which may move, nor the firmware), the lane geometry, and for a simulated
 * bench its profile and seed (the DUT). Plain data, stored as JSON with the run.
 */
export function stationFingerprint(ctx: AppContext): StationFingerprint {
  const l = ctx.stationConfig.lanes;
  return {
    instruments: ctx.station
      .instruments()
      .map((i) => {
        const id = i.identity ? parseIdn(i.identity) : undefined;
        return `${i.role} ${i.driver} ${id ? `${id.manufacturer}/${id.model}/${id.serial}` : 'unidentified'}`;
      })
      .sort(),
    lanes: `${l.rows}x${l.cols} ${l.order ?? 'row-major'} active ${l.active ?? '-'} spares ${(l.spares ?? []).join(',')}`,
    ...(ctx.sim ? { sim: `${ctx.sim.profile.name} seed ${ctx.sim.seed}` } : {}),
  };
}

export interface StationFingerprint {
  instruments: string[];
  lanes: string;
  sim?: string;
}
