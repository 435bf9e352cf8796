/**
 * The modules under mutation testing: the code where a wrong answer is silent. Each is a list of Stryker `mutate`
 * patterns (a file, or `file:startLine-endLine` for the part of a file that the module is about) and the test files
 * that exercise it (Stryker runs only those, and only the ones covering each mutant).
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

const ROOT = join(import.meta.dirname, '..', '..');

export interface MutationModule {
  name: string;
  what: string;
  mutate: string[];
  tests: string[];
}

export const MODULES: readonly MutationModule[] = [
  {
    name: 'core',
    what: 'src/core: BER math, PRBS, RNG, errors, record helpers, lifetime (owner.ts is under store-recovery)',
    mutate: [
      'src/core/ber.ts',
      'src/core/prbs.ts',
      'src/core/rng.ts',
      'src/core/errors.ts',
      'src/core/record.ts',
      'src/core/lifetime.ts',
    ],
    tests: ['test/core/**/*.test.ts', 'test/scpi/**/*.test.ts', 'test/report/**/*.test.ts'],
  },
  {
    name: 'fits',
    what: 'fits a measurement rests on: the Q-scale line, the curve read at a target (waterfall, rate margin), bathtub extrapolation, median ± k·MAD outliers',
    mutate: [
      'src/core/q-line.ts',
      'src/core/q-curve.ts',
      'src/core/waterfall.ts',
      'src/core/bathtub.ts',
      'src/core/robust.ts',
    ],
    tests: ['test/core/waterfall.test.ts', 'test/core/bathtub.test.ts', 'test/core/robust.test.ts'],
  },
  {
    name: 'scpi',
    what: 'src/scpi: session, parsing, channel lists, blocks, *IDN?, transcript',
    mutate: ['src/scpi/**/*.ts'],
    tests: ['test/scpi/**/*.test.ts', 'test/drivers/**/*.test.ts'],
  },
  {
    name: 'limits',
    what: 'verdicts and limits (src/orchestrator/limits.ts)',
    mutate: ['src/orchestrator/limits.ts', 'src/core/verdict.ts'],
    tests: ['test/orchestrator/**/*.test.ts', 'test/steps/**/*.test.ts'],
  },
  {
    name: 'lanes',
    what: 'lane state and remap (src/orchestrator/lanes.ts, src/steps/remap.ts)',
    mutate: ['src/orchestrator/lanes.ts', 'src/steps/remap.ts'],
    tests: ['test/orchestrator/**/*.test.ts', 'test/steps/**/*.test.ts'],
  },
  {
    name: 'safe-state',
    what: "Station.safeState and its bound (src/station/station.ts), every driver's safeState read-back (src/instruments)",
    mutate: [
      span('src/station/station.ts', /^ {2}async safeState\(/),
      span('src/station/station.ts', /^async function bounded\(/),
      span('src/instruments/base.ts', /^ {2}protected async _makeSafe\(/),
      // a model that inherits its safe state (the CMOS kit from the PD kit) has none of its own
      ...driverFiles()
        .filter((f) => /^ {2}async safeState\(/m.test(readFileSync(join(ROOT, f), 'utf8')))
        .map((f) => span(f, /^ {2}async safeState\(/)),
    ],
    tests: ['test/station/station.test.ts', 'test/drivers/**/*.test.ts', 'src/instruments/**/*.test.ts'],
  },
  {
    name: 'store-recovery',
    what: "the store's constructor (open, WAL, pragmas), markInterrupted (src/store/sqlite-store.ts) and the owner identity (src/core/owner.ts)",
    mutate: [
      // the store's constructor (open, read-only checks, WAL, pragmas, migrations, marking on open) and
      // markInterrupted, found by their opening lines so the ranges follow the code
      span('src/store/sqlite-store.ts', /^ {2}constructor\(/),
      span('src/store/sqlite-store.ts', /^ {2}markInterrupted\(\): string\[\] \{/),
      'src/core/owner.ts',
    ],
    tests: ['test/store/**/*.test.ts'],
  },
  {
    name: 'ws-hub',
    what: "the WebSocket hub's ring and resume (publish, attach in src/server/ws-hub.ts)",
    mutate: [span('src/server/ws-hub.ts', /^ {2}publish\(/), span('src/server/ws-hub.ts', /^ {2}attach\(/)],
    tests: ['test/server/ws-hub.test.ts', 'test/server/ws.test.ts'],
  },
  {
    name: 'batching',
    what: 'lanes in batches through a switch: the switching section, the detector and the meter behind it',
    mutate: ['src/station/switching.ts', 'src/station/switched-detector.ts', 'src/station/switched-power-monitor.ts'],
    tests: [
      'test/station/switching.test.ts',
      'test/station/schema.test.ts',
      'test/station/switched-composites.test.ts',
    ],
  },
];

/**
 * `file:start-end` of the block that opens at the first line matching `opens` and closes at the next line holding
 * only `}` at the same indentation: the ranges follow the code as it moves, no line numbers typed here.
 */
export function span(file: string, opens: RegExp): string {
  const lines = readFileSync(join(ROOT, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => opens.test(l));
  if (start < 0) throw new Error(`mutation scope: ${file} has no line matching ${opens}`);
  const indent = /^\s*/.exec(lines[start]!)![0];
  const end = lines.findIndex((l, i) => i > start && l === `${indent}}`);
  if (end < 0) throw new Error(`mutation scope: ${file}:${start + 1}: no closing brace at its indentation`);
  return `${file}:${start + 1}-${end + 1}`;
}

/** Every model's driver (src/instruments/<model>/driver.ts). */
function driverFiles(): string[] {
  const dir = join(ROOT, 'src', 'instruments');
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && existsSync(join(dir, e.name, 'driver.ts')))
    .map((e) => `src/instruments/${e.name}/driver.ts`)
    .sort();
}

/** Which module a mutant at `file:line` belongs to (first match), or undefined. */
export function moduleOf(file: string, line: number): MutationModule | undefined {
  return MODULES.find((m) => m.mutate.some((p) => patternCovers(p, file, line)));
}

function patternCovers(pattern: string, file: string, line: number): boolean {
  const m = /^(.*?)(?::(\d+)-(\d+))?$/.exec(pattern)!;
  const [, glob, from, to] = m;
  if (!globMatches(glob, file)) return false;
  return from === undefined || (line >= Number(from) && line <= Number(to));
}

function globMatches(glob: string, file: string): boolean {
  const re = glob
    .split('**/')
    .map((part) => part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replaceAll('*', '[^/]*'))
    .join('(?:.*/)?');
  return new RegExp(`^${re}$`).test(file);
}
