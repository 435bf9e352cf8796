/**
 * What `cpobench run` shows on a terminal while a run goes: a progress bar per step (step N of M, percent done,
 * ETA, the step's name last so a narrow terminal cuts only the name), the step verdicts, warnings, and the
 * operator's prompts. The bar redraws its own line and, when it stops, puts the cursor back where it started
 * (cli-progress saves and restores the cursor), so nothing else may write to the terminal while it is drawn:
 * every other line goes through `say`, which stops the bar first.
 */
import readline from 'node:readline';
import { SingleBar } from 'cli-progress';
import type { BenchEvent, PromptRecord } from '../../core/record.ts';
import type { EventBus } from '../../orchestrator/bus.ts';
import type { PromptBroker } from '../../orchestrator/prompts.ts';
import { coordLabel } from '../../shared/coordinates.js';
import { fmtDuration, workText } from '../../shared/format.js';
import { describeError } from './common.ts';

export interface RunDisplay {
  /** Writes a line (or lines) on stderr, after stopping the bar if one is drawn. */
  say(text: string): void;
  /** Stops listening and leaves the terminal as it found it (cursor shown, line wrapping on). */
  stop(): void;
}

export function progressDisplay(bus: EventBus, topLevel: readonly string[], tty: boolean): RunDisplay {
  const total = topLevel.length;
  let stepNo = 0;
  let payload = { step: '', name: '', remaining: '--', work: '' };
  const bar = tty
    ? new SingleBar({
        format: 'step {step} |{bar}| {percentage}% · {work}ETA {remaining} · {name}',
        barsize: 20,
        hideCursor: true,
        stream: process.stderr,
      })
    : null;
  let barStarted = false;
  const stopBar = () => {
    if (bar && barStarted) bar.stop();
    barStarted = false;
  };
  const say = (text: string) => {
    stopBar();
    process.stderr.write(text);
  };
  /** the coordinates each nested step is running at, for its verdict line ("PASS     t-li @ 45 °C") */
  const stepAt = new Map<string, string>();
  const off = bus.on((e: BenchEvent) => {
    if (e.type === 'step.started') {
      const at = coordLabel(e.step.at);
      stepAt.set(e.step.id, at ? ` @ ${at}` : '');
      // nested steps (inside a temperature sweep) show under their parent: "step 8/10 … › L-I check"
      if (topLevel.includes(e.step.id)) {
        stepNo++;
        payload = { step: `${stepNo}/${total}`, name: e.step.name, remaining: '--', work: '' };
      } else
        payload = {
          step: `${stepNo}/${total}`,
          name: `› ${e.step.name}${stepAt.get(e.step.id)}`,
          remaining: '--',
          work: '',
        };
      stopBar();
      if (bar) {
        bar.start(1, 0, payload);
        barStarted = true;
      } else process.stderr.write(`step ${payload.step} ${payload.name} …\n`);
    } else if (e.type === 'progress' && bar && barStarted) {
      payload = {
        ...payload,
        remaining: e.done >= e.total ? '0s' : fmtDuration(e.etaS),
        // a BER gate: bits against the gate, errors so far; the ETA is its time left
        work: e.unit ? `${workText(e.done, e.total, e.unit, e.errors)} · ` : '',
      };
      bar.setTotal(e.total);
      bar.update(e.done, payload);
    } else if (e.type === 'step.finished') {
      // a step that ran to its end (whatever its verdict) shows a full bar, also one that reported no progress
      if (bar && barStarted && e.verdict !== 'ERROR' && e.verdict !== 'SKIPPED')
        bar.update(bar.getTotal(), { ...payload, remaining: '0s' });
      say(`  ${e.verdict.padEnd(8)} ${e.step}${stepAt.get(e.step) ?? ''}${e.error ? `: ${e.error}` : ''}\n`);
    } else if (e.type === 'log' && (e.level === 'warn' || e.level === 'error')) {
      say(`  ${e.level}: ${e.msg}\n`);
    }
  });
  return {
    say,
    stop() {
      off();
      stopBar();
    },
  };
}

export interface TerminalResponder {
  /** Closes an open question (the run ended without its answer): the terminal is handed back. */
  close(): void;
}

/** A value prompt takes a number: anything else typed is asked again (the broker would record it as text). */
function refusal(kind: PromptRecord['kind'], typed: string): string | undefined {
  if (kind !== 'value') return undefined; // yes/no and pass/fail are checked by the broker
  const s = typed.trim();
  return s !== '' && Number.isFinite(Number(s)) ? undefined : 'expected a number';
}

/**
 * Asks each prompt on the terminal and answers it as `terminal`; an answer that does not fit is refused and the
 * question asked again. While a question is open the terminal is in raw mode, so a Ctrl-C there is a key, not a
 * signal: it is turned into the SIGINT it would have been (the run's Ctrl-C handling aborts). End of input
 * (Ctrl-D) leaves no one to answer: `onEndOfInput` decides.
 */
export function terminalResponder(
  prompts: PromptBroker,
  display: RunDisplay,
  onEndOfInput: (p: PromptRecord) => void,
): TerminalResponder {
  let open: readline.Interface | undefined;
  const ask = (p: PromptRecord) => {
    const rl = readline.createInterface({ input: process.stdin, output: process.stderr });
    open = rl;
    let settled = false;
    const hint = p.kind === 'value' ? '' : p.kind === 'passfail' ? ' [pass/fail]' : ' [y/n]';
    rl.on('SIGINT', () => {
      settled = true;
      rl.close();
      display.say('^C'); // as the terminal echoes it outside raw mode
      process.kill(process.pid, 'SIGINT');
    });
    rl.on('close', () => {
      if (open === rl) open = undefined;
      if (!settled) {
        settled = true;
        onEndOfInput(p);
      }
    });
    display.say(''); // the bar stops first: the question gets a line of its own, below it
    rl.question(`? ${p.message}${hint} `, (typed) => {
      settled = true;
      rl.close();
      const why = refusal(p.kind, typed);
      if (why !== undefined) {
        display.say(`  ${why}\n`);
        ask(p);
        return;
      }
      try {
        if (!prompts.answer(p.id, typed, 'terminal')) display.say('(already answered)\n');
      } catch (err) {
        display.say(`  ${describeError(err)}\n`);
        ask(p); // still open: a typo never leaves the run waiting on a question no one asks
      }
    });
  };
  const off = prompts.onPrompt(ask);
  return {
    close() {
      off();
      const rl = open;
      open = undefined;
      if (rl) {
        rl.removeAllListeners('close');
        rl.close();
      }
    },
  };
}
