import type { Command } from 'commander';
import { z } from 'zod';
import { type AppContext, loadSequenceFor, openContext, startSequenceRun } from '../../app/context.ts';
import { readConfigText } from '../../config/load-yaml.ts';
import type { BenchSafety, DiePosition, DutOrigin, RunRecord } from '../../core/record.ts';
import { checkDutOrigin, checkRunLabel, parseDieText, type RunLabelField } from '../../core/run-labels.ts';
import type { RunHandle } from '../../orchestrator/engine.ts';
import { type Answer, compileAnswerTable, scriptedResponder } from '../../orchestrator/prompts.ts';
import type { LoadedSequence } from '../../orchestrator/sequence.ts';
import { renderReport, writeCsvDir } from '../../report/index.ts';
import { stepGroups } from '../../report/step-groups.ts';
import { laneGeometryConfig } from '../../report/util.ts';
import { findings } from '../../shared/findings.js';
import { onSignals, processSignalHost } from '../signals.ts';
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
import { progressDisplay, type RunDisplay, type TerminalResponder, terminalResponder } from './run-terminal.ts';

/** What `run` and `resume` share: outputs, prompts and progress. */
export interface RunOutputOptions {
  db?: string;
  json?: string;
  junit?: string;
  csv?: string;
  csvTables?: boolean;
  answers?: string;
  yes?: boolean;
  progress: boolean;
}

interface RunOptions extends BenchCliOptions, RunOutputOptions {
  dut?: string;
  operator: string;
  lot?: string;
  wafer?: string;
  die?: string;
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
    .option('--dut <serial>', 'DUT serial number (a run without one is stored as UNSPECIFIED, with a warning)')
    .option('--operator <name>', 'operator name', process.env.USER ?? 'operator')
    .option('--lot <name>', "the DUT's production lot (kept in the run record)")
    .option('--wafer <name>', "the DUT's wafer (kept in the run record)")
    .option('--die <x,y>', "the DUT's die position on its wafer, two integers (kept in the run record)")
    .option('--json <file>', 'write the run record as JSON')
    .option('--junit <file>', 'write JUnit XML: one testcase per step')
    .option('--csv <dir>', 'write the results as one tidy CSV table, <dir>/measurements.csv')
    .option('--csv-tables', 'with --csv: also one CSV file per measurement (and scalars.csv)')
    .option('--answers <file>', 'answer operator prompts from a JSON list [{match, answer}] (CI)')
    .option('--yes', 'answer every operator prompt yes/pass (CI)')
    .option('--no-progress', 'plain log lines instead of a progress bar')
    .addHelpText('after', '\nExit codes: 0 pass, 1 the DUT failed a limit, 2 error or aborted.')
    .action(async (sequence: string, opts: RunOptions) => setExit(await runCommand(sequence, opts)));
}

/** --dut, --operator, --lot, --wafer and --die, checked as the API checks them (checkRunLabel, checkDutOrigin). */
function runLabels(opts: RunOptions): { dut: string; operator: string } & DutOrigin {
  const label = (field: RunLabelField, option: string, value: string): string => {
    const r = checkRunLabel(field, value);
    if (!r.ok) throw new CliError(`${option}: ${r.message}`);
    return r.value;
  };
  let die: DiePosition | undefined;
  if (opts.die !== undefined) {
    const d = parseDieText(opts.die);
    if (!d.ok) throw new CliError(`--die: ${d.message}`);
    die = d.value;
  }
  const origin = checkDutOrigin({ lot: opts.lot, wafer: opts.wafer, die });
  if (!origin.ok) throw new CliError(`--${origin.field}: ${origin.message}`);
  return {
    dut: label('dut', '--dut', opts.dut ?? 'UNSPECIFIED'),
    operator: label('operator', '--operator', opts.operator),
    ...origin.value,
  };
}

export async function runCommand(sequenceArg: string, opts: RunOptions): Promise<number> {
  let ctx: AppContext;
  const who = runLabels(opts);
  const sim = simOptions(opts);
  const table = answerTable(opts);
  try {
    ctx = await openContext({ stationFile: opts.station, sim, db: opts.db });
  } catch (err) {
    throw new CliError(describeError(err));
  }
  try {
    const seq = loadSequenceFor(ctx, sequenceArg);
    return await superviseRun(ctx, seq, opts, table, () => startSequenceRun(ctx, seq, who), {
      dut: who.dut,
      verb: 'run',
      ...(opts.dut === undefined && seq.dutRequired
        ? { warning: `no --dut: the run is stored with DUT ${who.dut}; give the serial with --dut SN` }
        : {}),
    });
  } catch (err) {
    throw new CliError(describeError(err));
  } finally {
    await ctx.close();
  }
}

/** The --answers table, checked. */
export function answerTable(opts: Pick<RunOptions, 'answers'>): { match?: string; answer: Answer }[] | undefined {
  if (!opts.answers) return undefined;
  let text: string;
  try {
    text = readConfigText(opts.answers);
  } catch (err) {
    throw new CliError(`--answers ${describeError(err)}`);
  }
  try {
    const table = answersSchema.parse(JSON.parse(text));
    compileAnswerTable(table);
    return table;
  } catch (err) {
    throw new CliError(`--answers ${opts.answers}: expected a JSON list of {match, answer}: ${describeError(err)}`);
  }
}

