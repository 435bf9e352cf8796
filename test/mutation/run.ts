/**
 * `npm run test:mutation [-- --module core,scpi] [--incremental]`: StrykerJS over the modules of
 * test/mutation/modules.ts, one Stryker run per module (concurrency 1), then one table: mutants killed per module.
 * Reports: reports/mutation/<module>.json (mutation-testing-report-schema) and .html. Not part of CI (slow);
 * the score is a benchmark figure. Exit code 0 unless Stryker itself failed.
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Stryker } from '@stryker-mutator/core';
import { MODULES, type MutationModule } from './modules.ts';

const ROOT = join(import.meta.dirname, '..', '..');
const OUT = join(ROOT, 'reports', 'mutation');

interface Counts {
  mutants: number;
  killed: number;
  timeout: number;
  survived: number;
  noCoverage: number;
  ignored: number;
  errors: number;
}

function parseArgs(argv: string[]): { modules: MutationModule[]; incremental: boolean } {
  let names: string[] | undefined;
  let incremental = false;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--module' || a === '-m') names = (names ?? []).concat(argv[++i]?.split(',') ?? []);
    else if (a.startsWith('--module=')) names = (names ?? []).concat(a.slice(9).split(','));
    else if (a === '--incremental') incremental = true;
    else if (a === '--list') {
      for (const m of MODULES) console.log(`${m.name.padEnd(16)} ${m.what}`);
      process.exit(0);
    } else throw new Error(`unknown argument ${a} (use --module NAME[,NAME], --incremental, --list)`);
  }
  const unknown = (names ?? []).filter((n) => !MODULES.some((m) => m.name === n));
  if (unknown.length) throw new Error(`unknown module ${unknown.join(', ')}; modules: ${MODULES.map((m) => m.name)}`);
  return { modules: names ? MODULES.filter((m) => names.includes(m.name)) : [...MODULES], incremental };
}

function reportFile(m: MutationModule): string {
  return join(OUT, `${m.name}.json`);
}

/** Counts by status from a mutation-testing-report-schema JSON file. */
export function countReport(file: string): Counts {
  const report = JSON.parse(readFileSync(file, 'utf8')) as {
    files: Record<string, { mutants: { status: string }[] }>;
  };
  const c: Counts = { mutants: 0, killed: 0, timeout: 0, survived: 0, noCoverage: 0, ignored: 0, errors: 0 };
  for (const f of Object.values(report.files)) {
    for (const m of f.mutants) {
      c.mutants++;
      if (m.status === 'Killed') c.killed++;
      else if (m.status === 'Timeout') c.timeout++;
      else if (m.status === 'Survived') c.survived++;
      else if (m.status === 'NoCoverage') c.noCoverage++;
      else if (m.status === 'Ignored') c.ignored++;
      else c.errors++; // CompileError, RuntimeError: not valid mutants
    }
  }
  return c;
}

/** Stryker's mutation score: detected (killed + timeout) over valid mutants (detected + survived + no coverage). */
export function score(c: Counts): number {
  const valid = c.killed + c.timeout + c.survived + c.noCoverage;
  return valid === 0 ? Number.NaN : (100 * (c.killed + c.timeout)) / valid;
}

function table(rows: { m: MutationModule; c: Counts; ran: boolean }[]): string {
  const head = ['module', 'mutants', 'killed', 'timeout', 'survived', 'no cov', 'ignored', 'score'];
  const body = rows.map(({ m, c, ran }) => [
    m.name + (ran ? '' : ' (earlier run)'),
    String(c.mutants),
    String(c.killed),
    String(c.timeout),
    String(c.survived),
    String(c.noCoverage),
    String(c.ignored),
    `${score(c).toFixed(1)} %`,
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...body.map((r) => r[i].length)));
  const line = (r: string[]) => r.map((v, i) => (i === 0 ? v.padEnd(widths[i]) : v.padStart(widths[i]))).join('  ');
  return [line(head), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n');
}

async function runModule(m: MutationModule, incremental: boolean): Promise<void> {
  process.env.CPOBENCH_MUTATION_TESTS = m.tests.join(',');
  const stryker = new Stryker({
    configFile: join(ROOT, 'stryker.config.mjs'),
    mutate: m.mutate,
    incremental,
    incrementalFile: join(OUT, `${m.name}.incremental.json`),
    jsonReporter: { fileName: reportFile(m) },
    htmlReporter: { fileName: join(OUT, `${m.name}.html`) },
  });
  console.log(`\n=== mutation testing: ${m.name} (${m.what})\n`);
  await stryker.runMutationTest();
}

async function main(): Promise<void> {
  const { modules, incremental } = parseArgs(process.argv.slice(2));
  mkdirSync(OUT, { recursive: true });
  const t0 = Date.now();
  for (const m of modules) await runModule(m, incremental);
  const rows = MODULES.filter((m) => existsSync(reportFile(m))).map((m) => ({
    m,
    c: countReport(reportFile(m)),
    ran: modules.includes(m),
  }));
  console.log(
    `\nmutation score per module (${Math.round((Date.now() - t0) / 1000)} s; reports in reports/mutation/)\n`,
  );
  console.log(table(rows));
  console.log(
    JSON.stringify(Object.fromEntries(rows.map(({ m, c }) => [m.name, { ...c, score: Number(score(c).toFixed(1)) }]))),
  );
}

main().catch((err: unknown) => {
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
