import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { BenchServer } from '../../src/server/app.ts';
import { ARTIFACTS, launchChromium } from '../helpers/browser.ts';
import type { FakeController } from '../server/fake-controller.ts';
import { startBench, TOKEN } from '../server/helpers.ts';

let browser: BrowserContext;
let srv: BenchServer;
let ctl: FakeController;
let page: Page;
const pageErrors: string[] = [];

let chromiumClose: (() => Promise<void>) | undefined;

beforeAll(async () => {
  const launched = await launchChromium('cpobench-chromium-');
  browser = launched.browser;
  chromiumClose = launched.close;
}, 60_000);

afterAll(async () => {
  await chromiumClose?.();
});

afterEach(async () => {
  await page?.close();
  const running = ctl?.health().running;
  if (running) await ctl.abortRun(running, 'test');
  await srv?.close();
});

async function openDashboard(): Promise<Page> {
  const p = await browser.newPage();
  p.on('pageerror', (e) => pageErrors.push(String(e)));
  p.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await p.goto(srv.url);
  await p.getByTestId('connection-state').filter({ hasText: 'live' }).waitFor();
  return p;
}

const tid = (id: string) => page.getByTestId(id);

describe('dashboard in headless Chromium', () => {
  it('starts a run from the page, fills the lane map, aborts to ABORTED with instruments safe', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 40, berTicks: 100_000 }));
    pageErrors.length = 0;
    page = await openDashboard();
    await expect(tid('run-outcome').textContent()).resolves.toBe('IDLE');
    await tid('sequence-select').selectOption('mosaic-qual');
    await tid('dut-input').fill('SN-4242');
    await tid('operator-input').fill('grace');

    // without a token the control call is refused and says so
    await tid('start-button').click();
    await tid('control-error').filter({ hasText: '401' }).waitFor();
    expect(ctl.started).toHaveLength(0);

    await tid('token-input').fill(TOKEN);
    await tid('token-save').click();
    expect(await page.evaluate(() => sessionStorage.getItem('cpobench.token'))).toBe(TOKEN);
    await tid('start-button').click();
    await tid('run-outcome').filter({ hasText: 'RUNNING' }).waitFor();
    expect(ctl.started).toEqual([{ sequence: 'mosaic-qual', dut: 'SN-4242', operator: 'grace' }]);
    await expect(tid('run-dut').textContent()).resolves.toContain('SN-4242');

    // the lanes fill in, row by row, until all 400 have a value
    await tid('lane-count-total').filter({ hasText: /^400$/ }).waitFor();
    const seen = new Set<number>();
    for (let i = 0; i < 400; i++) {
      seen.add(Number(await tid('lane-count-filled').textContent()));
      if (seen.has(400)) break;
      await page.waitForTimeout(25);
    }
    expect(seen.has(400)).toBe(true);
    expect([...seen].some((n) => n > 0 && n < 400)).toBe(true); // we saw it partially filled
    // the canvas really drew the heatmap: centre pixels of lane 1 are not the empty-lane colour
    const px = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="lane-map"]') as HTMLCanvasElement;
      return Array.from(c.getContext('2d')!.getImageData(10, 10, 1, 1).data);
    });
    expect(px.slice(0, 3)).not.toEqual([0x1c, 0x21, 0x28]);

    // hover shows the lane's details
    const box = (await tid('lane-map').boundingBox())!;
    await page.mouse.move(box.x + (box.width / 20) * 4.5, box.y + (box.height / 20) * 1.5); // row 2, col 5 = lane 25
    await tid('lane-tooltip').filter({ hasText: 'lane 25' }).waitFor();
    await expect(tid('lane-tooltip').textContent()).resolves.toMatch(/rx_power\s+[\d.]+ uW/);

    // the metric is selectable once a second metric arrives (li_slope after the L-I sweep)
    await page.locator('[data-testid="metric-select"] option[value="li_slope"]').waitFor({ state: 'attached' });
    await tid('metric-select').selectOption('li_slope');
    await tid('step-verdict-lane-map').filter({ hasText: 'PASS' }).waitFor();
    await tid('step-ber').filter({ hasText: 'running' }).waitFor();
    await expect(tid('step-lane-map').textContent()).resolves.toMatch(/lanes_alive = 397/);
    // charts have data: energy comes later, but TEC temperature is sampled all along
    await page.waitForFunction(() => document.querySelectorAll('[data-testid="chart-tec"] .u-over').length === 1);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-running.png'), fullPage: true });

    await tid('abort-button').click();
    await tid('run-outcome').filter({ hasText: 'ABORTED' }).waitFor();
    for (const role of ['led-driver', 'pd-receiver', 'power-analyzer', 'tec']) {
      await expect(tid(`instrument-state-${role}`).textContent()).resolves.toBe('safe');
    }
    await expect(tid('step-verdict-ber').textContent()).resolves.toMatch(/SKIPPED/);
    await expect(tid('start-button').isDisabled()).resolves.toBe(false);
    await expect(tid('abort-button').isDisabled()).resolves.toBe(true);
    // the finished run shows up in history, with its exports
    await page.locator('[data-testid="history-row"]').first().filter({ hasText: 'ABORTED' }).waitFor();
    await page.locator('[data-testid="history-row"]').first().click();
    await tid('detail-outcome').filter({ hasText: 'ABORTED' }).waitFor();
    const href = await tid('export-csv').getAttribute('href');
    expect(href).toMatch(/^\/api\/runs\/run-0001-SN-4242\/export\?format=csv$/);
    await page.screenshot({ path: join(ARTIFACTS, 'dashboard-aborted.png'), fullPage: true });
    // the only failed request was the deliberate start without a token
    expect(pageErrors).toEqual([expect.stringMatching(/401/)]);
  });

  it('shows a BENCH NOT SAFE banner naming each instrument that did not confirm its safe state', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 40, berTicks: 100_000 }));
    page = await openDashboard();
    await expect(tid('not-safe-banner').isHidden()).resolves.toBe(true);
    const { id } = await ctl.startRun({ sequence: 'mosaic-qual', dut: 'SN-NS', operator: 'ada' });
    await tid('run-outcome').filter({ hasText: 'RUNNING' }).waitFor();
    const check = {
      at: new Date().toISOString(),
      safe: false,
      instruments: [
        {
          role: 'led-driver',
          resource: 'TCPIP0::10.0.0.5::5025::SOCKET',
          safe: false,
          ms: 800,
          error: 'not confirmed within 800 ms',
        },
        {
          role: 'tec',
          resource: 'TCPIP0::10.0.0.6::5025::SOCKET',
          safe: true,
          ms: 4,
          observed: 'setpoint 25 °C (idle)',
        },
      ],
    };
    ctl.emit({ type: 'safe-state', runId: id, phase: 'end', check });
    await tid('not-safe-banner').filter({ hasText: 'BENCH NOT SAFE' }).waitFor();
    const text = await tid('not-safe-banner').textContent();
    expect(text).toContain('led-driver (TCPIP0::10.0.0.5::5025::SOCKET): not confirmed within 800 ms');
    expect(text).not.toContain('tec');
    // a new client (snapshot, not the live event) sees it too
    const second = await openDashboard();
    await second.getByTestId('not-safe-banner').filter({ hasText: 'led-driver' }).waitFor();
    await second.close();
  });

  it('shows disconnected when the server goes away, reconnects and resumes by itself', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 5, berTicks: 3 }));
    pageErrors.length = 0;
    page = await openDashboard();
    const port = Number(new URL(srv.url).port);
    ctl.emit({ type: 'log', level: 'info', msg: 'before drop' });
    await tid('log-tail').filter({ hasText: 'before drop' }).waitFor();
    const seqBefore = await tid('last-seq').textContent();
    expect(seqBefore).toBe('seq 1');

    // cut the stream: terminate every socket the hub holds; the page must notice and come back with since=1
    srv.hub.close();
    await tid('connection-state').filter({ hasText: 'disconnected' }).waitFor();
    await srv.close();
    // a new server (same controller, same port) with events the page missed
    const { createServer } = await import('../../src/server/app.ts');
    ctl.emit({ type: 'log', level: 'warn', msg: 'while away' });
    srv = await createServer({ controller: ctl, token: TOKEN, host: '127.0.0.1', port });
    await tid('connection-state').filter({ hasText: 'live' }).waitFor({ timeout: 20_000 });
    // new server life: seq restarted, so the page got a snapshot carrying the log it missed
    await tid('log-tail').filter({ hasText: 'while away' }).waitFor();
    ctl.emit({ type: 'log', level: 'info', msg: 'after' });
    await tid('log-tail').filter({ hasText: 'after' }).waitFor();
    expect(pageErrors.filter((e) => !/WebSocket|ERR_CONNECTION_REFUSED/.test(e))).toEqual([]);
  });

  it('answers an operator prompt and compares two runs from history', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 3, berTicks: 2 }));
    pageErrors.length = 0;
    page = await openDashboard();
    await ctl.startRun({ sequence: 'quick-check', dut: 'SN-1', operator: 'ada' });
    await ctl.idle();
    await page.evaluate((t) => sessionStorage.setItem('cpobench.token', t), TOKEN);
    await ctl.startRun({ sequence: 'mosaic-qual', dut: 'SN-2', operator: 'ada', params: { prompt: true } });
    await tid('prompt-confirm').click();
    await tid('run-outcome').filter({ hasText: 'PASS' }).waitFor();
    await expect(tid('run-epb').textContent()).resolves.toMatch(/pJ\/bit/);
    await page.locator('[data-testid="history-row"]').nth(1).waitFor();
    await tid('history-refresh').click();
    const checks = page.getByTestId('history-check');
    await checks.nth(0).check();
    await checks.nth(1).check();
    await tid('compare-button').click();
    const table = tid('compare-table');
    await table.waitFor();
    const text = await table.textContent();
    expect(text).toContain('run-0001-SN-1');
    expect(text).toContain('run-0002-SN-2');
    expect(text).toMatch(/energy\/bit \(pJ\)/);
    expect(pageErrors).toEqual([]);
  });
});
