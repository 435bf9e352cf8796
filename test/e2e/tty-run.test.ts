/**
 * `cpobench run` on a real pseudo-terminal, as a person at the keyboard runs it: the progress bar, questions
 * asked on the terminal and answered by typing, Ctrl-C typed as the ^C byte (the terminal turns it into SIGINT,
 * or hands it to a program reading in raw mode). Assertions are on what the screen shows (a terminal model
 * applies the redraws) and on the stored record.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunRecord } from '../../src/core/record.ts';
import { isDark, readLed } from '../helpers/probe.ts';
import { type PtyProcess, terminals } from '../helpers/pty.ts';
import { parseJson, startSim, tempDirs } from './helpers.ts';

const ASKS = 'test/e2e/fixtures/asks.yaml';
const tmp = tempDirs('cpobench-tty-');
const ptys = terminals();
afterEach(() => ptys.hangUpAll()); // a failed test leaves nothing running
afterAll(() => tmp.cleanup());

const record = (file: string) => parseJson<RunRecord>(readFileSync(file, 'utf8'), file);

/** The screen's lines. */
const lines = (t: PtyProcess) => t.screen().text().split('\n');

/** A question line as it stands on the screen once asked: the prompt text and whatever was typed after it. */
const question = (text: string) => new RegExp(`^\\? ${text.replace(/[?[\]().]/g, '\\$&')} ?`, 'm');

function runInPty(args: string[], cols = 100): { t: PtyProcess; json: string; db: string } {
  const dir = tmp.make();
  const json = join(dir, 'run.json');
  const db = join(dir, 'runs.db');
  const t = ptys.cpobench([...args, '--db', db, '--json', json], { cols, rows: 30, timeoutMs: 75_000 });
  return { t, json, db };
}

/** The terminal is handed back as it was: cursor shown, line wrapping on. */
function expectTerminalRestored(t: PtyProcess): void {
  expect(t.screen().cursorVisible).toBe(true);
  expect(t.screen().autoWrap).toBe(true);
}

