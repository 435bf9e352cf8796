/**
 * `cpobench sim [--profile NAME|FILE] [--serial] [--time-scale N] [--seed N] [--faults FILE] [--station-out FILE]`:
 * starts the simulated bench, prints one line per instrument (role, VISA resource, *IDN?), writes the station
 * file, and runs until SIGINT/SIGTERM, then releases every port and pty and exits 0. Bad input is one line on
 * stderr and exit 2, with nothing started.
 */
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/write-file.ts';
import { type Bench, benchStation, DEFAULT_PROFILE, planBench, startBench, stationYaml } from '../../sim/bench.ts';
import { EXIT } from '../exit-codes.ts';

export interface SimCliOptions {
  profile: string;
  serial?: boolean;
  timeScale: string;
  seed: string;
  faults?: string;
  stationOut?: string;
}

export interface SimIo {
  out: (s: string) => void;
  err: (s: string) => void;
  /** Resolves when the bench should stop (SIGINT/SIGTERM in the CLI). */
  untilStopped: () => Promise<void>;
}

function parseTimeScale(text: string): number {
  const v = /^\s*[+]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`--time-scale must be a number > 0, got "${text}"`);
  return v;
}

function parseSeed(text: string): number {
  const v = /^\s*\d+\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(v)) throw new Error(`--seed must be an integer >= 0, got "${text}"`);
  return v;
}

/** The instrument lines: role, resource and identity in aligned columns. */
export function instrumentLines(bench: Pick<Bench, 'instruments'>): string[] {
  const w1 = Math.max(...bench.instruments.map((i) => i.role.length));
  const w2 = Math.max(...bench.instruments.map((i) => i.resource.length));
  return bench.instruments.map((i) => `${i.role.padEnd(w1)}  ${i.resource.padEnd(w2)}  ${i.identity}`);
}

/** Runs `cpobench sim`; returns the exit code. */
export async function runSim(opts: SimCliOptions, io: SimIo): Promise<number> {
  let options: Parameters<typeof startBench>[0];
  try {
    options = {
      profile: opts.profile,
      seed: parseSeed(opts.seed),
      timeScale: parseTimeScale(opts.timeScale),
      serial: opts.serial ?? false,
    };
    if (opts.faults !== undefined) options.faults = opts.faults;
    planBench(options); // everything validated before anything starts
  } catch (err) {
    io.err(`cpobench sim: ${firstLine(errorMessage(err))}`);
    return EXIT.ERROR;
  }
  let bench: Bench;
  try {
    bench = await startBench(options);
  } catch (err) {
    io.err(`cpobench sim: ${firstLine(errorMessage(err))}`);
    return EXIT.ERROR;
  }
  try {
    if (opts.stationOut) writeFileAtomic(opts.stationOut, stationYaml(benchStation(bench)));
  } catch (err) {
    await bench.close();
    io.err(`cpobench sim: --station-out: ${firstLine(errorMessage(err))}`);
    return EXIT.ERROR;
  }
  for (const line of instrumentLines(bench)) io.out(line);
  io.err(
    `cpobench sim: profile ${bench.profile.name}, seed ${bench.seed}, time scale ${bench.timeScale}` +
      `${opts.faults ? `, faults ${opts.faults}` : ''}${opts.stationOut ? `, station ${opts.stationOut}` : ''}; ` +
      'Ctrl-C stops',
  );
  await io.untilStopped();
  await bench.close();
  return EXIT.OK;
}

function firstLine(s: string): string {
  return s.split('\n')[0] ?? s;
}

function untilSignal(): Promise<void> {
  return new Promise((resolve) => {
    const stop = () => {
      process.off('SIGINT', stop);
      process.off('SIGTERM', stop);
      resolve();
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
}

export function registerSim(program: Command, setExit: (code: number) => void): void {
  program
    .command('sim')
    .description('start the simulated bench: SCPI servers on 127.0.0.1 (ptys with --serial) on one link model')
    .option('--profile <name|file>', 'link profile: a built-in name or a YAML file', DEFAULT_PROFILE)
    .option('--serial', 'serve each instrument on a pty (ASRL/tmp/cpobench-XXXX/<role>::INSTR) through socat')
    .option('--time-scale <n>', 'instrument seconds per real second (BER gates, TEC ramps)', '1')
    .option('--seed <n>', 'seed for defects, error counts and frame noise', '1')
    .option('--faults <file>', 'fault plan: a YAML file or a built-in name from fixtures/faults')
    .option('--station-out <file>', 'write a station file pointing at the simulated instruments')
    .addHelpText('after', '\nRuns until SIGINT/SIGTERM. Exit codes: 0 clean stop, 2 bad input or start failure.')
    .action(async (opts: SimCliOptions) => {
      setExit(
        await runSim(opts, {
          out: (s) => process.stdout.write(`${s}\n`),
          err: (s) => process.stderr.write(`${s}\n`),
          untilStopped: untilSignal,
        }),
      );
    });
}
