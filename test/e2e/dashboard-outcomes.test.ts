/**
 * The dashboard in headless Chromium after runs that did not pass, on the REAL stack (simulated bench with a
 * fault plan, orchestrator, SQLite store, server): a DUT that FAILs (LightBundle with more dead lanes than
 * spares) and a run that ends in ERROR (a receiver that stops answering mid-run). The technician must see the
 * outcome, why, the run in the history with its outcome, and get its report.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import { escapeHtml } from '../../src/report/util.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { ARTIFACTS, launchChromium } from '../helpers/browser.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'e2e-dashboard-outcomes-token-0123';
const tmp = tempDirs('cpobench-dash-outcomes-');
let browser: BrowserContext;
let chromiumClose: (() => Promise<void>) | undefined;

interface Stack {
  ctx: AppContext;
  controller: AppController;
  srv: BenchServer;
  page: Page;
  pageErrors: string[];
}
let stack: Stack | undefined;

beforeAll(async () => {
  const launched = await launchChromium('cpobench-e2e-outcomes-chromium-');
  browser = launched.browser;
  chromiumClose = launched.close;
}, 60_000);

afterEach(async () => {
  const s = stack;
  stack = undefined;
  if (!s) return;
  await s.page.close();
  await s.controller.active?.abort('test cleanup');
  await s.srv.close();
  await s.ctx.close();
});

afterAll(async () => {
  await chromiumClose?.();
  tmp.cleanup();
});

/** A bench with a fault plan behind a real server, as `cpobench serve --sim PROFILE --faults PLAN` runs it. */
async function startStack(profile: string, faults: string): Promise<Stack> {
  const ctx = await openContext({
    sim: { profile, timeScale: 1000, seed: 1, faults },
    db: join(tmp.make(), 'runs.db'),
  });
  const controller = new AppController(ctx);
  const srv = await createServer({ controller, token: TOKEN, host: '127.0.0.1', port: 0 });
  const page = await browser.newPage();
  const pageErrors: string[] = [];
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(srv.url);
  await page.getByTestId('connection-state').filter({ hasText: 'live' }).waitFor();
  stack = { ctx, controller, srv, page, pageErrors };
  return stack;
}

/** Token, sequence, DUT, operator, Start: as a technician does it. Returns the run id the page shows. */
async function startFromPage(page: Page, sequence: string, dut: string): Promise<string> {
  const tid = (id: string) => page.getByTestId(id);
  await tid('token-input').fill(TOKEN);
  await tid('token-save').click();
  await page.locator(`[data-testid="sequence-select"] option[value="${sequence}"]`).waitFor({ state: 'attached' });
  await tid('sequence-select').selectOption(sequence);
  await tid('dut-input').fill(dut);
  await tid('operator-input').fill('tech-outcomes');
  await tid('start-button').click();
  await tid('run-dut').filter({ hasText: dut }).waitFor({ timeout: 15_000 });
  return ((await tid('run-id').textContent()) ?? '').trim();
}

/** Waits for the outcome on the page; on a timeout, the screenshot and the step table say where it stood. */
async function waitOutcome(page: Page, outcome: string, name: string): Promise<void> {
  await page
    .getByTestId('run-outcome')
    .filter({ hasText: new RegExp(`^${outcome}$`) })
    .waitFor({ timeout: 90_000 })
    .catch(async (err) => {
      await page.screenshot({ path: join(ARTIFACTS, `${name}-timeout.png`), fullPage: true });
      throw new Error(`${err}\nsteps: ${await page.getByTestId('step-timeline').textContent()}`);
    });
}

/** Opens the run from the history (newest first) and checks what the row and the detail say. */
async function openFromHistory(page: Page, runId: string, outcome: string): Promise<void> {
  const row = page.locator(`[data-testid="history-row"][data-run="${runId}"]`);
  await row.waitFor({ timeout: 10_000 });
  await expect(row.locator('td.verdict').textContent()).resolves.toBe(outcome);
  await expect(page.locator('[data-testid="history-row"]').first().getAttribute('data-run')).resolves.toBe(runId);
  await row.click();
  await page.getByTestId('detail-outcome').filter({ hasText: outcome }).waitFor();
}

/** Clicks the detail's HTML export as a person does and reads the file the browser saved. */
async function downloadHtmlReport(page: Page, runId: string): Promise<string> {
  const [download] = await Promise.all([page.waitForEvent('download'), page.getByTestId('export-html').click()]);
  expect(download.suggestedFilename()).toBe(`${runId}.html`);
  const file = await download.path();
  return readFileSync(file, 'utf8');
}

