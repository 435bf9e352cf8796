/**
 * `cpobench sim [--profile NAME|FILE] [--serial] [--vxi11] [--hislip] [--time-scale N] [--seed N] [--faults FILE]
 * [--station-out FILE] [--station-resources KIND]`: starts the simulated bench, prints one line per instrument
 * (role, the station's VISA resource, its other resources, *IDN?), writes the station file, and runs until
 * SIGINT/SIGTERM, then releases every port and pty and exits 0. Bad input is one line on stderr and exit 2, with
 * nothing started.
 */
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/write-file.ts';
import {
  type Bench,
  benchStation,
  DEFAULT_PROFILE,
  planBench,
  type StationResourceKind,
  startBench,
  stationYaml,
} from '../../sim/bench.ts';
import { EXIT } from '../exit-codes.ts';
import { parseFibreLength } from './common.ts';

export interface SimCliOptions {
  profile: string;
  serial?: boolean;
  timeScale: string;
  seed: string;
  faults?: string;
  fibreLength?: string;
  stationOut?: string;
  vxi11?: boolean;
  hislip?: boolean;
  hislipPort?: string;
  basePort?: string;
  stationResources?: string;
}

const RESOURCE_KINDS: readonly StationResourceKind[] = ['socket', 'serial', 'vxi11', 'hislip'];

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

/**
 * The instrument lines: role, the resource the station uses, its other resources (raw socket, VXI-11, HiSLIP) and
 * the identity, in aligned columns.
 */
export function instrumentLines(bench: Pick<Bench, 'instruments'>): string[] {
  const rows = bench.instruments.map((i) => [
    i.role,
    i.resource,
    ...[i.vxi11 || i.hislip ? i.socket : undefined, i.vxi11, i.hislip].filter(
      (r): r is string => r !== undefined && r !== i.resource,
    ),
    i.identity,
  ]);
  const cols = Math.max(...rows.map((r) => r.length));
  const width = (k: number) => Math.max(...rows.map((r) => (k < r.length - 1 ? r[k]!.length : 0)));
  return rows.map((r) =>
    r
      .map((c, k) => (k < r.length - 1 && k < cols - 1 ? c.padEnd(width(k)) : c))
      .join('  ')
      .trimEnd(),
  );
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
      vxi11: opts.vxi11 ?? false,
      hislip: opts.hislip ?? false,
    };
    if (opts.faults !== undefined) options.faults = opts.faults;
    if (opts.fibreLength !== undefined) options.fibreLengthM = parseFibreLength(opts.fibreLength);
    if (opts.hislipPort !== undefined) {
      const port = /^\d+$/.test(opts.hislipPort) ? Number(opts.hislipPort) : Number.NaN;
      if (!(port >= 0 && port <= 65535)) throw new Error(`--hislip-port must be 0..65535, got "${opts.hislipPort}"`);
      if (!opts.hislip) throw new Error('--hislip-port goes with --hislip');
      options.hislipPort = port;
    }
    if (opts.basePort !== undefined) {
      const port = /^\d+$/.test(opts.basePort) ? Number(opts.basePort) : Number.NaN;
      if (!(port >= 0 && port <= 65530)) throw new Error(`--base-port must be 0..65530, got "${opts.basePort}"`);
      options.basePort = port;
    }
    if (opts.stationResources !== undefined) {
      const kind = opts.stationResources as StationResourceKind;
      if (!RESOURCE_KINDS.includes(kind))
        throw new Error(
          `--station-resources must be one of ${RESOURCE_KINDS.join(', ')}, got "${opts.stationResources}"`,
        );
      if (kind !== 'socket' && !(kind === 'serial' ? opts.serial : kind === 'vxi11' ? opts.vxi11 : opts.hislip))
        throw new Error(`--station-resources ${kind} needs --${kind}`);
      options.stationResources = kind;
    }
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
  const v = bench.lan?.vxi11;
  if (v) {
    const where = `${v.server.host}:${v.server.corePort}`;
    if (v.registration.how === 'none') {
      io.err(
        `cpobench sim: VXI-11 core channel on ${where}, but standard VXI-11 clients cannot find it: ${v.registration.detail}`,
      );
    } else {
      io.err(
        `cpobench sim: VXI-11 core channel on ${where}, abort channel on port ${v.server.abortPort}; ${v.registration.detail}`,
      );
    }
  }
  const h = bench.lan?.hislip;
  if (h) io.err(`cpobench sim: HiSLIP on ${h.server.host}:${h.server.port}`);
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
    .option(
      '--vxi11',
      'serve each instrument over VXI-11 too (TCPIP0::127.0.0.1::instN::INSTR; portmapper on port 111)',
    )
    .option('--hislip', 'serve each instrument over HiSLIP too (TCPIP0::127.0.0.1::hislipN,PORT::INSTR)')
    .option('--hislip-port <n>', 'HiSLIP port (default: a free one; 4880 is the standard one)')
    .option(
      '--base-port <n>',
      'raw socket of the first instrument; the others take the next ports (default: free ones)',
    )
    .option('--time-scale <n>', 'instrument seconds per real second (BER gates, TEC ramps)', '1')
    .option('--seed <n>', 'seed for defects, error counts and frame noise', '1')
    .option('--faults <file>', 'fault plan: a YAML file or a built-in name from fixtures/faults')
    .option('--fibre-length <m>', "metres of the profile's fibre between the arrays (default the profile's)")
    .option('--station-out <file>', 'write a station file pointing at the simulated instruments')
    .option(
      '--station-resources <kind>',
      'which resources the station file uses: socket, serial, vxi11 or hislip (default: serial with --serial, else vxi11 with --vxi11, else hislip with --hislip, else socket)',
    )
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
