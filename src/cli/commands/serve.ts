import type { Command } from 'commander';
import pino from 'pino';
import { openContext } from '../../app/context.ts';
import { AppController } from '../../app/controller.ts';
import { FleetAgent } from '../../app/fleet-agent.ts';
import { createServer, generateToken, MIN_TOKEN_LENGTH } from '../../server/app.ts';
import {
  addBenchOptions,
  type BenchCliOptions,
  CliError,
  describeError,
  EXIT,
  onProgramFault,
  simOptions,
} from './common.ts';
import { stopSignals } from './stop-signals.ts';

interface ServeOptions extends BenchCliOptions {
  host: string;
  port?: string;
  hub?: string;
  bench?: string;
  capability?: string[];
  jobs: boolean;
}

export const DEFAULT_PORT = 8080;

export function registerServe(program: Command, setExit: (code: number) => void): void {
  addBenchOptions(program.command('serve').description('serve the API, the WebSocket stream and the dashboard'))
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--port <n>', `port; 0 lets the system choose (default: CPOBENCH_PORT, else ${DEFAULT_PORT})`)
    .option('--hub <url>', "join a lab: the hub's URL (the bench's token: CPOBENCH_HUB_TOKEN)")
    .option('--bench <name>', "this bench's name in the lab (with --hub)")
    .option('--capability <cap...>', "capabilities offered to jobs' `requires` besides the station's own")
    .option('--no-jobs', 'with --hub: forward and heartbeat, but take no jobs from the queue')
    .action(async (o: ServeOptions) => setExit(await serve(o)));
}

/**
 * The control token: CPOBENCH_TOKEN when set (refused, before anything starts, when shorter than the server's
 * minimum: never silently replaced), else a fresh random one. An empty CPOBENCH_TOKEN counts as unset.
 */
function controlToken(fromEnv: string | undefined): { token: string; fromEnv: boolean } {
  if (!fromEnv) return { token: generateToken(), fromEnv: false };
  if (fromEnv.length < MIN_TOKEN_LENGTH) {
    throw new CliError(
      `CPOBENCH_TOKEN is ${fromEnv.length} characters long; a control token needs at least ${MIN_TOKEN_LENGTH} ` +
        '(set a longer one, or unset it to have one generated)',
    );
  }
  return { token: fromEnv, fromEnv: true };
}

/**
 * The port: --port, else CPOBENCH_PORT (so `npm start` runs on another port: `CPOBENCH_PORT=9000 npm start`), else
 * 8080. An empty CPOBENCH_PORT counts as unset; anything but an integer 0..65535 is refused naming its source.
 */
export function servePort(option: string | undefined, fromEnv: string | undefined): number {
  const [text, source] =
    option !== undefined
      ? [option, '--port']
      : fromEnv !== undefined && fromEnv !== ''
        ? [fromEnv, 'CPOBENCH_PORT']
        : [String(DEFAULT_PORT), 'the default port'];
  const port = /^\s*\d{1,5}\s*$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isInteger(port) || port < 0 || port > 65535)
    throw new CliError(`${source} must be an integer 0..65535, got "${text}"`);
  return port;
}

/** --hub needs --bench and CPOBENCH_HUB_TOKEN; checked before anything starts. */
export function hubOptions(
  o: Pick<ServeOptions, 'hub' | 'bench'>,
  tokenFromEnv: string | undefined,
): { url: string; bench: string; token: string } | undefined {
  if (o.hub === undefined) {
    if (o.bench !== undefined) throw new CliError('--bench names this bench in a lab: give --hub <url> too');
    return undefined;
  }
  let url: URL;
  try {
    url = new URL(o.hub);
  } catch {
    throw new CliError(`--hub must be the hub's http(s) URL, got "${o.hub}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:')
    throw new CliError(`--hub must be the hub's http(s) URL, got "${o.hub}"`);
  if (!o.bench) throw new CliError("--hub needs --bench <name>: this bench's name in the lab");
  if (!tokenFromEnv)
    throw new CliError(
      `--hub needs this bench's token in CPOBENCH_HUB_TOKEN (issue one on the hub: cpobench hub token ${o.bench})`,
    );
  return { url: url.toString().replace(/\/$/, ''), bench: o.bench, token: tokenFromEnv };
}

async function serve(o: ServeOptions): Promise<number> {
  const port = servePort(o.port, process.env.CPOBENCH_PORT);
  const { token, fromEnv } = controlToken(process.env.CPOBENCH_TOKEN);
  const lab = hubOptions(o, process.env.CPOBENCH_HUB_TOKEN);
  const sim = simOptions(o);
  let ctx: Awaited<ReturnType<typeof openContext>>;
  try {
    ctx = await openContext({
      stationFile: o.station,
      sim,
      db: o.db,
      logger: pino({ level: process.env.CPOBENCH_LOG ?? 'warn' }),
    });
  } catch (err) {
    throw new CliError(describeError(err));
  }
  const controller = new AppController(ctx);
  let server: Awaited<ReturnType<typeof createServer>>;
  try {
    server = await createServer({ controller, token, host: o.host, port });
  } catch (err) {
    await ctx.close();
    throw new CliError(`cannot listen on ${o.host}:${port}: ${describeError(err)}`);
  }
  if (ctx.sim) {
    for (const i of ctx.sim.instruments) process.stdout.write(`  ${i.role.padEnd(15)} ${i.resource}  ${i.identity}\n`);
  }
  process.stdout.write(`cpobench dashboard: ${server.url}/\n`);
  let agent: FleetAgent | undefined;
  if (lab) {
    agent = new FleetAgent({
      ctx,
      controller,
      hubUrl: lab.url,
      bench: lab.bench,
      token: lab.token,
      dashboardUrl: `${server.url}/`,
      capabilities: o.capability,
      takeJobs: o.jobs,
      logger: ctx.logger,
    });
    agent.start();
    process.stdout.write(`lab hub: ${lab.url} as bench ${lab.bench}${o.jobs ? ' (taking jobs)' : ''}\n`);
  }
  process.stdout.write(fromEnv ? 'control token: from CPOBENCH_TOKEN\n' : `control token: ${token}\n`);
  process.stdout.write('Ctrl-C stops (an active run is aborted and the bench made safe first)\n');
  // a fault of ours outside a request ends the active run (safe state, record finished); the server stays up
  onProgramFault((err) => {
    const run = controller.active;
    if (!run) return;
    process.stderr.write(`ending run ${run.id} as ERROR: bringing instruments to their safe state…\n`);
    void run.fail(err);
  });
  await new Promise<void>((resolve) => {
    const which = stopSignals();
    const stop = async (sig: NodeJS.Signals) => {
      const kind = which(sig);
      if (kind === 'same keypress') return;
      if (kind === 'again') {
        process.stderr.write(`${sig} again: exiting within 1.5 s\n`);
        setTimeout(() => process.exit(EXIT.ERROR), 1500).unref();
        return;
      }
      process.stderr.write(`${sig}: stopping\n`);
      try {
        await controller.active?.abort(`server shutdown (${sig})`);
        await agent?.stop();
        await server.close();
        await ctx.close();
      } finally {
        resolve();
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return EXIT.OK;
}