describe('dashboard after runs that did not pass (headless Chromium, real stack)', () => {
  it('a FAIL: the outcome, the failing step with its limit and value, the history row, the report', async () => {
    const { page, controller, pageErrors } = await startStack('lightbundle-512g', 'dead-lanes-beyond-spares');
    const tid = (id: string) => page.getByTestId(id);
    const runId = await startFromPage(page, 'lightbundle-512g-qual', 'SN-DASH-FAIL');
    await waitOutcome(page, 'FAIL', 'dash-fail');
    expect(runId).toBeTruthy();
    const rec = controller.getRun(runId)!;
    expect(rec.outcome).toBe('FAIL');

    // the step that failed says FAIL, and why: the measurement against its limit
    const failed = rec.steps.filter((s) => s.verdict === 'FAIL').map((s) => s.id);
    expect(failed).toContain('remap');
    await expect(tid('step-verdict-remap').textContent()).resolves.toMatch(/^FAIL/);
    const remapRow = (await tid('step-remap').textContent()) ?? '';
    expect(remapRow).toMatch(/unrepaired_lanes/);
    const unrepaired = rec.steps
      .find((s) => s.id === 'remap')!
      .measurements.find((m) => m.spec.name === 'unrepaired_lanes');
    expect(unrepaired?.kind === 'scalar' && unrepaired.value).toBeGreaterThan(0);
    expect(remapRow).toContain(String(unrepaired?.kind === 'scalar' ? unrepaired.value : 'none'));
    await expect(tid('start-button').isDisabled()).resolves.toBe(false);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-dash-fail.png'), fullPage: true });

    await openFromHistory(page, runId, 'FAIL');
    await expect(tid('run-detail').textContent()).resolves.toMatch(/Spare-lane remap.*FAIL|remap.*FAIL/i);
    const html = await downloadHtmlReport(page, runId);
    expect(html).toMatch(/^<!doctype html>/i);
    expect(html).toContain(runId);
    expect(html).toContain('SN-DASH-FAIL');
    expect(html).toContain('FAIL');
    expect(pageErrors).toEqual([]);
  }, 150_000);

  it('an ERROR: the outcome, the error text (which instrument, what), the history row, the report', async () => {
    const { page, controller, pageErrors } = await startStack('mosaic-800g', 'receiver-hangs');
    const tid = (id: string) => page.getByTestId(id);
    const runId = await startFromPage(page, 'mosaic-800g-qual', 'SN-DASH-ERR');
    await waitOutcome(page, 'ERROR', 'dash-error');
    const rec = controller.getRun(runId)!;
    expect(rec.outcome).toBe('ERROR');
    expect(rec.error).toMatch(/pd-receiver/);

    // the run's error, as the record has it, is on the page where the outcome is
    await tid('run-error').filter({ hasText: rec.error! }).waitFor();
    // and the step that broke shows ERROR with its reason
    const broken = rec.steps.find((s) => s.verdict === 'ERROR')!;
    expect(broken.error).toMatch(/no reply/);
    await expect(tid(`step-verdict-${broken.id}`).textContent()).resolves.toContain(`ERROR (${broken.error})`);
    // the steps it never reached are not waiting to run
    const reached = new Set(rec.steps.map((s) => s.id));
    const never = ['crosstalk', 'ber', 'remap', 'energy', 'temperature', 'margins'].filter((id) => !reached.has(id));
    expect(never.length).toBeGreaterThan(0);
    for (const id of never)
      await expect(tid(`step-${id}`).locator('td').nth(2).textContent()).resolves.toMatch(/^not run\s*$/);
    await page.screenshot({ path: join(ARTIFACTS, 'e2e-dash-error.png'), fullPage: true });

    await openFromHistory(page, runId, 'ERROR');
    await expect(tid('detail-error').textContent()).resolves.toBe(rec.error);
    const html = await downloadHtmlReport(page, runId);
    expect(html).toContain(runId);
    expect(html).toContain('ERROR');
    expect(html).toContain(escapeHtml(rec.error));

    // a page opened afresh (reload) shows the same: the outcome and the error come from the snapshot
    await page.reload();
    await tid('connection-state').filter({ hasText: 'live' }).waitFor();
    await tid('run-outcome')
      .filter({ hasText: /^ERROR$/ })
      .waitFor();
    await tid('run-error').filter({ hasText: rec.error! }).waitFor();
    expect(pageErrors).toEqual([]);
  }, 150_000);
});
