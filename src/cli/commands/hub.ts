import type { Command } from 'commander';
import { issueToken, revokeToken } from '../../hub/benches.ts';
import { migrateFleet } from '../../hub/schema.ts';
import { startHub } from '../../hub/server.ts';
import { openPool } from '../../hub/sql.ts';
import { CliError, describeError, EXIT } from './common.ts';
import { servePort } from './serve.ts';
import { stopSignals } from './stop-signals.ts';

interface HubCliOptions {
  pg?: string;
  host: string;
  port?: string;
  leaseMs: string;
  offlineMs: string;
}

export const DEFAULT_HUB_PORT = 8090;

function pgUrl(o: { pg?: string }): string {
  const url = o.pg ?? process.env.CPOBENCH_PG_URL;
  if (!url) throw new CliError('give the lab database: --pg postgresql://user@host/db (or CPOBENCH_PG_URL)');
  if (!/^postgres(ql)?:\/\//.test(url)) throw new CliError(`--pg must be a postgresql:// URL, got "${url}"`);
  return url;
}

function positiveMs(text: string, option: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1000) throw new CliError(`${option} must be an integer >= 1000 (ms), got "${text}"`);
  return n;
}

export function registerHub(program: Command, setExit: (code: number) => void): void {
  const hub = program
    .command('hub')
    .description("the lab's hub on PostgreSQL: fleet view, every bench's runs, run queue, analytics")
    .option('--pg <url>', 'the lab database, postgresql://… (default: CPOBENCH_PG_URL)')
    .option('--host <addr>', 'address to bind', '127.0.0.1')
    .option('--port <n>', `port; 0 lets the system choose (default ${DEFAULT_HUB_PORT})`)
    .option('--lease-ms <n>', "a job's lease when its request gives none; renewed by each heartbeat", '60000')
    .option('--offline-ms <n>', 'a bench is shown offline after this long without a heartbeat', '10000')
    .action(async (o: HubCliOptions) => setExit(await runHub(o)));
  hub
    .command('token <bench>')
    .description("issue a bench's token (a new one replaces the old); prints it once")
    .option('--pg <url>', 'the lab database (default: CPOBENCH_PG_URL)')
    .action(async (name: string, o: { pg?: string }) => setExit(await tokenCmd(name, o, 'issue')));
  hub
    .command('revoke <bench>')
    .description("revoke a bench's token: the hub refuses it; its runs stay in the lab database")
    .option('--pg <url>', 'the lab database (default: CPOBENCH_PG_URL)')
    .action(async (name: string, o: { pg?: string }) => setExit(await tokenCmd(name, o, 'revoke')));
}

async function tokenCmd(name: string, o: { pg?: string }, what: 'issue' | 'revoke'): Promise<number> {
  const pool = openPool(pgUrl(o), 1);
  try {
    await migrateFleet(pool);
    if (what === 'issue') {
      process.stdout.write(`${await issueToken(pool, name)}\n`);
      return EXIT.OK;
    }
    if (!(await revokeToken(pool, name))) throw new CliError(`no bench ${name} in the lab database`);
    process.stdout.write(`bench ${name}: token revoked\n`);
    return EXIT.OK;
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(describeError(err));
  } finally {
    await pool.end();
  }
}

async function runHub(o: HubCliOptions): Promise<number> {
  const url = pgUrl(o);
  const port = o.port === undefined ? DEFAULT_HUB_PORT : servePort(o.port, undefined);
  const adminToken = process.env.CPOBENCH_HUB_ADMIN_TOKEN || undefined;
  let hub: Awaited<ReturnType<typeof startHub>>;
  try {
    hub = await startHub({
      pgUrl: url,
      host: o.host,
      port,
      adminToken,
      defaultLeaseMs: positiveMs(o.leaseMs, '--lease-ms'),
      offlineAfterMs: positiveMs(o.offlineMs, '--offline-ms'),
    });
  } catch (err) {
    if (err instanceof CliError) throw err;
    throw new CliError(`cannot start the hub: ${describeError(err)}`);
  }
  process.stdout.write(`cpobench hub: ${hub.url}/\n`);
  process.stdout.write(
    adminToken ? 'admin token: from CPOBENCH_HUB_ADMIN_TOKEN\n' : `admin token: ${hub.adminToken}\n`,
  );
  await new Promise<void>((resolve) => {
    const which = stopSignals();
    const stop = async (sig: NodeJS.Signals) => {
      if (which(sig) === 'same keypress') return;
      process.stderr.write(`${sig}: stopping the hub\n`);
      try {
        await hub.close();
      } finally {
        resolve();
      }
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
  });
  return EXIT.OK;
}
