import { readFileSync } from 'node:fs';
import readline from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { z } from 'zod';
import { type AppContext, loadSequenceFor, openContext, startSequenceRun } from '../../app/context.ts';
import type { BenchEvent, BenchSafety, RunRecord } from '../../core/record.ts';
import { type Answer, compileAnswerTable, scriptedResponder } from '../../orchestrator/prompts.ts';
import { renderReport, writeCsvDir } from '../../report/index.ts';
import { onSignals } from '../signals.ts';
import {
  addBenchOptions,
  type BenchCliOptions,
  CliError,
  describeError,
  EXIT,
  onProgramFault,
  simOptions,
  writeOutput,
} from './common.ts';

interface RunOptions extends BenchCliOptions {
  dut: string;
  operator: string;
  json?: string;
  junit?: string;
  csv?: string;
  answers?: string;
  yes?: boolean;
  progress: boolean;
}

const answersSchema = z.array(
  z.object({ match: z.string().optional(), answer: z.union([z.string(), z.number(), z.boolean()]) }),
);

export function registerRun(program: Command, setExit: (code: number) => void): void {
  addBenchOptions(
    program
      .command('run')
      .description('run a qualification sequence and keep its record')
      .argument(
        '<sequence>',
        'sequence file, or the name of a shipped one (smoke, mosaic-800g-qual, lightbundle-512g-qual)',
      ),
  )
    .option('--dut <serial>', 'DUT serial number', 'UNSPECIFIED')
    .option('--operator <name>', 'operator name', process.env.USER ?? 'operator')
    .option('--json <file>', 'write the run record as JSON')
    .option('--junit <file>', 'write JUnit XML: one testcase per step')
    .option('--csv <dir>', 'write per-lane CSV tables')
    .option('--answers <file>', 'answer operator prompts from a JSON list [{match, answer}] (CI)')
    .option('--yes', 'answer every operator prompt yes/pass (CI)')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .addHelpText('after', '\nExit codes: 0 pass, 1 the DUT failed a limit, 2 error or aborted.')
    .action(async (sequence: string, opts: RunOptions) => setExit(await runCommand(sequence, opts)));
}

export async function runCommand(sequenceArg: string, opts: RunOptions): Promise<number> {
  let ctx: AppContext;
  const sim = simOptions(opts);
  let table: { match?: string; answer: Answer }[] | undefined;
  if (opts.answers) {
    try {
      table = answersSchema.parse(JSON.parse(readFileSync(opts.answers, 'utf8')));
      compileAnswerTable(table);
    } catch (err) {
      throw new CliError(`--answers ${opts.answers}: expected a JSON list of {match, answer}: ${describeError(err)}`);
    }
  }
  try {
    ctx = await openContext({ stationFile: opts.station, sim, db: opts.db });
  } catch (err) {
    throw new CliError(describeError(err));
  }
  try {
    const seq = loadSequenceFor(ctx, sequenceArg);
    if (table || opts.yes) scriptedResponder(ctx.prompts, table ?? [], true);
    else if (process.stdin.isTTY) terminalResponder(ctx);
    else scriptedResponder(ctx.prompts, [], true); // no terminal, no table: CI default answers yes
    const display = progressDisplay(
      ctx,
      seq.steps.map((s) => s.id),
      opts.progress && process.stderr.isTTY === true,
    );
    const handle = startSequenceRun(ctx, seq, { dut: opts.dut, operator: opts.operator });
    process.stderr.write(`run ${handle.id}: ${seq.name} on ${ctx.stationConfig.name}, DUT ${opts.dut}\n`);
    if (ctx.sim) {
      process.stderr.write(
        `simulated bench ${ctx.sim.profile.name}: seed ${ctx.sim.seed}, instrument clock ${ctx.sim.timeScale}x real time\n`,
      );
    }
    const signals = onSignals(handle);
    const faults = onFaults(handle);
    const record = await handle.done;
    const code = record.outcome === 'PASS' ? EXIT.OK : record.outcome === 'FAIL' ? EXIT.FAIL : EXIT.ERROR;
    signals.finished(code);
    faults.finished(code);
    display.stop();
    printSummary(record);
    writeOutputs(record, opts);
    return code;
  } catch (err) {
    throw new CliError(describeError(err));
  } finally {
    await ctx.close();
  }
}

/**
 * An exception thrown by the program itself, outside the run's own flow, ends the run as ERROR through the same
 * path as an abort: the bench goes to its safe state (read back), the record is finished, the exit code is 2.
 * After the run, such a fault exits at once with the run's code (2 if it had passed).
 */
function onFaults(handle: { fail(err: unknown): Promise<void> }): { finished(code: number): void } {
  let finalCode: number | undefined;
  onProgramFault((err) => {
    if (finalCode !== undefined) process.exit(finalCode === EXIT.OK ? EXIT.ERROR : finalCode);
    process.stderr.write('ending the run: bringing instruments to their safe state…\n');
    void handle.fail(err);
  });
  return {
    finished(code) {
      finalCode = code;
    },
  };
}

