/**
 * Run benchmark, on the simulated MOSAIC-class bench (mosaic-800g, instrument clock `--time-scale` × real
 * time, default 100000):
 *   (a) SCPI transactions of one L-I sweep of all 400 lanes × 20 points: every command the sessions send
 *       during a one-step li-sweep sequence (transcript entries with dir 'tx', counted over all instruments,
 *       from the run's start to its finished record). Target ≤ 100; one lane at a time it would be
 *       400 × 20 = 8,000 points, each at least one round trip.
 *   (b) the full `mosaic-800g-qual` with the instruments in a CHILD process (`cpobench sim --station-out`), the
 *       run in this one: wall time (target < 5 s at 100000x: what is left is the orchestrator's own work and
 *       the round trips, not waits), the orchestrator's CPU (process.cpuUsage() over the run is the engine's,
 *       steps', drivers', sessions', store's and bus's alone), and per step where the wall time goes: CPU,
 *       SCPI round trips, and the rest (sleeps, polls, settle and ramp delays); the driver calls with the
 *       longest total time.
 * Prints a table, then (LAST line) one JSON object.
 *
 *   npm run bench:run [-- --time-scale 100000]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { type AppContext, loadSequenceFor, openContext, startSequenceRun } from '../../src/app/context.ts';
import type { RunRecord, TranscriptEntry } from '../../src/core/record.ts';
import { callTotals, RunBreakdown } from './run-breakdown.ts';

const LANES = 400;
const POINTS = 20;
const TRIPS_TARGET = 100;
const QUAL_TARGET_S = 5;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0) || !Number.isFinite(v)) throw new Error(`--${name} needs a positive number`);
  return v;
}
const TIME_SCALE = arg('time-scale', 100_000);
const ROOT = new URL('../..', import.meta.url).pathname;

const dir = mkdtempSync(join(tmpdir(), 'cpobench-bench-run-'));
let child: ChildProcess | undefined;

function killChild(): void {
  if (child && child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
}
process.on('exit', killChild);

function describe(rec: RunRecord): string {
  const steps = rec.steps.map((s) => `${s.id}:${s.verdict ?? '?'}${s.error ? ` (${s.error})` : ''}`).join(', ');
  return `${rec.outcome}${rec.error ? ` (${rec.error})` : ''}; ${steps}`;
}

/** (a) Counts the SCPI transactions of a one-step L-I sweep of every lane. */
async function liSweepTrips(): Promise<{
  tx: number;
  byInstrument: Record<string, number>;
  byHeader: Record<string, number>;
  byPhase: { before: number; step: number; after: number };
  errorQueries: number;
  outcome: string;
  wallS: number;
}> {
  const seqFile = join(dir, 'li-only.yaml');
  writeFileSync(
    seqFile,
    [
      'name: bench-li-only',
      'version: "1.0"',
      'description: one L-I sweep of every lane (bench:run)',
      'steps:',
      '  - id: li',
      '    name: L-I-V sweep, all lanes',
      '    type: li-sweep',
      `    params: { lanes: all, points: ${POINTS} }`,
      '    timeoutS: 300',
      '',
    ].join('\n'),
  );
  const ctx: AppContext = await openContext({
    sim: { profile: 'mosaic-800g', timeScale: TIME_SCALE },
    db: join(dir, 'li.db'),
  });
  try {
    const seq = loadSequenceFor(ctx, seqFile);
    const byInstrument: Record<string, number> = {};
    const byHeader: Record<string, number> = {};
    let tx = 0;
    let counting = false;
    // where the run is: before the li step, inside it, or after it (the run's closing safe state)
    let phase: 'before' | 'step' | 'after' = 'before';
    const byPhase = { before: 0, step: 0, after: 0 };
    let errorQueries = 0;
    const offBus = ctx.bus.on((ev) => {
      if (ev.type === 'step.started' && ev.step.id === 'li') phase = 'step';
      if (ev.type === 'step.finished' && ev.step === 'li') phase = 'after';
    });
    const off = ctx.station.subscribeTranscripts((e: TranscriptEntry) => {
      if (!counting || e.dir !== 'tx') return;
      tx++;
      byPhase[phase]++;
      if (/^SYST(em)?:ERR(or)?(:NEXT)?\?/i.test(e.text)) errorQueries++;
      byInstrument[e.instrument] = (byInstrument[e.instrument] ?? 0) + 1;
      const header = e.text.split(/[\s;]/)[0]!;
      byHeader[header] = (byHeader[header] ?? 0) + 1;
    });
    counting = true;
    const t0 = performance.now();
    const handle = startSequenceRun(ctx, seq, { dut: 'SN-BENCH-LI', operator: 'bench' });
    const rec = await handle.done;
    const wallS = (performance.now() - t0) / 1000;
    counting = false;
    off();
    offBus();
    if (rec.outcome === 'ERROR' || rec.outcome === 'ABORTED' || rec.outcome === 'INTERRUPTED')
      throw new Error(`li-sweep run did not complete: ${describe(rec)}`);
    return { tx, byPhase, errorQueries, byInstrument, byHeader, outcome: describe(rec), wallS };
  } finally {
    await ctx.close();
  }
}

