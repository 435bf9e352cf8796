/**
 * `cpobench instruments (--station FILE | --sim PROFILE)`: connects to every instrument of a station, prints
 * role, resource, state and identity; exit 0 when all are reachable and are what the station expects, 2
 * otherwise (naming the ones that are not). `--sim` starts the simulated bench in-process first.
 * It does not take the bench lock; it names who holds each instrument, and only reads the identity (no
 * driver init) when another process holds one.
 */
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import type { Bench } from '../../sim/bench.ts';
import { describeLockState, instrumentLockState } from '../../station/bench-lock.ts';
import { loadStation, type StationConfig, stationFromObject } from '../../station/schema.ts';
import { type InstrumentInfo, openStation } from '../../station/station.ts';
import { EXIT } from '../exit-codes.ts';

export interface InstrumentsCliOptions {
  station?: string;
  sim?: string;
  seed: string;
  timeScale: string;
  faults?: string;
  serial?: boolean;
  json?: boolean;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

/** Aligned lines: name, driver, resource, state, identity (or why there is none). */
export function formatInstruments(list: readonly InstrumentInfo[]): string[] {
  const rows = [
    ['NAME', 'DRIVER', 'RESOURCE', 'STATE', 'IDENTITY'],
    ...list.map((i) => [i.role, i.driver, i.resource, i.state, i.identity ?? '-']),
  ];
  const w = [0, 1, 2, 3].map((c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map(
    (r) =>
      `${r
        .slice(0, 4)
        .map((x, c) => x.padEnd(w[c]!))
        .join('  ')}  ${r[4]}`,
  );
}

function number(text: string, what: string, integer: boolean): number {
  const v = Number(text);
  if (text.trim() === '' || !Number.isFinite(v) || (integer ? !Number.isSafeInteger(v) || v < 0 : !(v > 0))) {
    throw new Error(`${what} must be ${integer ? 'an integer >= 0' : 'a number > 0'}, got "${text}"`);
  }
  return v;
}

export async function runInstruments(opts: InstrumentsCliOptions, io: Io): Promise<number> {
  if ((opts.station === undefined) === (opts.sim === undefined)) {
    io.err('cpobench instruments: give exactly one of --station FILE or --sim PROFILE');
    return EXIT.ERROR;
  }
  let bench: Bench | undefined;
  let config: StationConfig;
  try {
    if (opts.station !== undefined) {
      config = loadStation(opts.station);
    } else {
      const { startBench } = await import('../../sim/bench.ts');
      const options: Parameters<typeof startBench>[0] = {
        profile: opts.sim!,
        seed: number(opts.seed, '--seed', true),
        timeScale: number(opts.timeScale, '--time-scale', false),
        serial: opts.serial ?? false,
      };
      if (opts.faults !== undefined) options.faults = opts.faults;
      bench = await startBench(options);
      config = stationFromObject(bench.station, `simulated ${opts.sim} station`);
    }
  } catch (err) {
    await bench?.close();
    io.err(`cpobench instruments: ${errorMessage(err)}`);
    return EXIT.ERROR;
  }
  const locks = lockStates(config);
  const anyHeld = [...locks.values()].some((l) => l.kind === 'held' || l.kind === 'unreadable');
  const station = await openStation(config, { reconnect: false, ...(anyHeld ? { init: false } : {}) });
  try {
    const list = station.instruments();
    if (opts.json) {
      const withLocks = list.map((i) => ({ ...i, lock: locks.get(i.role) }));
      io.out(JSON.stringify({ station: config.name, instruments: withLocks }, null, 2));
    } else {
      for (const line of formatInstruments(list)) io.out(line);
      for (const i of list) {
        const held = describeLockState(locks.get(i.role) ?? { kind: 'free' });
        if (held) io.out(`${i.role} (${i.resource}): ${held}`);
      }
    }
    const bad = list.filter((i) => i.state !== 'ready');
    for (const b of bad) io.err(`cpobench instruments: ${b.role} (${b.resource}) is ${b.state}: ${b.error ?? ''}`);
    if (bad.length > 0) {
      io.err(`cpobench instruments: not ready: ${bad.map((b) => b.role).join(', ')}`);
      return EXIT.ERROR;
    }
    return EXIT.OK;
  } finally {
    await station.close();
    await bench?.close();
  }
}

/** Who holds each instrument of the station (the bench lock), without taking anything. */
function lockStates(config: StationConfig): Map<string, ReturnType<typeof instrumentLockState>> {
  const states = new Map<string, ReturnType<typeof instrumentLockState>>();
  for (const [role, c] of Object.entries(config.instruments)) {
    try {
      states.set(role, instrumentLockState(c.resource));
    } catch {
      states.set(role, { kind: 'free' }); // a bad resource string: openStation says what is wrong with it
    }
  }
  return states;
}

export function registerInstruments(program: Command, setExit: (code: number) => void): void {
  program
    .command('instruments')
    .description('connect to every instrument of a station; print role, resource, state and identity')
    .option('--station <file>', 'station file (YAML)')
    .option('--sim <profile>', 'start the simulated bench for this profile in-process and use its station')
    .option('--seed <n>', 'with --sim: seed', '1')
    .option('--time-scale <n>', 'with --sim: instrument seconds per real second', '1')
    .option('--faults <file>', 'with --sim: fault plan')
    .option('--serial', 'with --sim: serve the instruments on ptys')
    .option('--json', 'print the list as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 every instrument reachable with the expected identity, 2 otherwise (named on stderr).',
    )
    .action(async (opts: InstrumentsCliOptions) => {
      setExit(
        await runInstruments(opts, {
          out: (s) => process.stdout.write(`${s}\n`),
          err: (s) => process.stderr.write(`${s}\n`),
        }),
      );
    });
}
