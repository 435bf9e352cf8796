import type { Command } from 'commander';
import type { Outcome } from '../../core/record.ts';
import { CliError, EXIT, openStoreOrFail } from './common.ts';

const OUTCOMES = ['PASS', 'FAIL', 'ERROR', 'ABORTED', 'INTERRUPTED', 'RUNNING'];

export function registerRuns(program: Command, setExit: (code: number) => void): void {
  program
    .command('runs')
    .description('list stored runs, newest first')
    .option('--db <path>', 'results database', 'data/cpobench.db')
    .option('--dut <serial>', 'only this DUT')
    .option('--sequence <name>', 'only this sequence')
    .option('--outcome <outcome>', `only this outcome: ${OUTCOMES.join(', ')}`)
    .option('--limit <n>', 'at most this many', '50')
    .option('--json', 'print JSON')
    .action((o: { db: string; dut?: string; sequence?: string; outcome?: string; limit: string; json?: boolean }) => {
      const outcome = o.outcome?.toUpperCase();
      if (outcome && !OUTCOMES.includes(outcome))
        throw new CliError(`--outcome must be one of ${OUTCOMES.join(', ')}, got "${o.outcome}"`);
      const limit = Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1)
        throw new CliError(`--limit must be a positive integer, got "${o.limit}"`);
      const store = openStoreOrFail(o.db);
      try {
        const runs = store.listRuns({
          dut: o.dut,
          sequence: o.sequence,
          outcome: outcome as Outcome | undefined,
          limit,
        });
        if (o.json) {
          process.stdout.write(`${JSON.stringify(runs, null, 2)}\n`);
        } else if (runs.length === 0) {
          process.stdout.write('no runs\n');
        } else {
          const rows = runs.map((r) => [r.id, r.sequence, r.dut, r.outcome, r.startedAt, r.finishedAt ?? '-']);
          const head = ['id', 'sequence', 'dut', 'outcome', 'started', 'finished'];
          const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
          const line = (cells: string[]) => `${cells.map((c, i) => c.padEnd(widths[i]!)).join('  ')}\n`;
          process.stdout.write(line(head));
          for (const r of rows) process.stdout.write(line(r.map(String)));
        }
        setExit(EXIT.OK);
      } finally {
        store.close();
      }
    });
}