/** Starts `cpobench sim` as a child; resolves with the station file once it is written. */
async function startSimChild(stationFile: string): Promise<void> {
  const c = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'src/cli/main.ts',
      'sim',
      '--profile',
      'mosaic-800g',
      '--time-scale',
      String(TIME_SCALE),
      '--station-out',
      stationFile,
    ],
    { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] },
  );
  child = c;
  let stderr = '';
  c.stdout?.resume();
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`cpobench sim did not start within 30 s: ${stderr}`)), 30_000);
    c.stderr?.on('data', (d: Buffer) => {
      stderr += d.toString();
      // the "Ctrl-C stops" line comes after the station file is written
      if (/Ctrl-C stops/.test(stderr) && existsSync(stationFile)) {
        clearTimeout(timer);
        resolve();
      }
    });
    c.once('exit', (code, sig) => {
      clearTimeout(timer);
      reject(new Error(`cpobench sim exited (${code ?? sig}) before it was ready: ${stderr}`));
    });
  });
}

async function stopSimChild(): Promise<number | string | null> {
  const c = child;
  if (!c || c.exitCode !== null || c.signalCode !== null) return c?.exitCode ?? c?.signalCode ?? null;
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      c.kill('SIGKILL');
    }, 5000);
    c.once('exit', (code, sig) => {
      clearTimeout(timer);
      resolve(code ?? sig);
    });
    c.kill('SIGINT');
  });
}