function terminalResponder(ctx: AppContext): void {
  ctx.prompts.onPrompt((p) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    const hint = p.kind === 'value' ? '' : p.kind === 'passfail' ? ' [pass/fail]' : ' [y/n]';
    rl.question(`\n? ${p.message}${hint} `, (a) => {
      rl.close();
      try {
        if (!ctx.prompts.answer(p.id, a, 'terminal')) process.stderr.write('(already answered)\n');
      } catch (err) {
        process.stderr.write(`${describeError(err)}\n`);
      }
    });
  });
}

function progressDisplay(ctx: AppContext, topLevel: readonly string[], tty: boolean): { stop(): void } {
  const total = topLevel.length;
  let stepNo = 0;
  let label = '';
  const bar = tty
    ? new SingleBar({ format: 'step {label} |{bar}| {value}/{total} lanes · ETA {eta_formatted}', hideCursor: true })
    : null;
  let barStarted = false;
  const stopBar = () => {
    if (bar && barStarted) bar.stop();
    barStarted = false;
  };
  const off = ctx.bus.on((e: BenchEvent) => {
    if (e.type === 'step.started') {
      // nested steps (inside a temperature sweep) show under their parent: "step 8/10 › L-I check"
      if (topLevel.includes(e.step.id)) {
        stepNo++;
        label = `${stepNo}/${total} ${e.step.name}`;
      } else label = `${stepNo}/${total} › ${e.step.name}`;
      stopBar();
      if (bar) {
        bar.start(1, 0, { label });
        barStarted = true;
      } else process.stderr.write(`step ${label} …\n`);
    } else if (e.type === 'progress' && bar && barStarted) {
      bar.setTotal(e.total);
      bar.update(e.done, { label });
    } else if (e.type === 'step.finished') {
      stopBar();
      process.stderr.write(`  ${e.verdict.padEnd(8)} ${e.step}${e.error ? `: ${e.error}` : ''}\n`);
    } else if (e.type === 'log' && (e.level === 'warn' || e.level === 'error')) {
      stopBar();
      process.stderr.write(`  ${e.level}: ${e.msg}\n`);
    }
  });
  return {
    stop() {
      off();
      stopBar();
    },
  };
}

function fmt(v: number | undefined, digits = 3): string {
  if (v === undefined) return '-';
  return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(digits);
}

function printSummary(r: RunRecord): void {
  const s = r.summary ?? {};
  const rows: [string, string][] = [
    ['run', r.id],
    ['verdict', r.outcome],
    ['energy per bit', s.energyPerBitPj === undefined ? '-' : `${fmt(s.energyPerBitPj)} pJ/bit`],
    ['lanes active / dead / remapped', `${s.lanesActive ?? '-'} / ${s.lanesDead ?? '-'} / ${s.lanesRemapped ?? '-'}`],
    [
      'worst lane BER upper bound',
      s.worstBerUpperBound === undefined ? '-' : `${s.worstBerUpperBound.toExponential(2)} (lane ${s.worstLane})`,
    ],
  ];
  for (const rep of s.repairedSteps ?? []) {
    rows.push(['repaired by remap', `${rep.step} failed on lanes ${rep.lanes.join(', ')}: moved to spares, re-tested`]);
  }
  if (r.safeState) rows.push(['bench safe state', r.safeState.safe ? 'confirmed (read back)' : 'NOT SAFE']);
  if (r.error) rows.push(['error', r.error]);
  const w = Math.max(...rows.map(([k]) => k.length));
  process.stdout.write('\n');
  for (const step of r.steps) process.stdout.write(`  ${(step.verdict ?? '-').padEnd(8)} ${step.name}\n`);
  process.stdout.write('\n');
  for (const [k, v] of rows) process.stdout.write(`${k.padEnd(w)}  ${v}\n`);
  if (r.safeState && !r.safeState.safe) process.stderr.write(notSafeBanner(r.safeState));
}

/** The warning an operator cannot miss: every instrument that did not confirm its safe state, by name. */
export function notSafeBanner(check: BenchSafety): string {
  const bad = check.instruments.filter((i) => !i.safe);
  const lines = [
    '',
    '!!! BENCH NOT SAFE !!!',
    ...bad.map((i) => `!!! ${i.role}${i.resource ? ` at ${i.resource}` : ''}: ${i.error ?? 'not confirmed'}`),
    '!!! Check these instruments by hand before touching the DUT.',
    '',
  ];
  return `${lines.join('\n')}\n`;
}

function writeOutputs(r: RunRecord, o: RunOptions): void {
  if (o.json) writeOutput(o.json, renderReport(r, 'json').body);
  if (o.junit) writeOutput(o.junit, renderReport(r, 'junit').body);
  if (o.csv) writeCsvDir(r, o.csv);
}