/**
 * Runs what `start` starts on an open context as `cpobench run` does (and `cpobench resume`): progress display,
 * prompts, signals and program faults through the safe state, the summary, the outputs. Returns the exit code.
 */
export async function superviseRun(
  ctx: AppContext,
  seq: LoadedSequence,
  opts: RunOutputOptions,
  table: { match?: string; answer: Answer }[] | undefined,
  start: () => RunHandle,
  label: { dut: string; verb: string; warning?: string },
): Promise<number> {
  const display = progressDisplay(
    ctx.bus,
    seq.steps.map((s) => s.id),
    opts.progress && process.stderr.isTTY === true,
  );
  // with a table or --yes, or no terminal to ask on (CI), every prompt is scripted (yes/pass by default)
  const onTerminal = !(table || opts.yes) && process.stdin.isTTY === true;
  if (!onTerminal) scriptedResponder(ctx.prompts, table ?? [], true);
  const handle = start();
  let asker: TerminalResponder | undefined;
  if (onTerminal) {
    asker = terminalResponder(ctx.prompts, display, () => {
      display.say('\nno answer (end of input): aborting, bringing instruments to their safe state…\n');
      void handle.abort('operator (end of input at a prompt)');
    });
  }
  display.say(`${label.verb} ${handle.id}: ${seq.name} on ${ctx.stationConfig.name}, DUT ${label.dut}\n`);
  if (label.warning) display.say(`warning: ${label.warning}\n`);
  if (ctx.sim) {
    display.say(
      `simulated bench ${ctx.sim.profile.name}: seed ${ctx.sim.seed}, instrument clock ${ctx.sim.timeScale}x real time\n`,
    );
  }
  // the abort messages go through the display, so a progress bar never overwrites them
  const signals = onSignals(handle, { ...processSignalHost, stderr: { write: (t: string) => display.say(t) } });
  const faults = onFaults(handle, display);
  const record = await handle.done;
  const code = record.outcome === 'PASS' ? EXIT.OK : record.outcome === 'FAIL' ? EXIT.FAIL : EXIT.ERROR;
  signals.finished(code);
  faults.finished(code);
  asker?.close();
  display.stop();
  printSummary(record);
  // Every output is attempted; one that fails is reported and turns a passed run's exit code into 2.
  const outputsOk = writeOutputs(record, opts);
  return outputsOk || code !== EXIT.OK ? code : EXIT.ERROR;
}

/**
 * An exception thrown by the program itself, outside the run's own flow, ends the run as ERROR through the same
 * path as an abort: the bench goes to its safe state (read back), the record is finished, the exit code is 2.
 * After the run, such a fault exits at once with the run's code (2 if it had passed).
 */
function onFaults(
  handle: { fail(err: unknown): Promise<void> },
  display: RunDisplay,
): { finished(code: number): void } {
  let finalCode: number | undefined;
  onProgramFault((err) => {
    if (finalCode !== undefined) process.exit(finalCode === EXIT.OK ? EXIT.ERROR : finalCode);
    display.say('ending the run: bringing instruments to their safe state…\n');
    void handle.fail(err);
  });
  return {
    finished(code) {
      finalCode = code;
    },
  };
}

function fmt(v: number | undefined, digits = 3): string {
  if (v === undefined) return '-';
  return Math.abs(v) < 1e-3 && v !== 0 ? v.toExponential(2) : v.toFixed(digits);
}

/**
 * The end-of-run summary: failures first (each failing or marginal measurement with its step, coordinates, value,
 * limit and lanes; each step that ended in error), then every step once (a step nested in a sweep with its
 * coordinates), then the run's figures.
 */
export function summaryText(r: RunRecord): string {
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
  const out: string[] = [''];
  const found = findings(r.steps, { geometry: laneGeometryConfig(r), laneMap: r.laneMap });
  if (found.length > 0) {
    const fails = found.filter((f) => f.severity !== 'MARGINAL').length;
    out.push(`failures first: ${fails} failing, ${found.length - fails} marginal`);
    for (const f of found) out.push(`  ${f.text}`);
    out.push('');
  }
  for (const g of stepGroups(r.steps)) {
    out.push(`  ${(g.verdict ?? '-').padEnd(8)} ${g.name}${g.coordinates ? ` ${g.coordinates}` : ''}`);
  }
  out.push('');
  for (const [k, v] of rows) out.push(`${k.padEnd(w)}  ${v}`);
  return `${out.join('\n')}\n`;
}

function printSummary(r: RunRecord): void {
  process.stdout.write(summaryText(r));
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

/** Writes --json, --junit and --csv independently; each failure is one line on stderr. True when all were written. */
function writeOutputs(r: RunRecord, o: RunOutputOptions): boolean {
  const outputs: [string, string | undefined, (target: string) => void][] = [
    ['--json', o.json, (f) => writeOutput(f, renderReport(r, 'json').body)],
    ['--junit', o.junit, (f) => writeOutput(f, renderReport(r, 'junit').body)],
    ['--csv', o.csv, (d) => writeCsvDir(r, d, { tables: o.csvTables === true })],
  ];
  let ok = true;
  for (const [option, target, write] of outputs) {
    if (target === undefined) continue;
    try {
      write(target);
    } catch (err) {
      ok = false;
      process.stderr.write(
        `cpobench: ${option}: ${describeError(err)} ` +
          `(the run is kept in ${o.db}: cpobench report ${r.id} --db ${o.db} --format ... writes it again)\n`,
      );
    }
  }
  return ok;
}
