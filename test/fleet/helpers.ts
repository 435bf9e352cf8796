/** A lab in a test: a real PostgreSQL, a hub on it, benches with their own SQLite file, outbox and forwarder. */
import { join } from 'node:path';
import pg from 'pg';
import { expect } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
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
  /** retryMs: the back-off (default [50, 500] ms, quick for tests; 'default' keeps the forwarder's own). */
  opts: { retryMs?: [number, number] | 'default'; batchLines?: number } = {},
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
  const retry = opts.retryMs ?? [50, 500];
  const forwarder = new Forwarder({ outbox, client, idleMs: 20, ...(retry === 'default' ? {} : { retryMs: retry }) });
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

/** The hub's record of a run (the bench's format plus `lab`); fails the test unless the hub has it. */
export async function hubRecord(hub: Hub, id: string): Promise<RunRecord & { lab: { bench: string } }> {
  const r = await fetch(`${hub.url}/api/runs/${id}`);
  expect(r.status, `GET /api/runs/${id}`).toBe(200);
  return (await r.json()) as RunRecord & { lab: { bench: string } };
}

/** The hub's record equals the bench's own (the lab fields aside). */
export async function expectSame(hub: Hub, b: TestBench, id: string): Promise<void> {
  const { lab, ...there } = await hubRecord(hub, id);
  expect(lab.bench).toBe(b.name);
  expect(there).toEqual(JSON.parse(JSON.stringify(b.store.getRun(id))));
}