describe('cpobench run on a terminal', () => {
  it('draws a progress bar per step (step N/M, percent, ETA) that ends full, with the verdict on a line of its own', async () => {
    // 80 columns: the step number, the percentage and the ETA must fit; only a long step name may be cut
    const { t, json } = runInPty(['run', 'smoke', '--sim', 'mosaic-800g', '--dut', 'SN-TTY-1'], 80);
    expect(await t.exited, t.screen().text()).toBe(0);
    const screen = lines(t);
    const bars = screen.filter((l) => l.startsWith('step '));
    expect(bars).toEqual([
      // progress in the unit of the work: instruments, bits
      expect.stringMatching(/^step 1\/3 \|=+\| 100% · (\d+)\/\1 instruments · ETA 0s · Inv/),
      expect.stringMatching(/^step 2\/3 \|=+\| 100% · ([\d.e]+)\/\1 bits · 0 errors · ETA 0s · B/),
      expect.stringMatching(/^step 3\/3 \|=+\| 100% · ETA 0s · Energy per bit$/),
    ]);
    for (const b of bars) expect(b.length).toBeLessThanOrEqual(80);
    // each bar is followed by its step's verdict, on a line of its own
    const at = (re: RegExp) => screen.findIndex((l) => re.test(l));
    for (const [n, id] of [
      [1, 'inventory'],
      [2, 'ber-screen'],
      [3, 'energy'],
    ] as const) {
      expect(screen[at(new RegExp(`^step ${n}/3 `)) + 1]).toBe(`  PASS     ${id}`);
    }
    // the bar was drawn as a bar (redrawn in place, cursor hidden while it runs), not as log lines
    expect(t.raw()).toContain('\x1b[?25l');
    expect(t.plain()).not.toMatch(/^step \d\/3 .* …$/m);
    // then the summary table, and the terminal handed back as it was
    expect(screen).toContain('verdict                         PASS');
    expect(screen).toContain('bench safe state                confirmed (read back)');
    expectTerminalRestored(t);
    expect(record(json)).toMatchObject({ outcome: 'PASS', dut: 'SN-TTY-1' });
  }, 120_000);

  it('asks each operator prompt on the terminal; a typo is asked again; the answers are recorded as given by terminal', async () => {
    const { t, json } = runInPty(['run', ASKS, '--sim', 'mosaic-800g', '--operator', 'ada']);
    await t.waitForScreen(question('Is the fibre bundle connected? [y/n]'), 30_000);
    t.type('maybe\r');
    await t.waitForScreen(question('Is the fibre bundle connected? [y/n]'), 30_000, 2);
    t.type('y\r');
    await t.waitForScreen(question('Case temperature on the thermocouple (C)?'), 30_000);
    t.type('warm\r');
    await t.waitForScreen(question('Case temperature on the thermocouple (C)?'), 30_000, 2);
    t.type('23.5\r');
    await t.waitForScreen(question('Does the eye on the scope look open? [pass/fail]'), 30_000);
    t.type('pass\r');
    expect(await t.exited, t.screen().text()).toBe(0);

    const screen = lines(t);
    // what was asked, and what was typed, stays readable where it was typed
    expect(screen).toEqual(
      expect.arrayContaining([
        '? Is the fibre bundle connected? [y/n] maybe',
        '  answer "maybe" is not yes/no or pass/fail',
        '? Is the fibre bundle connected? [y/n] y',
        '? Case temperature on the thermocouple (C)? warm',
        '  expected a number',
        '? Case temperature on the thermocouple (C)? 23.5',
        '? Does the eye on the scope look open? [pass/fail] pass',
      ]),
    );
    // each question stands under its step's bar (which step asks stays on the screen)
    const asked = (q: string) => screen.indexOf(q);
    expect(screen[asked('? Is the fibre bundle connected? [y/n] maybe') - 1]).toMatch(
      /^step 2\/5 \|.* · Fibre connected$/,
    );
    expect(screen[asked('? Case temperature on the thermocouple (C)? warm') - 1]).toMatch(
      /^step 3\/5 \|.* · Case temperature$/,
    );
    expect(screen[asked('? Does the eye on the scope look open? [pass/fail] pass') - 1]).toMatch(
      /^step 4\/5 \|.* · Eye check$/,
    );
    // the verdict of each prompt step follows its answer
    const answered = screen.indexOf('? Is the fibre bundle connected? [y/n] y');
    expect(screen[answered + 1]).toBe('  PASS     fibre');
    expect(screen[screen.indexOf('? Case temperature on the thermocouple (C)? 23.5') + 1]).toBe('  PASS     case-temp');
    expect(screen).toContain('verdict                         PASS');
    expectTerminalRestored(t);

    const rec = record(json);
    expect(rec.outcome).toBe('PASS');
    expect(rec.operator).toBe('ada');
    expect(rec.prompts.map((p) => [p.step, p.kind, p.answer, p.answeredBy])).toEqual([
      ['fibre', 'confirm', true, 'terminal'],
      ['case-temp', 'value', 23.5, 'terminal'],
      ['eye', 'passfail', true, 'terminal'],
    ]);
    const caseTemp = rec.steps.find((s) => s.id === 'case-temp')!.measurements[0]!;
    expect(caseTemp).toMatchObject({ kind: 'scalar', value: 23.5, verdict: 'PASS' });
  }, 120_000);

  it('Ctrl-C typed at a question aborts the run: bench safe (read back), ABORTED, exit 2', async () => {
    const { t, json } = runInPty(['run', ASKS, '--sim', 'mosaic-800g']);
    await t.waitForScreen(question('Is the fibre bundle connected? [y/n]'), 30_000);
    t.type('\x03');
    expect(await t.exited, t.screen().text()).toBe(2);
    const screen = lines(t);
    expect(screen).toContain('? Is the fibre bundle connected? [y/n] ^C');
    expect(screen).toContain('SIGINT: aborting, bringing instruments to their safe state…');
    expect(screen).toContain('verdict                         ABORTED');
    expect(screen).toContain('bench safe state                confirmed (read back)');
    expectTerminalRestored(t);
    const rec = record(json);
    expect(rec.outcome).toBe('ABORTED');
    expect(rec.abort?.by).toBe('operator (Ctrl-C)');
    expect(rec.safeState?.safe).toBe(true);
    expect(rec.safeState!.instruments.find((i) => i.role === 'led-driver')!.observed).toMatch(/^outputs off, bias 0 A/);
    expect(rec.prompts).toHaveLength(1);
    expect(rec.prompts[0]).toMatchObject({ step: 'fibre', kind: 'confirm' });
    expect(rec.prompts[0]!.answer).toBeUndefined();
  }, 120_000);

  it('Ctrl-D at a question (no one left to answer) aborts instead of waiting forever', async () => {
    const { t, json } = runInPty(['run', ASKS, '--sim', 'mosaic-800g']);
    await t.waitForScreen(question('Is the fibre bundle connected? [y/n]'), 30_000);
    t.type('\x04');
    expect(await t.exited, t.screen().text()).toBe(2);
    expect(lines(t)).toContain('no answer (end of input): aborting, bringing instruments to their safe state…');
    const rec = record(json);
    expect(rec.outcome).toBe('ABORTED');
    expect(rec.abort?.by).toBe('operator (end of input at a prompt)');
    expect(rec.safeState?.safe).toBe(true);
    expectTerminalRestored(t);
  }, 120_000);

  it('SIGTERM while a question is open aborts and the process exits (the question does not hold it)', async () => {
    const { t, json } = runInPty(['run', ASKS, '--sim', 'mosaic-800g']);
    await t.waitForScreen(question('Is the fibre bundle connected? [y/n]'), 30_000);
    process.kill(await t.pid, 'SIGTERM');
    expect(await t.exited, t.screen().text()).toBe(2);
    expect(lines(t)).toContain('SIGTERM: aborting, bringing instruments to their safe state…');
    expect(record(json)).toMatchObject({ outcome: 'ABORTED', abort: { by: 'SIGTERM' }, safeState: { safe: true } });
    expectTerminalRestored(t);
  }, 120_000);
});

