/**
 * `cpobench resume`: continuing a run the controller left INTERRUPTED (SIGKILL, power cut, crash). The checks
 * come first and each refusal says why: a run still running, one that finished, one with no resumable step (not a
 * burn-in), one whose sequence file changed, one whose station changed (the fingerprint kept with the run: the
 * instruments by identity and driver, the lanes, a simulated bench's profile and seed). Then the run is handed to
 * the engine, which continues it in place (src/orchestrator/engine.ts startRun with a stored record).
 *
 * A simulated DUT lives in the controller's process and starts afresh; a real one keeps its wear. So that the
 * resumed burn-in sees the DUT it left, a simulated bench is given the stress the stored checkpoints show
 * (stressHistory) before the run continues.
 */
import { existsSync } from 'node:fs';
import { CpobenchError } from '../core/errors.ts';
import type { RunRecord } from '../core/record.ts';
import type { RunHandle } from '../orchestrator/engine.ts';
import { type LoadedSequence, loadSequence } from '../orchestrator/sequence.ts';
import type { StepDefinition } from '../orchestrator/step.ts';
import type { BenchOptions } from '../sim/bench.ts';
import { type BurnInParams, burnInStep, stressHistory } from '../steps/burn-in.ts';
import type { RunResumeInfo, RunStore } from '../store/types.ts';
import {
  type AppContext,
  type ContextOptions,
  type Launch,
  type StationFingerprint,
  startSequenceRun,
  stationFingerprint,
} from './context.ts';

/** A run that cannot be resumed, and why. */
export class ResumeRefusedError extends CpobenchError {
  constructor(message: string) {
    super('E_RESUME', message);
  }
}

export interface ResumeCheck {
  record: RunRecord;
  info: RunResumeInfo;
  /** How the run's bench was opened, and its sequence file (absolute). */
  launch: Launch & { sequence: string };
}

/** Checks, from the store alone, that a run can be resumed. Throws ResumeRefusedError (or UnknownRunError). */
export function checkResumable(
  store: RunStore,
  runId: string,
  registry: ReadonlyMap<string, StepDefinition>,
): ResumeCheck {
  const record = store.getRun(runId);
  const info = store.getResumeInfo(runId);
  if (record.outcome === 'RUNNING') {
    throw new ResumeRefusedError(
      `run ${runId} is still RUNNING: the process that runs it is alive (stop it first, or wait for it)`,
    );
  }
  if (record.outcome !== 'INTERRUPTED') {
    throw new ResumeRefusedError(
      `run ${runId} finished (${record.outcome}${record.finishedAt ? ` at ${record.finishedAt}` : ''}): there is nothing to resume`,
    );
  }
  const launch = info.launch as (Launch & { sequence?: string }) | undefined;
  if (info.fingerprint === undefined || !launch) {
    throw new ResumeRefusedError(
      `run ${runId} was stored without a station fingerprint (by a cpobench that could not resume runs): it cannot be resumed`,
    );
  }
  const file = launch.sequence ?? record.sequence.file;
  if (!file || !existsSync(file))
    throw new ResumeRefusedError(
      `run ${runId}: its sequence file ${file ?? '(unknown)'} is gone; it cannot be resumed`,
    );
  const seq = loadSequence(file, registry);
  if (resumableSteps(seq, registry).length === 0) {
    const types = [...registry.values()].filter((d) => d.resumable).map((d) => d.type);
    throw new ResumeRefusedError(
      `run ${runId} (sequence ${record.sequence.name}) is not a burn-in: none of its steps can be resumed (resumable step types: ${types.join(', ')})`,
    );
  }
  checkSequence(record, seq, file);
  return { record, info, launch: { ...launch, sequence: file } };
}

function checkSequence(record: RunRecord, seq: LoadedSequence, file: string): void {
  if (seq.hash !== record.sequence.hash) {
    throw new ResumeRefusedError(
      `run ${record.id}: the sequence file ${file} changed since the run started (hash ${record.sequence.hash}, now ${seq.hash}); it cannot be resumed`,
    );
  }
}

/** The resumable steps of a sequence (top level), checked against the registry. */
function resumableSteps(seq: LoadedSequence, registry: ReadonlyMap<string, StepDefinition>): string[] {
  return seq.steps.filter((s) => registry.get(s.type)?.resumable === true).map((s) => s.id);
}

/** The context options that open the run's bench again, unless the command line names another station. */
export function resumeContextOptions(
  check: ResumeCheck,
  given: { stationFile?: string; sim?: BenchOptions },
): Pick<ContextOptions, 'stationFile' | 'sim'> {
  if (given.stationFile || given.sim) return given;
  const l = check.launch;
  if (l.station) return { stationFile: l.station };
  if (l.sim) {
    return {
      sim: {
        profile: l.sim.profile,
        seed: l.sim.seed,
        timeScale: l.sim.timeScale,
        ...(l.sim.faults ? { faults: l.sim.faults } : {}),
      },
    };
  }
  throw new ResumeRefusedError(
    `run ${check.record.id}: the store does not say how its bench was opened; give --station or --sim`,
  );
}

/** The first difference between two station fingerprints, in words; undefined when they are the same. */
export function fingerprintDifference(was: StationFingerprint, now: StationFingerprint): string | undefined {
  const before = new Set(was.instruments);
  const after = new Set(now.instruments);
  const gone = was.instruments.filter((i) => !after.has(i));
  const added = now.instruments.filter((i) => !before.has(i));
  const parts: string[] = [];
  if (gone.length) parts.push(`no longer there: ${gone.join('; ')}`);
  if (added.length) parts.push(`new: ${added.join('; ')}`);
  if (was.lanes !== now.lanes) parts.push(`lanes were ${was.lanes}, now ${now.lanes}`);
  if (was.sim !== now.sim) parts.push(`simulated bench was ${was.sim ?? 'none'}, now ${now.sim ?? 'none'}`);
  return parts.length ? parts.join('; ') : undefined;
}

/**
 * On the opened station: refuses a changed station, reloads the sequence against it, gives a simulated DUT the
 * stress it had. Returns the sequence and how to start the continued run (startSequenceRun with the record).
 */
export function prepareResumedRun(ctx: AppContext, check: ResumeCheck): { seq: LoadedSequence; start(): RunHandle } {
  const { record } = check;
  const diff = fingerprintDifference(check.info.fingerprint as StationFingerprint, stationFingerprint(ctx));
  if (diff !== undefined)
    throw new ResumeRefusedError(`run ${record.id}: the station changed since the run started (${diff})`);
  const seq = loadSequence(check.launch.sequence, ctx.registry, ctx.loadContext);
  checkSequence(record, seq, check.launch.sequence);
  return {
    seq,
    start() {
      if (ctx.sim) {
        for (const st of seq.steps) {
          const stored = record.steps.filter((s) => s.id === st.id).at(-1);
          if (st.type !== burnInStep.type || !stored || stored.verdict !== undefined) continue;
          const h = stressHistory(stored.measurements, st.params as Pick<BurnInParams, 'temperatureC'>);
          if (h && h.hours > 0) ctx.sim.model.addStress(h.hours, h.temperatureC, true, h.currentA);
        }
      }
      return startSequenceRun(ctx, seq, { dut: record.dut, operator: record.operator }, {}, record);
    },
  };
}
