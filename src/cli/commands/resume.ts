import type { Command } from 'commander';
import { type AppContext, openContext } from '../../app/context.ts';
import { checkResumable, prepareResumedRun, resumeContextOptions } from '../../app/resume.ts';
import { createStepRegistry } from '../../steps/registry.ts';
import {
  addBenchOptions,
  type BenchCliOptions,
  CliError,
  describeError,
  openStoreOrFail,
  simOptions,
} from './common.ts';
import { answerTable, type RunOutputOptions, superviseRun } from './run.ts';

interface ResumeOptions extends BenchCliOptions, RunOutputOptions {}

export function registerResume(program: Command, setExit: (code: number) => void): void {
  addBenchOptions(
    program
      .command('resume')
      .description(
        'continue an INTERRUPTED burn-in run from its last checkpoint (the controller was killed or the power cut)',
      )
      .argument('<run-id>', 'the run to continue (cpobench runs --outcome INTERRUPTED lists them)'),
  )
    .option('--json <file>', 'write the run record as JSON')
    .option('--junit <file>', 'write JUnit XML: one testcase per step')
    .option('--csv <dir>', 'write per-lane CSV tables')
    .option('--answers <file>', 'answer operator prompts from a JSON list [{match, answer}] (CI)')
    .option('--yes', 'answer every operator prompt yes/pass (CI)')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .addHelpText(
      'after',
      '\nWithout --station or --sim the bench is opened as the run opened it. Refused (exit 2, saying why): a run\n' +
        'that is still running, that finished, that is not a burn-in, whose sequence file or station changed.\n' +
        'Exit codes: 0 pass, 1 the DUT failed a limit, 2 error, aborted or refused.',
    )
    .action(async (runId: string, opts: ResumeOptions) => setExit(await resumeCommand(runId, opts)));
}

export async function resumeCommand(runId: string, opts: ResumeOptions): Promise<number> {
  const given = opts.station || opts.sim ? { stationFile: opts.station, sim: simOptions(opts) } : {};
  if (!opts.station && !opts.sim && (opts.seed || opts.timeScale || opts.faults))
    throw new CliError('--seed, --time-scale and --faults go with --sim');
  const table = answerTable(opts);
  // the checks the store alone can make, before any instrument is touched (opening it marks dead runs INTERRUPTED)
  const store = openStoreOrFail(opts.db ?? 'data/cpobench.db');
  let check: ReturnType<typeof checkResumable>;
  try {
    check = checkResumable(store, runId, createStepRegistry());
  } catch (err) {
    throw new CliError(`cannot resume: ${describeError(err)}`);
  } finally {
    store.close();
  }
  let ctx: AppContext;
  try {
    ctx = await openContext({ ...resumeContextOptions(check, given), db: opts.db });
  } catch (err) {
    throw new CliError(describeError(err));
  }
  try {
    const { seq, start } = prepareResumedRun(ctx, check);
    return await superviseRun(ctx, seq, opts, table, start, {
      dut: check.record.dut,
      verb: 'resuming run',
    });
  } catch (err) {
    throw new CliError(`cannot resume: ${describeError(err)}`);
  } finally {
    await ctx.close();
  }
}
