import type { Command } from 'commander';
import { ConfigError } from '../../config/load-yaml.ts';
import { errorMessage } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/write-file.ts';
import type { BenchOptions } from '../../sim/bench.ts';
import { openStore } from '../../store/index.ts';
import type { RunStore } from '../../store/types.ts';
import { CliError, EXIT } from '../exit-codes.ts';

export interface BenchCliOptions {
  station?: string;
  sim?: string;
  seed?: string;
  timeScale?: string;
  faults?: string;
  fibreLength?: string;
  db?: string;
}

/** Adds `--station FILE | --sim PROFILE` with the sim's --seed, --time-scale and --faults (design.md). */
export function addBenchOptions(cmd: Command): Command {
  return cmd
    .option('--station <file>', 'station file (instruments, limits, lanes)')
    .option(
      '--sim <profile>',
      'start the simulated bench in this process: mosaic-800g, mosaic-800g-cmos, lightbundle-512g or a profile file',
    )
    .option('--seed <n>', 'simulated bench: seed (same seed, same results)')
    .option(
      '--time-scale <n>',
      `simulated bench: instrument time runs N times faster (default ${SIM_RUN_TIME_SCALE}, or the profile's runTimeScale; 1 is real time)`,
    )
    .option('--faults <file>', 'simulated bench: fault plan (fixtures/faults/*.yaml)')
    .option(
      '--fibre-length <m>',
      "simulated bench: metres of the profile's fibre between the arrays (default the profile's)",
    )
    .option('--db <path>', 'results database (SQLite)', 'data/cpobench.db');
}

function positiveNumber(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n) || n <= 0) throw new CliError(`${name} must be a positive number, got "${v}"`);
  return n;
}

/**
 * The in-process simulated bench of `run --sim` and `serve --sim` runs its instrument clock this much faster
 * than real time unless told otherwise (--time-scale, or the profile's `runTimeScale`), so a 1e-12 BER gate
 * (25 min on a real 2 Gb/s lane) takes about 1.5 s. `cpobench sim` keeps real time as its default.
 */
export const SIM_RUN_TIME_SCALE = 1000;

export function simOptions(o: BenchCliOptions): BenchOptions | undefined {
  if (o.station && o.sim) throw new CliError('give either --station FILE or --sim PROFILE, not both');
  if (!o.station && !o.sim) throw new CliError('give --station FILE or --sim PROFILE');
  if (!o.sim) {
    if (o.seed || o.timeScale || o.faults || o.fibreLength)
      throw new CliError('--seed, --time-scale, --faults and --fibre-length go with --sim');
    return undefined;
  }
  const seed = o.seed === undefined ? undefined : Number(o.seed);
  if (seed !== undefined && (!Number.isSafeInteger(seed) || seed < 0))
    throw new CliError(`--seed must be an integer >= 0, got "${o.seed}"`);
  return {
    profile: o.sim,
    seed,
    timeScale: positiveNumber('--time-scale', o.timeScale),
    defaultTimeScale: SIM_RUN_TIME_SCALE,
    faults: o.faults,
    ...(o.fibreLength === undefined ? {} : { fibreLengthM: parseFibreLength(o.fibreLength) }),
  };
}

/** `--fibre-length M`: metres, 0..10000. */
export function parseFibreLength(text: string): number {
  const n = /^\d+(\.\d+)?$/.test(text.trim()) ? Number(text) : Number.NaN;
  if (!(n >= 0 && n <= 10_000)) throw new CliError(`--fibre-length must be metres in 0..10000, got "${text}"`);
  return n;
}

/** One line for the terminal: config errors already say file:line:column and the key. */
export function describeError(err: unknown): string {
  if (err instanceof ConfigError) return err.message;
  return errorMessage(err);
}

export { CliError, EXIT };

/** Opens the results store; a bad --db (not SQLite, corrupt, newer schema, unwritable) is a CLI error. */
export function openStoreOrFail(db: string): RunStore {
  try {
    return openStore(db);
  } catch (err) {
    throw new CliError(describeError(err));
  }
}

/**
 * Writes an output file atomically (temp file, fsync, rename), creating its directory: a full disk or an
 * unwritable place throws an OutputError naming the file and leaves no truncated file behind.
 */
export function writeOutput(file: string, body: string | Buffer): void {
  writeFileAtomic(file, body);
}

/**
 * An exception thrown by cpobench itself outside any promise chain of ours (a timer, a listener, a callback) is
 * reported on stderr and handed to `onFault`, which ends the active run through its safe state, instead of Node's
 * default of exiting at once with the bench as it was. Returns the remover.
 */
export function onProgramFault(onFault: (err: unknown) => void): () => void {
  const handler = (err: unknown) => {
    process.stderr.write(`\ncpobench internal error: ${describeError(err)}\n`);
    onFault(err);
  };
  process.on('uncaughtException', handler);
  process.on('unhandledRejection', handler);
  return () => {
    process.off('uncaughtException', handler);
    process.off('unhandledRejection', handler);
  };
}
