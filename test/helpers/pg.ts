/**
 * A real PostgreSQL for tests and benchmarks: Debian's server, `initdb` into a fresh temporary folder (as the
 * `postgres` user when we are root: initdb refuses root), started with `pg_ctl` listening only on a unix socket
 * inside that folder (no TCP port to pick or to race for). `stop()`/`start()` take the same server down and up
 * again (the outage tests); `close()` stops it and removes the folder.
 *
 * With CPOBENCH_PG_URL set, `startTempPg()` makes a fresh database on that server instead (dropped on close); such a
 * server cannot be stopped by a test, so `stop()`/`start()` throw there and the outage tests ask for `ownServer`.
 */
import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';

const BIN = ['/usr/lib/postgresql/15/bin', '/usr/lib/postgresql/16/bin', '/usr/lib/postgresql/17/bin'].find((d) =>
  existsSync(join(d, 'pg_ctl')),
);

export interface TempPg {
  /** postgresql:// URL of the database to use. */
  readonly url: string;
  /** True when this helper runs the server (stop/start work). */
  readonly ownServer: boolean;
  stop(): Promise<void>;
  start(): Promise<void>;
  close(): Promise<void>;
}

function asPostgres(cmd: string, args: string[]): string {
  const root = process.getuid?.() === 0;
  const [file, argv] = root ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
  return execFileSync(file, argv, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 });
}

export async function startTempPg(opts: { ownServer?: boolean } = {}): Promise<TempPg> {
  const external = process.env.CPOBENCH_PG_URL;
  if (external && !opts.ownServer) return externalDb(external);
  if (!BIN)
    throw new Error('PostgreSQL server binaries not found: run test/setup/ensure-deps.sh (installs postgresql)');
  const dir = mkdtempSync(join(tmpdir(), 'cpobench-pg-'));
  if (process.getuid?.() === 0) chownSync(dir, uidOf('postgres'), gidOf('postgres'));
  const data = join(dir, 'data');
  asPostgres(join(BIN, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync', '-E', 'UTF8']);
  const port = 5432;
  const options = `-k ${dir} -c listen_addresses='' -p ${port} -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300`;
  const ctl = (action: 'start' | 'stop') =>
    asPostgres(join(BIN, 'pg_ctl'), [
      '-D',
      data,
      '-w',
      '-t',
      '60',
      ...(action === 'start' ? ['-o', options, '-l', join(dir, 'log')] : ['-m', 'fast']),
      action,
    ]);
  ctl('start');
  let running = true;
  return {
    url: `postgresql://postgres@localhost:${port}/postgres?host=${encodeURIComponent(dir)}`,
    ownServer: true,
    async stop() {
      if (running) ctl('stop');
      running = false;
    },
    async start() {
      if (!running) ctl('start');
      running = true;
    },
    async close() {
      try {
        if (running) ctl('stop');
      } finally {
        running = false;
        rmSync(dir, { recursive: true, force: true });
      }
    },
  };
}

async function externalDb(url: string): Promise<TempPg> {
  const name = `cpobench_t${Date.now().toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`;
  const admin = new pg.Client({ connectionString: url });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const u = new URL(url);
  u.pathname = `/${name}`;
  return {
    url: u.toString(),
    ownServer: false,
    async stop() {
      throw new Error('CPOBENCH_PG_URL: cannot stop a server this test did not start');
    },
    async start() {
      throw new Error('CPOBENCH_PG_URL: cannot start a server this test did not start');
    },
    async close() {
      const c = new pg.Client({ connectionString: url });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

function uidOf(user: string): number {
  return Number(execFileSync('id', ['-u', user], { encoding: 'utf8' }).trim());
}
function gidOf(user: string): number {
  return Number(execFileSync('id', ['-g', user], { encoding: 'utf8' }).trim());
}