/** (b) A full qualification run against instruments in another process: wall, CPU, and where the time goes. */
async function qualRun() {
  const stationFile = join(dir, 'station.yaml');
  await startSimChild(stationFile);
  let childExit: number | string | null = null;
  try {
    const ctx = await openContext({ stationFile, db: join(dir, 'qual.db'), traceSize: 1_000_000 });
    try {
      const seq = loadSequenceFor(ctx, 'mosaic-800g-qual');
      const breakdown = new RunBreakdown();
      let tx = 0;
      const off = ctx.station.subscribeTranscripts((e) => {
        if (e.dir === 'tx') tx++;
        breakdown.onTranscript(e);
      });
      const offBus = ctx.bus.on(breakdown.onEvent);
      ctx.station.trace.clear();
      const c0 = process.cpuUsage();
      const t0 = performance.now();
      const handle = startSequenceRun(ctx, seq, { dut: 'SN-BENCH-QUAL', operator: 'bench' });
      const rec = await handle.done;
      const wallS = (performance.now() - t0) / 1000;
      const cpu = process.cpuUsage(c0);
      off();
      offBus();
      const userS = cpu.user / 1e6;
      const systemS = cpu.system / 1e6;
      const cpuS = userS + systemS;
      if (rec.outcome === 'ERROR' || rec.outcome === 'ABORTED' || rec.outcome === 'INTERRUPTED')
        throw new Error(`qualification run did not complete: ${describe(rec)}`);
      return {
        cpuS,
        userS,
        systemS,
        wallS,
        sharePct: (cpuS / wallS) * 100,
        outcome: describe(rec),
        childExit,
        tx,
        steps: breakdown.result(),
        calls: callTotals(ctx.station.trace.entries()),
      };
    } finally {
      await ctx.close();
    }
  } finally {
    childExit = await stopSimChild();
    if (childExit !== 0) process.stderr.write(`warning: cpobench sim child exited with ${childExit}\n`);
  }
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

async function main(): Promise<void> {
  try {
    const li = await liSweepTrips();
    process.stderr.write(`li-sweep: ${li.outcome}\nli-sweep commands by header: ${JSON.stringify(li.byHeader)}\n`);
    const q = await qualRun();
    process.stderr.write(`mosaic-800g-qual: ${q.outcome}\n`);
    const result = {
      liSweep: {
        lanes: LANES,
        points: POINTS,
        scpiTransactions: li.tx,
        inStep: li.byPhase.step,
        beforeStep: li.byPhase.before,
        afterStep: li.byPhase.after,
        errorQueueQueries: li.errorQueries,
        byInstrument: li.byInstrument,
        oneLaneAtATime: LANES * POINTS,
        target: TRIPS_TARGET,
        pass: li.tx <= TRIPS_TARGET,
        passStepOnly: li.byPhase.step <= TRIPS_TARGET,
        wallS: r3(li.wallS),
      },
      qual: {
        sequence: 'mosaic-800g-qual',
        timeScale: TIME_SCALE,
        cpuS: r3(q.cpuS),
        userS: r3(q.userS),
        systemS: r3(q.systemS),
        wallS: r3(q.wallS),
        sharePct: Math.round(q.sharePct * 10) / 10,
        scpiTransactions: q.tx,
        outcome: q.outcome.split(';')[0],
        target: QUAL_TARGET_S,
        pass: q.wallS < QUAL_TARGET_S,
        steps: q.steps,
        driverCalls: q.calls,
      },
    };
    const rows: [string, string][] = [
      [`L-I sweep ${LANES} lanes x ${POINTS} points: SCPI transactions (target <= ${TRIPS_TARGET})`, String(li.tx)],
      [
        '  inside the li step / before it / after it (run-end safe state)',
        `${li.byPhase.step} / ${li.byPhase.before} / ${li.byPhase.after}`,
      ],
      ['  of which SYST:ERR? (error-queue checks after setters)', String(li.errorQueries)],
      [
        '  by instrument',
        Object.entries(li.byInstrument)
          .map(([k, v]) => `${k} ${v}`)
          .join(', '),
      ],
      ['  one lane at a time it would take', String(LANES * POINTS)],
      ['  run wall time, s', r3(li.wallS).toFixed(3)],
      [`mosaic-800g-qual (x${TIME_SCALE}, instruments in a child process): wall time, s`, r3(q.wallS).toFixed(3)],
      ['  orchestrator CPU (user + system), s', `${r3(q.cpuS)} (${r3(q.userS)} + ${r3(q.systemS)})`],
      ['  orchestrator CPU share of the wall time, %', (Math.round(q.sharePct * 10) / 10).toFixed(1)],
      ['  SCPI transactions', String(q.tx)],
      ['  outcome', result.qual.outcome ?? ''],
    ];
    rows[rows.findIndex((r) => r[0].startsWith('mosaic-800g-qual'))]![0] =
      `mosaic-800g-qual (x${TIME_SCALE}, instruments in a child process): wall time, s (target < ${QUAL_TARGET_S})`;
    const width = Math.max(...rows.map((r) => r[0].length));
    console.log(`${'measure'.padEnd(width)}  value`);
    for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
    const table = [
      ['step (nested steps summed over repeats)', 'runs', 'wall s', 'CPU s', 'SCPI s', 'transactions', 'waits s'],
      ...q.steps.map((f) => [
        `${'  '.repeat(f.depth)}${f.id}`,
        String(f.runs),
        f.wallS.toFixed(3),
        f.cpuS.toFixed(3),
        f.scpiS.toFixed(3),
        String(f.transactions),
        f.waitS.toFixed(3),
      ]),
    ];
    const w = table[0]!.map((_, k) => Math.max(...table.map((r) => r[k]!.length)));
    console.log('');
    for (const r of table) console.log(r.map((c, k) => (k === 0 ? c.padEnd(w[k]!) : c.padStart(w[k]!))).join('  '));
    console.log('(waits = wall − CPU − SCPI round trips: sleeps, poll intervals, settle and ramp delays)');
    console.log('');
    console.log('driver calls with the longest total time (nested calls counted in each):');
    for (const c of q.calls)
      console.log(`  ${c.call.padEnd(36)} ${String(c.count).padStart(6)} calls  ${c.totalS.toFixed(3)} s`);
    console.log(JSON.stringify(result));
  } finally {
    await stopSimChild();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
