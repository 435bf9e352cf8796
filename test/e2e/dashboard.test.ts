/**
 * The dashboard in headless Chromium against the REAL server: simulated mosaic-800g bench, orchestrator and
 * SQLite store behind it. A technician's path: token, sequence, DUT, operator, Start, watch, Abort, history.
 */
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { ARTIFACTS, launchChromium } from '../helpers/browser.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'e2e-dashboard-token-0123456789';
const ROLES = ['led-driver', 'pd-receiver', 'power-analyzer', 'optical-meter', 'tec'];

const tmp = tempDirs();
let browser: BrowserContext;
let ctx: AppContext;
let controller: AppController;
let srv: BenchServer;
let page: Page;
const pageErrors: string[] = [];

let chromiumClose: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const launched = await launchChromium('cpobench-e2e-chromium-');
  browser = launched.browser;
  chromiumClose = launched.close;
}, 60_000);

afterAll(async () => {
  await chromiumClose?.();
  tmp.cleanup();
});

// Each test gets a freshly started bench and server, as `npm start` gives a technician, and a fresh tab.
beforeEach(async () => {
  ctx = await openContext({
    sim: { profile: 'mosaic-800g', timeScale: 1000, seed: 1 },
    db: join(tmp.make(), 'runs.db'),
  });
  controller = new AppController(ctx);
  srv = await createServer({ controller, token: TOKEN, host: '127.0.0.1', port: 0 });
  pageErrors.length = 0;
  page = await browser.newPage();
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(srv.url);
  await page.getByTestId('connection-state').filter({ hasText: 'live' }).waitFor();
});

afterEach(async () => {
  await page?.close();
  const active = controller?.active;
  if (active) await active.abort('test cleanup');
  await srv?.close();
  await ctx?.close();
});

/** Enters the token and the run form as a technician would. */
async function fillRunForm(sequence: string, dut: string): Promise<void> {
  await tid('token-input').fill(TOKEN);
  await tid('token-save').click();
  // the options come from the real /api/sequences
  await page.locator(`[data-testid="sequence-select"] option[value="${sequence}"]`).waitFor({ state: 'attached' });
  await tid('sequence-select').selectOption(sequence);
  await tid('dut-input').fill(dut);
  await tid('operator-input').fill('tech-e2e');
}

const tid = (id: string) => page.getByTestId(id);

describe('dashboard in headless Chromium on the real stack', () => {
  it('runs smoke from the page to PASS with all 400 lanes on the map', async () => {
    await expect(tid('station-name').textContent()).resolves.toContain('mosaic-800g-sim');
    for (const role of ROLES) await tid(`instrument-state-${role}`).filter({ hasText: 'ready' }).waitFor();
    await fillRunForm('smoke', 'SN-E2E-UI-1');
    // the DUT's origin: a die half given is refused on the page, nothing started
    await tid('lot-input').fill(' LOT-E2E ');
    await tid('wafer-input').fill('W03');
    await tid('die-x-input').fill('-4');
    await tid('start-button').click();
    await tid('control-error').filter({ hasText: 'die: give both x and y (or neither)' }).waitFor();
    expect(controller.active).toBeNull();
    await tid('die-y-input').fill('9');
    await tid('start-button').click();

    await tid('run-outcome').filter({ hasText: 'PASS' }).waitFor({ timeout: 20_000 });
    await expect(tid('run-dut').textContent()).resolves.toContain('SN-E2E-UI-1');
    await expect(tid('lane-count-total').textContent()).resolves.toBe('400');
    await tid('lane-count-filled').filter({ hasText: /^400$/ }).waitFor();
    for (const s of ['inventory', 'ber-screen', 'energy'])
      await expect(tid(`step-verdict-${s}`).textContent()).resolves.toMatch(/PASS/);
    await expect(tid('run-epb').textContent()).resolves.toMatch(/pJ\/bit/);
    // the canvas drew the lanes: lane 1's cell is not the empty-lane background
    const px = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="lane-map"]') as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(10, 10, 1, 1).data);
    });
    expect(px.slice(0, 3)).not.toEqual([0x1c, 0x21, 0x28]);
    // what the page shows is what the server stored
    const runId = (await tid('run-id').textContent())?.trim() ?? '';
    expect(controller.getRun(runId)).toMatchObject({
      outcome: 'PASS',
      dut: 'SN-E2E-UI-1',
      operator: 'tech-e2e',
      lot: 'LOT-E2E',
      wafer: 'W03',
      die: { x: -4, y: 9 },
    });
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-smoke-pass.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });

  it('aborts mosaic-800g-qual from the page: ABORTED, instruments safe, report downloadable from history', async () => {
    await fillRunForm('mosaic-800g-qual', 'SN-E2E-UI-2');
    await tid('start-button').click();
    await tid('run-outcome').filter({ hasText: 'RUNNING' }).waitFor({ timeout: 10_000 });
    await expect(tid('run-dut').textContent()).resolves.toContain('SN-E2E-UI-2');
    // abort in the middle of the BER gate, with the earlier steps done
    await tid('step-ber')
      .filter({ hasText: 'running' })
      .waitFor({ timeout: 20_000 })
      .catch(async (err) => {
        await page.screenshot({ path: join(ARTIFACTS, 'e2e-failure.png'), fullPage: true });
        throw new Error(`${err}\nsteps: ${await tid('step-timeline').textContent()}`);
      });
    await expect(tid('step-verdict-lane-map').textContent()).resolves.toMatch(/PASS/);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-qual-running.png'), fullPage: true });
    const runningId = controller.active?.id;
    expect(runningId).toBeTruthy();

    await tid('abort-button').click();
    await tid('run-outcome').filter({ hasText: 'ABORTED' }).waitFor({ timeout: 10_000 });
    for (const role of ROLES)
      await tid(`instrument-state-${role}`)
        .filter({ hasText: /^safe$/ })
        .waitFor();
    await expect(tid('step-verdict-ber').textContent()).resolves.toMatch(/SKIPPED|ERROR/);
    await expect(tid('start-button').isDisabled()).resolves.toBe(false);
    await expect(tid('abort-button').isDisabled()).resolves.toBe(true);
    const rec = controller.getRun(runningId!);
    expect(rec?.outcome).toBe('ABORTED');
    expect(rec?.abort?.by).toBe('api');
    expect(rec!.abort!.safeStateMs!).toBeLessThan(1000);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-aborted.png'), fullPage: true });

    // history: newest first, the aborted run, its detail and its report
    const first = page.locator('[data-testid="history-row"]').first();
    await first.filter({ hasText: 'ABORTED' }).waitFor({ timeout: 10_000 });
    await expect(page.locator('[data-testid="history-row"]').count()).resolves.toBe(1);
    await first.click();
    await tid('detail-outcome').filter({ hasText: 'ABORTED' }).waitFor();
    const href = await tid('export-html').getAttribute('href');
    expect(href).toBe(`/api/runs/${encodeURIComponent(runningId!)}/export?format=html`);
    const res = await fetch(new URL(href!, srv.url));
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/html/);
    const html = await res.text();
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(runningId!);
    expect(html).toContain('ABORTED');
    // the page's own download path works as well (same origin, from the browser)
    const inPage = await page.evaluate(async (u) => {
      const r = await fetch(u);
      return { status: r.status, type: r.headers.get('content-type'), head: (await r.text()).slice(0, 15) };
    }, href!);
    expect(inPage.status).toBe(200);
    expect(inPage.type).toMatch(/^text\/html/);
    expect(inPage.head.toLowerCase()).toBe('<!doctype html>');
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-history.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  });
});