describe('through npm, as the README also runs it (`npm run cpobench -- run ...`)', () => {
  it("Ctrl-C typed during a step: ABORTED, bench safe, and npm reports the run's own exit code 2", async () => {
    const dir = tmp.make();
    const json = join(dir, 'run.json');
    const args = ['run', 'mosaic-800g-qual', '--sim', 'mosaic-800g', '--db', join(dir, 'runs.db'), '--json', json];
    const t = ptys.spawn('npm', ['run', '--silent', 'cpobench', '--', ...args], {
      cols: 100,
      timeoutMs: 75_000,
      env: { NO_COLOR: '1' },
    });
    await t.waitForScreen(/^step 5\/12 /m, 60_000);
    t.type('\x03');
    // not 130: npm's shell must not die of the Ctrl-C under the run, leaving it to finish on its own
    expect(await t.exited, t.screen().text()).toBe(2);
    expect(lines(t)).toContain('SIGINT: aborting, bringing instruments to their safe state…');
    expect(lines(t)).toContain('verdict                         ABORTED');
    expect(record(json)).toMatchObject({
      outcome: 'ABORTED',
      abort: { by: 'operator (Ctrl-C)' },
      safeState: { safe: true },
    });
    expectTerminalRestored(t);
  }, 120_000);
});

describe('Ctrl-C typed during a step, against a bench in another process', () => {
  let sim: { child: ChildProcess; exit: Promise<number | null> } | undefined;
  let station: string;
  let led: string;

  beforeAll(async () => {
    station = join(tmp.make(), 'station.yaml');
    sim = await startSim(['--time-scale', '1000', '--station-out', station]);
    const file = parse(readFileSync(station, 'utf8')) as { instruments: Record<string, { resource: string }> };
    led = file.instruments['led-driver']!.resource;
  });

  afterAll(async () => {
    sim?.child.kill('SIGINT');
    await sim?.exit;
  });

  it('the terminal sends SIGINT: the run aborts, ABORTED, exit 2, and the LED driver reads back dark', async () => {
    const { t, json } = runInPty(['run', 'mosaic-800g-qual', '--station', station]);
    // in the BER gate, its bar moving: bits against the gate, errors so far, its time left
    await t.waitForScreen(
      /^step 6\/12 \|=*-+\| \d+% · [\d.e]+\/[\d.e]+ bits · \d+ errors? · ETA \d+s · Per-lane BER/m,
      60_000,
    );
    t.type('\x03');
    expect(await t.exited, t.screen().text()).toBe(2);
    const screen = lines(t);
    // the abort message is not overdrawn by the bar it interrupted
    expect(screen).toContain('SIGINT: aborting, bringing instruments to their safe state…');
    expect(screen).toContain('verdict                         ABORTED');
    expect(screen).toContain('bench safe state                confirmed (read back)');
    expectTerminalRestored(t);
    const rec = record(json);
    expect(rec.outcome).toBe('ABORTED');
    expect(rec.abort?.by).toBe('operator (Ctrl-C)');
    expect(rec.safeState?.safe).toBe(true);
    // the hardware says so too, over a connection of its own
    expect(isDark(await readLed(led, 400))).toBe(true);
  }, 120_000);
});
