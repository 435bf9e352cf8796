/** A lab in a test: a real PostgreSQL, a hub on it, benches with their own SQLite file, outbox and forwarder. */
import { join } from 'node:path';
import pg from 'pg';
import { Forwarder } from '../../src/fleet/forwarder.ts';
import { HubClient } from '../../src/fleet/hub-client.ts';
import { Outbox } from '../../src/fleet/outbox.ts';
import { type Hub, type HubOptions, startHub } from '../../src/hub/server.ts';
import { openSqliteStore, type SqliteStore } from '../../src/store/sqlite-store.ts';

export async function issueBenchToken(hub: Hub, name: string): Promise<string> {
  const r = await fetch(`${hub.url}/api/benches/${name}/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${hub.adminToken}` },
  });
  if (!r.ok) throw new Error(`token for ${name}: HTTP ${r.status} ${await r.text()}`);
  return ((await r.json()) as { token: string }).token;
}

export interface TestBench {
  name: string;
  store: SqliteStore;
  outbox: Outbox;
  client: HubClient;
  forwarder: Forwarder;
  close(): Promise<void>;
}

export async function openTestBench(
  hubUrl: string,
  token: string,
  name: string,
  dir: string,
  opts: { retryMs?: [number, number]; batchLines?: number } = {},
): Promise<TestBench> {
  const path = join(dir, `${name}.db`);
  const store = openSqliteStore(path);
  const outbox = new Outbox(path, { batchLines: opts.batchLines });
  const client = new HubClient({ url: hubUrl, bench: name, token, timeoutMs: 5000 });
  await client.register({
    station: `station-${name}`,
    sequences: ['mosaic-qual'],
    capabilities: ['sim'],
    origin: outbox.origin,
  });
  const forwarder = new Forwarder({ outbox, client, idleMs: 20, retryMs: opts.retryMs ?? [50, 500] });
  return {
    name,
    store,
    outbox,
    client,
    forwarder,
    async close() {
      await forwarder.stop();
      outbox.close();
      store.close();
    },
  };
}

export function startTestHub(pgUrl: string, over: Partial<HubOptions> = {}): Promise<Hub> {
  return startHub({ pgUrl, port: 0, ...over });
}

/** Row counts of the run tables in the lab database. */
export async function counts(url: string): Promise<Record<string, number>> {
  const c = new pg.Client({ connectionString: url });
  await c.connect();
  try {
    const out: Record<string, number> = {};
    for (const t of ['runs', 'steps', 'measurements', 'holds', 'prompts', 'instruments', 'lane_maps']) {
      out[t] = Number((await c.query(`SELECT count(*) AS n FROM ${t}`)).rows[0].n);
    }
    return out;
  } finally {
    await c.end();
  }
}

export async function waitFor<T>(what: string, fn: () => Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const until = Date.now() + ms;
  let last: unknown;
  while (Date.now() < until) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
}
