/**
 * `cpobench calibrate [--profile NAME ...] [--readme FILE] [--json]` (`npm run calibrate`): each profile's healthy
 * device through the link model, its figures against its class's published targets (src/sim/calibration.ts), as a
 * Markdown table; `--readme FILE` also rewrites the table between the file's calibration markers. Exit 0 when
 * every profile with a class is inside its targets, 1 when one is not, 2 on bad input.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { writeFileAtomic } from '../../core/write-file.ts';
import { EXIT } from '../exit-codes.ts';

export function registerCalibrate(program: Command, setExit: (code: number) => void): void {
  program
    .command('calibrate')
    .description("each profile's healthy device against its class's published figures (the README's calibration table)")
    .option('--profile <name...>', 'profiles (names or files); default every shipped one')
    .option('--readme <file>', 'rewrite the table between the calibration markers of this file')
    .option('--json', 'print the figures as JSON')
    .action(async (opts: { profile?: string[]; readme?: string; json?: boolean }) => {
      // loaded when asked for: the other commands do not pay for the model's imports at start
      const { calibrate, calibrationTable, replaceCalibrationSection } = await import('../../sim/calibration.ts');
      const { builtinProfileNames } = await import('../../sim/model/profile.ts');
      let rows: ReturnType<typeof calibrate>;
      try {
        rows = calibrate(opts.profile ?? builtinProfileNames());
      } catch (err) {
        process.stderr.write(`cpobench calibrate: ${errorMessage(err)}\n`);
        setExit(EXIT.ERROR);
        return;
      }
      const table = calibrationTable(rows);
      if (opts.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
      else process.stdout.write(`${table}\n`);
      if (opts.readme) {
        try {
          writeFileAtomic(opts.readme, replaceCalibrationSection(readFileSync(opts.readme, 'utf8'), table));
          process.stderr.write(`cpobench calibrate: rewrote the calibration table of ${opts.readme}\n`);
        } catch (err) {
          process.stderr.write(`cpobench calibrate: ${opts.readme}: ${errorMessage(err)}\n`);
          setExit(EXIT.ERROR);
          return;
        }
      }
      const outside = rows.filter((r) => r.check && !r.check.met);
      for (const r of outside) {
        const missed = r.check!.results.filter((x) => x.met === false).map((x) => `${x.metric} = ${x.value}`);
        process.stderr.write(`cpobench calibrate: ${r.profile} is outside its class (${missed.join(', ')})\n`);
      }
      setExit(outside.length > 0 ? EXIT.FAIL : EXIT.OK);
    });
}
