/**
 * `cpobench compare-receivers [SEQUENCE] [--profiles A,B] [--seed N] [--db PATH] [--json FILE]`: runs the same
 * sequence on two simulated benches (default: mosaic-800g-qual on mosaic-800g, a PD kit, and mosaic-800g-cmos, a
 * CMOS-sensor kit, on the same link and seed), keeps both runs in the store, and prints why the receivers differ
 * (their data paths and what the model predicts) and every measurement side by side. Exit 0 when both runs
 * finished (PASS or FAIL), 2 otherwise.
 */
import type { Command } from 'commander';
import { loadSequenceFor, openContext, startSequenceRun } from '../../app/context.ts';
import { errorMessage } from '../../core/errors.ts';
import type { RunRecord } from '../../core/record.ts';
import { writeFileAtomic } from '../../core/write-file.ts';
import { compareRecords, formatComparison } from '../../report/compare.ts';
import { loadProfile } from '../../sim/model/profile.ts';
import { explainReceivers, receiverFacts } from '../../sim/receiver-explain.ts';
import { EXIT } from '../exit-codes.ts';

export interface CompareOptions {
  sequence: string;
  profiles: [string, string];
  seed?: number;
  db: string;
  timeScale?: number;
}

export async function compareReceivers(
  o: CompareOptions,
): Promise<{ records: [RunRecord, RunRecord]; text: string[] }> {
  const records: RunRecord[] = [];
  for (const profile of o.profiles) {
    const ctx = await openContext({
      sim: {
        profile,
        defaultTimeScale: 1000,
        ...(o.seed !== undefined ? { seed: o.seed } : {}),
        ...(o.timeScale ? { timeScale: o.timeScale } : {}),
      },
      db: o.db,
    });
    try {
      const seq = loadSequenceFor(ctx, o.sequence);
      records.push(await startSequenceRun(ctx, seq, { dut: `COMPARE-${profile}`, operator: 'compare-receivers' }).done);
    } finally {
      await ctx.close();
    }
  }
  const [ra, rb] = records as [RunRecord, RunRecord];
  const [pa, pb] = o.profiles.map((p) => loadProfile(p)) as [
    ReturnType<typeof loadProfile>,
    ReturnType<typeof loadProfile>,
  ];
  const text = [
    `${o.sequence} on ${pa.name}: ${ra.outcome} (run ${ra.id}); on ${pb.name}: ${rb.outcome} (run ${rb.id})`,
    '',
    'why they differ:',
    ...explainReceivers(receiverFacts(pa, o.seed), receiverFacts(pb, o.seed)).map((l) => `  ${l}`),
    '',
    ...formatComparison(compareRecords(ra, rb), pa.name, pb.name),
  ];
  return { records: [ra, rb], text };
}

export function registerCompareReceivers(program: Command, setExit: (code: number) => void): void {
  program
    .command('compare-receivers')
    .argument('[sequence]', 'sequence name or file', 'mosaic-800g-qual')
    .description(
      'run one sequence on two simulated receivers (PD and CMOS by default) and show the results side by side',
    )
    .option('--profiles <a,b>', 'the two profiles', 'mosaic-800g,mosaic-800g-cmos')
    .option('--seed <n>', 'seed of both benches')
    .option('--db <path>', 'results database (SQLite)', 'data/cpobench.db')
    .option('--json <file>', 'write both records and the comparison as JSON')
    .action(async (sequence: string, opts: { profiles: string; seed?: string; db: string; json?: string }) => {
      const profiles = opts.profiles.split(',').map((s) => s.trim());
      const seed = opts.seed === undefined ? undefined : Number(opts.seed);
      if (profiles.length !== 2 || (seed !== undefined && !(Number.isSafeInteger(seed) && seed >= 0))) {
        process.stderr.write('cpobench compare-receivers: --profiles takes two names (a,b); --seed an integer >= 0\n');
        setExit(EXIT.ERROR);
        return;
      }
      try {
        const r = await compareReceivers({
          sequence,
          profiles: profiles as [string, string],
          db: opts.db,
          ...(seed !== undefined ? { seed } : {}),
        });
        for (const l of r.text) process.stdout.write(`${l}\n`);
        if (opts.json)
          writeFileAtomic(
            opts.json,
            `${JSON.stringify({ records: r.records, comparison: compareRecords(...r.records) }, null, 2)}\n`,
          );
        const finished = r.records.every((x) => x.outcome === 'PASS' || x.outcome === 'FAIL');
        setExit(finished ? EXIT.OK : EXIT.ERROR);
      } catch (err) {
        process.stderr.write(`cpobench compare-receivers: ${errorMessage(err)}\n`);
        setExit(EXIT.ERROR);
      }
    });
}
