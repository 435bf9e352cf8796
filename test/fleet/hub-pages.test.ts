/**
 * The hub's views in headless Chromium on a real PostgreSQL: the fleet view follows heartbeats live and links
 * to each bench's dashboard; the run search finds a forwarded run and opens its record and reports; the
 * analytics page draws the lane heatmap on the array and the wafer map.
 */
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Hub } from '../../src/hub/server.ts';
import { launchChromium } from '../helpers/browser.ts';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';
import { sampleRecord, writeRecord } from '../store/fixtures.ts';
import { issueBenchToken, openTestBench, startTestHub, type TestBench } from './helpers.ts';

let pgsrv: TempPg;
let hub: Hub;
let browser: BrowserContext;
let closeBrowser: () => Promise<void>;
let bench: TestBench;
const dirs = tempDirs('cpobench-hubpages-');
const pageErrors: string[] = [];

beforeAll(async () => {
  pgsrv = await startTempPg();
  hub = await startTestHub(pgsrv.url, { offlineAfterMs: 1500 });
  ({ browser, close: closeBrowser } = await launchChromium('cpobench-hub-chromium-'));
  bench = await openTestBench(hub.url, await issueBenchToken(hub, 'view-1'), 'view-1', dirs.make());
  await bench.client.register({
    station: 'station-view-1',
    sequences: ['mosaic-qual'],
    capabilities: [],
    url: 'http://127.0.0.1:9/dashboard-of-view-1/',
  });
}, 90_000);
afterAll(async () => {
  await bench?.close();
  await closeBrowser?.();
  await hub?.close();
  await pgsrv?.close();
  dirs.cleanup();
});

async function open(path: string): Promise<Page> {
  const p = await browser.newPage();
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  await p.goto(`${hub.url}${path}`);
  return p;
}

describe('hub views', () => {
  it('fleet view: live state from heartbeats, click-through to the bench dashboard, offline when silent', async () => {
    const page = await open('/');
    const row = page.locator('tr[data-bench="view-1"]');
    await row.filter({ hasText: 'online' }).waitFor();
    expect(await row.locator('a').first().getAttribute('href')).toBe('http://127.0.0.1:9/dashboard-of-view-1/');
    await bench.client.heartbeat({
      state: 'running',
      run: { id: 'r-x', sequence: 'mosaic-qual', dut: 'SN-LIVE', outcome: 'RUNNING', done: 3, total: 12 },
    });
    await row.filter({ hasText: 'SN-LIVE' }).filter({ hasText: '3/12' }).waitFor({ timeout: 5000 });
    await bench.client.heartbeat({
      state: 'running',
      run: { id: 'r-x', sequence: 'mosaic-qual', dut: 'SN-LIVE', outcome: 'RUNNING', done: 4, total: 12 },
    });
    await row.filter({ hasText: '4/12' }).waitFor({ timeout: 5000 });
    // no heartbeat for longer than offlineAfterMs: shown offline without reloading
    await row.filter({ hasText: 'offline' }).waitFor({ timeout: 5000 });
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('run search finds a forwarded run by DUT; its page shows the steps and links the reports', async () => {
    const id = writeRecord(bench.store, sampleRecord({ dut: 'SN-FIND-ME' }));
    writeRecord(bench.store, sampleRecord({ dut: 'SN-OTHER' }));
    await bench.forwarder.flush();
    const page = await open('/runs?dut=SN-FIND-ME');
    const rows = page.locator('#runs tbody tr');
    await rows.first().waitFor();
    expect(await rows.count()).toBe(1);
    await page.getByRole('link', { name: 'SN-FIND-ME' }).click();
    await page.locator('#steps tbody tr').first().waitFor();
    expect(await page.locator('#steps tbody tr').count()).toBe(4);
    expect(await page.locator('#title').textContent()).toContain('FAIL');
    const html = await page.getByRole('link', { name: 'html' }).getAttribute('href');
    const res = await fetch(`${hub.url}${html}`);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('SN-FIND-ME');
    expect(page.url()).toBe(`${hub.url}/runs/${id}`);
    await page.close();
    expect(pageErrors).toEqual([]);
  });

  it('analytics page draws a heatmap cell per lane position on the array', async () => {
    // its own run (the tests may run in any order)
    writeRecord(bench.store, sampleRecord({ dut: 'SN-HEAT' }));
    await bench.forwarder.flush();
    const page = await open('/analytics');
    await page.locator('#heat .cell').first().waitFor();
    expect(await page.locator('#heat .cell').count()).toBe(400);
    // lane 17 fails in the sample record (ber_upper 1e-9 > 1e-12): its cell is at row 1, column 17
    const cell = page.locator('#heat .cell[title^="lane 17:"]');
    expect(await cell.getAttribute('style')).toContain('grid-row:1;grid-column:17');
    expect(await cell.getAttribute('title')).toMatch(/lane 17: 0\.0% of \d+/);
    await page.close();
    expect(pageErrors).toEqual([]);
  });
});
