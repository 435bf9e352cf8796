/**
 * The modules under mutation testing: the code where a wrong answer is silent. Each is a list of Stryker `mutate`
 * patterns (a file, or `file:startLine-endLine` for the part of a file that the module is about) and the test files
 * that exercise it (Stryker runs only those, and only the ones covering each mutant).
 */
export interface MutationModule {
  name: string;
  what: string;
  mutate: string[];
  tests: string[];
}

export const MODULES: readonly MutationModule[] = [
  {
    name: 'core',
    what: 'src/core: BER math, PRBS, RNG, errors, record helpers (owner.ts is under store-recovery)',
    mutate: ['src/core/ber.ts', 'src/core/prbs.ts', 'src/core/rng.ts', 'src/core/errors.ts', 'src/core/record.ts'],
    tests: ['test/core/**/*.test.ts', 'test/scpi/**/*.test.ts', 'test/report/**/*.test.ts'],
  },
  {
    name: 'fits',
    what: 'fits a measurement rests on: the Q-scale line, waterfall and bathtub extrapolation, median ± k·MAD outliers',
    mutate: ['src/core/q-line.ts', 'src/core/waterfall.ts', 'src/core/bathtub.ts', 'src/core/robust.ts'],
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
    mutate: ['src/orchestrator/limits.ts'],
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
    what: "Station.safeState and its bound (src/station/station.ts), every driver's safeState read-back (drivers/*.ts)",
    mutate: [
      'src/station/station.ts:157-169',
      'src/station/station.ts:203-243',
      'drivers/base.ts:84-117',
      'drivers/base.ts:187-198',
      'drivers/led-driver.ts:122-151',
      'drivers/pd-receiver.ts:81-90',
      'drivers/n6705c.ts:93-113',
      'drivers/ted4015.ts:83-112',
      'drivers/pm100d.ts:58-61',
    ],
    tests: ['test/station/station.test.ts', 'test/drivers/**/*.test.ts'],
  },
  {
    name: 'store-recovery',
    what: 'store open (WAL), markInterrupted (src/store/sqlite-store.ts) and the owner identity (src/core/owner.ts)',
    mutate: [
      'src/store/sqlite-store.ts:217-231',
      'src/store/sqlite-store.ts:241-241',
      'src/store/sqlite-store.ts:815-848',
      'src/core/owner.ts',
    ],
    tests: ['test/store/**/*.test.ts'],
  },
  {
    name: 'ws-hub',
    what: "the WebSocket hub's ring and resume (publish, attach in src/server/ws-hub.ts)",
    mutate: ['src/server/ws-hub.ts:103-170'],
    tests: ['test/server/ws-hub.test.ts', 'test/server/ws.test.ts'],
  },
];

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
