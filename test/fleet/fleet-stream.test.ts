/**
 * The fleet view's stream on a real hub (real PostgreSQL, real WebSocket clients): a change on a quiet stream goes
 * out at once as one bench; changes closer together than the gap are merged into one message, newest state per
 * bench; every client gets the same bytes; the fleet page applies a merged message.
 */
import type { BrowserContext } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { HubClient } from '../../src/fleet/hub-client.ts';
import type { Hub } from '../../src/hub/server.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { issueBenchToken, startTestHub, waitFor } from './helpers.ts';

const GAP_MS = 400;
let pgsrv: TempPg;
let hub: Hub;
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
const benches: HubClient[] = [];

beforeAll(async () => {
  pgsrv = await startTempPg();
  hub = await startTestHub(pgsrv.url, { fleetMinGapMs: GAP_MS });
  for (const name of ['st-1', 'st-2', 'st-3']) {
    const c = new HubClient({ url: hub.url, bench: name, token: await issueBenchToken(hub, name) });
    await c.register({ station: `station-${name}`, sequences: [], capabilities: [] });
    benches.push(c);
  }
  ({ browser, close: closeBrowser } = await launchChromium('cpobench-fleet-stream-chromium-'));
}, 90_000);
afterAll(async () => {
  await closeBrowser?.();
  await hub?.close();
  await pgsrv?.close();
});

interface Received {
  at: number;
  raw: string;
  msg: { type: string; bench?: { name: string; status: unknown }; benches?: { name: string; status: unknown }[] };
}

async function listen(): Promise<{ got: Received[]; ws: WebSocket }> {
  const ws = new WebSocket(`${hub.url.replace('http', 'ws')}/ws`);
  const got: Received[] = [];
  ws.on('message', (d) => got.push({ at: Date.now(), raw: String(d), msg: JSON.parse(String(d)) }));
  await waitFor('fleet snapshot', async () => got.some((g) => g.msg.type === 'benches'));
  return { got, ws };
}

const running = (dut: string, done: number) => ({
  state: 'running' as const,
  run: { id: `r-${dut}`, sequence: 'seq', dut, outcome: 'RUNNING', done, total: 9 },
});

describe('fleet stream', () => {
  it('sends a change on a quiet stream at once, merges changes within the gap, the same bytes to every client', async () => {
    // let the registrations' updates go out first: the stream is quiet when the test starts
    await new Promise((r) => setTimeout(r, GAP_MS * 2));
    const a = await listen();
    const b = await listen();
    try {
      const t0 = Date.now();
      await benches[0]!.heartbeat(running('D-1', 1));
      await waitFor('first change', async () => a.got.length >= 2 && b.got.length >= 2);
      const first = a.got[1]!;
      expect(first.msg.type).toBe('bench');
      expect(first.msg.bench!.name).toBe('st-1');
      expect(first.at - t0).toBeLessThan(GAP_MS);
      // three changes within the gap (one bench twice): one message, each bench once, its newest state
      await benches[1]!.heartbeat(running('D-2', 1));
      await benches[0]!.heartbeat(running('D-1', 2));
      await benches[2]!.heartbeat(running('D-3', 1));
      await waitFor('merged change', async () => a.got.length >= 3 && b.got.length >= 3);
      await new Promise((r) => setTimeout(r, GAP_MS * 2));
      expect(a.got.length).toBe(3);
      const merged = a.got[2]!;
      expect(merged.msg.type).toBe('changed');
      expect(merged.at - first.at).toBeGreaterThanOrEqual(GAP_MS - 20);
      const byName = new Map(merged.msg.benches!.map((x) => [x.name, x.status]));
      expect([...byName.keys()].sort()).toEqual(['st-1', 'st-2', 'st-3']);
      expect(merged.msg.benches!.length).toBe(3);
      expect(byName.get('st-1')).toEqual(running('D-1', 2));
      expect(b.got.map((g) => g.raw).slice(1)).toEqual(a.got.map((g) => g.raw).slice(1));
    } finally {
      a.ws.close();
      b.ws.close();
    }
  });

  it('the fleet page applies a merged message to every bench in it', async () => {
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(String(e)));
    try {
      await page.goto(`${hub.url}/`);
      await page.locator('tr[data-bench="st-3"]').waitFor();
      await new Promise((r) => setTimeout(r, GAP_MS * 2));
      await benches[0]!.heartbeat(running('PAGE-1', 5));
      await benches[1]!.heartbeat(running('PAGE-2', 6));
      await benches[2]!.heartbeat(running('PAGE-3', 7));
      for (const [i, done] of [
        [1, 5],
        [2, 6],
        [3, 7],
      ])
        await page
          .locator(`tr[data-bench="st-${i}"]`)
          .filter({ hasText: `PAGE-${i}` })
          .filter({ hasText: `${done}/9` })
          .waitFor({ timeout: 5000 });
      expect(errors).toEqual([]);
    } finally {
      await page.close();
    }
  });
});
