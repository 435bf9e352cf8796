import { Command, CommanderError } from 'commander';
import { registerCalibrate } from './commands/calibrate.ts';
import { registerCompareReceivers } from './commands/compare-receivers.ts';
import { registerDiscover } from './commands/discover.ts';
import { registerDrivers } from './commands/drivers.ts';
import { registerHub } from './commands/hub.ts';
import { registerInstruments } from './commands/instruments.ts';
import { registerReport } from './commands/report.ts';
import { registerResume } from './commands/resume.ts';
import { registerRun } from './commands/run.ts';
import { registerRuns } from './commands/runs.ts';
import { registerScpi } from './commands/scpi.ts';
import { registerServe } from './commands/serve.ts';
import { registerSim } from './commands/sim.ts';
import { registerSteps } from './commands/steps.ts';
import { CliError, EXIT } from './exit-codes.ts';

/** Builds the `cpobench` program. Each command sets the exit code through `setExit`. */
export function buildProgram(setExit: (code: number) => void): Command {
  const program = new Command('cpobench')
    .description('Micro LED CPO test bench controller')
    .version('0.1.0')
    .exitOverride()
    .configureOutput({ outputError: (s, write) => write(s) });
  registerScpi(program, setExit);
  registerInstruments(program, setExit);
  registerDrivers(program, setExit);
  registerSteps(program, setExit);
  registerDiscover(program, setExit);
  registerSim(program, setExit);
  registerRun(program, setExit);
  registerResume(program, setExit);
  registerRuns(program, setExit);
  registerReport(program, setExit);
  registerServe(program, setExit);
  registerHub(program, setExit);
  registerCalibrate(program, setExit);
  registerCompareReceivers(program, setExit);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  let code: number = EXIT.OK;
  const program = buildProgram((c) => {
    code = c;
  });
  try {
    await program.parseAsync(argv, { from: 'user' });
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help')
        return EXIT.OK;
      return EXIT.ERROR;
    }
    if (err instanceof CliError) {
      process.stderr.write(`cpobench: ${err.message}\n`);
      return err.exitCode;
    }
    process.stderr.write(`cpobench: ${err instanceof Error ? err.message : String(err)}\n`);
    return EXIT.ERROR;
  }
  return code;
}

/**
 * A reader that goes away (`cpobench runs | head`) ends the output, not the command: EPIPE on stdout or stderr is
 * ignored (later writes go nowhere) and the command finishes with its own exit code, without a stack trace.
 */
export function ignoreBrokenPipe(stream: NodeJS.WritableStream): void {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code !== 'EPIPE') throw err;
  });
}

const isEntry = process.argv[1] !== undefined && /(?:^|[/\\])(?:main\.ts|bin\.js|cpobench)$/.test(process.argv[1]);
if (isEntry) {
  ignoreBrokenPipe(process.stdout);
  ignoreBrokenPipe(process.stderr);
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (err) => {
      process.stderr.write(`cpobench: ${String(err)}\n`);
      process.exitCode = EXIT.ERROR;
    },
  );
}
