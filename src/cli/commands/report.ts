import type { Command } from 'commander';
import { EXPORT_FORMATS, exportReport, isExportFormat } from '../../report/index.ts';
import { isUnknownRun } from '../../store/index.ts';
import { CliError, describeError, EXIT, openStoreOrFail, writeOutput } from './common.ts';

export function registerReport(program: Command, setExit: (code: number) => void): void {
  program
    .command('report')
    .description('export a stored run')
    .argument('<run-id>', 'run id (see cpobench runs)')
    .requiredOption('--format <format>', `one of ${EXPORT_FORMATS.join(', ')}`)
    .option('--db <path>', 'results database', 'data/cpobench.db')
    .option('--out <file>', 'write to this file instead of stdout')
    .addHelpText('after', '\nExit codes: 0 written, 2 unknown run or bad input.')
    .action(async (runId: string, o: { format: string; db: string; out?: string }) => {
      if (!isExportFormat(o.format))
        throw new CliError(`--format must be one of ${EXPORT_FORMATS.join(', ')}, got "${o.format}"`);
      if ((o.format === 'pdf' || o.format === 'parquet') && !o.out)
        throw new CliError(`--format ${o.format} needs --out FILE (a binary file is not written to a terminal)`);
      const store = openStoreOrFail(o.db);
      try {
        const rec = store.getRun(runId);
        // the PDF is the HTML report as headless Chromium prints it
        const r = await exportReport(rec, o.format);
        if (o.out) {
          writeOutput(o.out, r.body);
          process.stderr.write(`wrote ${o.out}\n`);
        } else process.stdout.write(r.body);
        setExit(EXIT.OK);
      } catch (err) {
        if (isUnknownRun(err)) throw new CliError(`unknown run "${runId}" in ${o.db} (see cpobench runs)`);
        throw new CliError(describeError(err));
      } finally {
        store.close();
      }
    });
}
