import { homedir } from 'node:os';
import { join } from 'node:path';
import readline from 'node:readline';
import type { Command } from 'commander';
import type { InstrumentErrorEntry } from '../../core/errors.ts';
import { errorMessage } from '../../core/errors.ts';
import { escapeControl } from '../../core/printable.ts';
import { hexPreview } from '../../scpi/parse.ts';
import { ScpiSession } from '../../scpi/session.ts';
import { describeLockState, instrumentLockState } from '../../station/bench-lock.ts';
import { createTransport } from '../../transport/open.ts';
import { EXIT } from '../exit-codes.ts';
import { ConsoleHistory, HISTORY_MAX_LINES } from '../history.ts';

export interface ScpiCliOptions {
  timeout: string;
  baud?: string;
  drain: boolean;
  force?: boolean;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function formatReply(r: Awaited<ReturnType<ScpiSession['request']>>): string | undefined {
  if (r.kind === 'none') return undefined;
  if (r.kind === 'line') return r.text;
  return `#block ${r.data.length} bytes: ${hexPreview(r.data, 32)}`;
}

function formatErrors(errors: InstrumentErrorEntry[]): string[] {
  return errors.map((e) => `instrument error ${e.code},"${e.message}"`);
}

/**
 * Sends each command, prints each reply, drains the error queue. Returns the exit code. Everything printed goes
 * through escapeControl: instrument bytes never reach the terminal raw.
 */
export async function runScpi(resource: string, commands: string[], opts: ScpiCliOptions, raw: Io): Promise<number> {
  const io: Io = { out: (s) => raw.out(escapeControl(s)), err: (s) => raw.err(escapeControl(s)) };
  const timeoutMs = Number(opts.timeout);
  if (!(timeoutMs > 0)) {
    io.err(`cpobench scpi: --timeout must be a positive number of ms, got "${opts.timeout}"`);
    return EXIT.ERROR;
  }
  let session: ScpiSession;
  try {
    // the bench lock is not taken, only honoured: a run or server driving this instrument is not disturbed
    const lock = instrumentLockState(resource);
    const held = lock.kind === 'held' || lock.kind === 'unreadable' ? describeLockState(lock) : undefined;
    if (held && !opts.force) {
      io.err(`cpobench scpi: ${resource} is in use: ${held}; --force sends anyway`);
      return EXIT.ERROR;
    }
    if (held) io.err(`cpobench scpi: warning: ${resource} is ${held}; sending anyway (--force)`);
    const transport = createTransport(resource, {
      reconnect: false,
      baudRate: opts.baud ? Number(opts.baud) : undefined,
    });
    session = new ScpiSession(transport, { name: resource, timeoutMs });
  } catch (err) {
    io.err(`cpobench scpi: ${errorMessage(err)}`);
    return EXIT.ERROR;
  }
  try {
    await session.open();
    if (commands.length === 0) return await interactive(session, opts, io);
    for (const cmd of commands) {
      const text = formatReply(await session.request(cmd));
      if (text !== undefined) io.out(text);
    }
    if (!opts.drain) return EXIT.OK;
    const errors = await session.drainErrors();
    for (const line of formatErrors(errors)) io.out(line);
    return errors.length > 0 ? EXIT.INSTRUMENT_ERRORS : EXIT.OK;
  } catch (err) {
    io.err(`cpobench scpi: ${errorMessage(err)}`);
    return EXIT.ERROR;
  } finally {
    await session.close().catch(() => undefined);
  }
}

async function interactive(session: ScpiSession, opts: ScpiCliOptions, io: Io): Promise<number> {
  const history = ConsoleHistory.load(process.env.CPOBENCH_HISTORY ?? join(homedir(), '.cpobench_history'));
  const rl = readline.createInterface({
    input: process.stdin,
    output: process.stdout,
    history: history.recent(),
    historySize: HISTORY_MAX_LINES,
    terminal: process.stdin.isTTY,
  });
  io.out(`connected to ${session.name}; type SCPI commands, "exit" or Ctrl-D to leave`);
  let sawErrors = false;
  rl.setPrompt('scpi> ');
  rl.prompt();
  for await (const raw of rl) {
    const line = raw.trim();
    if (line === 'exit' || line === 'quit') break;
    if (line !== '') {
      history.add(line);
      try {
        const text = formatReply(await session.request(line));
        if (text !== undefined) io.out(text);
        if (opts.drain) {
          const errors = await session.drainErrors();
          if (errors.length > 0) sawErrors = true;
          for (const l of formatErrors(errors)) io.out(l);
        }
      } catch (err) {
        io.err(errorMessage(err));
      }
    }
    rl.prompt();
  }
  rl.close();
  return sawErrors ? EXIT.INSTRUMENT_ERRORS : EXIT.OK;
}

export function registerScpi(program: Command, setExit: (code: number) => void): void {
  program
    .command('scpi')
    .description('send SCPI commands to one instrument and print the replies; no commands: an interactive console')
    .argument('<resource>', 'VISA resource: TCPIP0::host::5025::SOCKET or ASRL/dev/ttyUSB0::INSTR')
    .argument('[commands...]', 'SCPI commands; a query prints its reply (a block as its size and a hex preview)')
    .option('-t, --timeout <ms>', 'timeout per command, ms', '2000')
    .option('--baud <rate>', 'serial baud rate', '9600')
    .option('--no-drain', 'do not read SYST:ERR? after the commands')
    .option('--force', 'send even when another cpobench process holds the instrument (bench lock)')
    .addHelpText(
      'after',
      '\nExit codes: 0 ok, 3 the instrument reported errors, 2 I/O, usage error or instrument in use.',
    )
    .action(async (resource: string, commands: string[], opts: ScpiCliOptions) => {
      setExit(
        await runScpi(resource, commands, opts, {
          out: (s) => process.stdout.write(`${s}\n`),
          err: (s) => process.stderr.write(`${s}\n`),
        }),
      );
    });
}
