/**
 * What a person sees on the dashboard, in headless Chromium against the real server and simulated bench: a
 * passing MOSAIC qualification with every chart drawn (points, labelled axes, the selected lane everywhere), the
 * lane map at the coordinates asked for, the page at 800 px; a failing LightBundle run with its failures first and
 * its dead lanes marked; a lost server shown as an unknown state with the controls off.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import type { RunRecord } from '../../src/core/record.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { ARTIFACTS, launchChromium } from '../helpers/browser.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'e2e-views-token-0123456789';
const tmp = tempDirs();
let browser: BrowserContext;
let chromiumClose: (() => Promise<void>) | undefined;
let ctx: AppContext | undefined;
let controller: AppController | undefined;
let srv: BenchServer | undefined;
let page: Page;
const pageErrors: string[] = [];

beforeAll(async () => {
  const launched = await launchChromium('cpobench-views-chromium-');
  browser = launched.browser;
  chromiumClose = launched.close;
}, 60_000);

afterAll(async () => {
  await chromiumClose?.();
  tmp.cleanup();
});

afterEach(async () => {
  await page?.close();
  const active = controller?.active;
  if (active) await active.abort('test cleanup');
  await srv?.close();
  await ctx?.close();
  srv = undefined;
  ctx = undefined;
});

async function openBench(profile: string, faults?: string): Promise<void> {
  ctx = await openContext({
    sim: { profile, timeScale: 1000, seed: 1, ...(faults ? { faults } : {}) },
    db: join(tmp.make(), 'runs.db'),
  });
  controller = new AppController(ctx);
  srv = await createServer({ controller, token: TOKEN, host: '127.0.0.1', port: 0 });
  pageErrors.length = 0;
  page = await browser.newPage();
  await page.setViewportSize({ width: 1280, height: 800 });
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => {
    if (m.type() === 'error') pageErrors.push(m.text());
  });
  await page.goto(srv.url);
  await tid('connection-state').filter({ hasText: 'live' }).waitFor();
}

const tid = (id: string) => page.getByTestId(id);

async function start(sequence: string, dut: string): Promise<void> {
  await tid('token-input').fill(TOKEN);
  await tid('token-save').click();
  await page.locator(`[data-testid="sequence-select"] option[value="${sequence}"]`).waitFor({ state: 'attached' });
  await tid('sequence-select').selectOption(sequence);
  await tid('dut-input').fill(dut);
  await tid('operator-input').fill('views');
  await tid('start-button').click();
}

async function chart(id: string): Promise<{ points: number; axes: string[]; range: number[] }> {
  const el = tid(id);
  const points = Number((await el.getAttribute('data-points')) ?? 0);
  const axes = ((await el.getAttribute('data-axes')) ?? '').split('|');
  const range = ((await el.getAttribute('data-range')) ?? '').split(',').filter(Boolean).map(Number);
  return { points, axes, range };
}

/** The series labels in a chart's legend, in order (the x series left out). */
async function legend(id: string): Promise<string[]> {
  const labels = await tid(id)
    .locator('.u-legend .u-series .u-label')
    .evaluateAll((els) => els.map((e) => e.textContent ?? ''));
  return labels.slice(1);
}

async function seriesPoints(id: string): Promise<number[]> {
  return ((await tid(id).getAttribute('data-series-points')) ?? '').split('|').filter(Boolean).map(Number);
}

/** Moves the pointer over a lane of a 20-column map (row-major) and returns the tooltip text. */
async function hoverLane(lane: number, rows: number, cols: number): Promise<string> {
  const box = (await tid('lane-map').boundingBox())!;
  const r = Math.floor((lane - 1) / cols);
  const c = (lane - 1) % cols;
  await page.mouse.move(box.x + (box.width / cols) * (c + 0.5), box.y + (box.height / rows) * (r + 0.5));
  await tid('lane-tooltip')
    .filter({ hasText: `physical lane ${lane} ` })
    .waitFor();
  return (await tid('lane-tooltip').textContent()) ?? '';
}

describe('the dashboard as a person sees it', () => {
  it('a passing MOSAIC qualification: every chart drawn with labelled axes, the lane map at the chosen coordinates, usable at 800 px', async () => {
    await openBench('mosaic-800g');
    // the last choice of sequence is remembered across a reload
    await start('mosaic-800g-qual', 'SN-VIEWS-1');
    await tid('run-outcome').filter({ hasText: 'PASS' }).waitFor({ timeout: 60_000 });
    await expect(tid('failure-banner').isHidden()).resolves.toBe(true);

    // each chart has data points and labelled axes with units
    const li = await chart('chart-li');
    expect(li.points).toBeGreaterThan(0);
    expect(li.axes).toEqual(['drive current (mA)', 'received power (µW)']);
    // every temperature overlaid: the nominal sweep as measured, each temperature's nested L-I from its stored fit
    // (the temperature sweep's L-I streams no frame per point), each curve with points
    expect(await legend('chart-li')).toEqual([
      'all lanes min',
      'all lanes max',
      'selected lane (nominal)',
      'selected lane 25 °C (fit)',
      'selected lane 45 °C (fit)',
      'selected lane 65 °C (fit)',
      'selected lane 85 °C (fit)',
    ]);
    const perSeries = await seriesPoints('chart-li');
    expect(perSeries).toHaveLength(7);
    for (const n of perSeries) expect(n).toBeGreaterThanOrEqual(4);
    const ber = await chart('chart-ber');
    expect(ber.axes).toEqual(['gate / screen', 'BER (95 % upper bound)']);
    expect(ber.points).toBe(2 * 5); // the 1e-12 gate and four 1e-9 screens, each with its target: 5 + 5 points
    const wf = await chart('chart-waterfall');
    expect(wf.points).toBeGreaterThan(4);
    expect(wf.axes[1]).toBe('BER (95 % upper bound)');
    const energy = await chart('chart-energy');
    expect(energy.axes).toEqual(['rail', 'energy per bit (pJ/bit)']);
    expect(energy.points).toBe(2 * 5); // 4 rails + the module, each with the limit
    expect(energy.range[1]).toBeCloseTo(6.6); // the limit is drawn
    // the TEC as measured: the four setpoints reached, never a drop to 0 °C between them
    const tec = await chart('chart-tec');
    expect(tec.axes[1]).toBe('TEC temperature (°C)');
    expect(tec.points).toBe(4);
    expect(tec.range[0]).toBeGreaterThan(20);
    expect(tec.range[1]).toBeGreaterThan(80);

    // the BER map shows the 1e-12 qualification by default, not the last (85 °C) 1e-9 screen
    await tid('metric-select').selectOption('ber_upper_bound');
    const shown = await tid('coord-select').evaluate((s: HTMLSelectElement) => s.selectedOptions[0]?.textContent);
    expect(shown).toBe('Per-lane BER, 1e-12 at 95 %, PRBS31');
    const choices = await tid('coord-select').evaluate((s: HTMLSelectElement) =>
      Array.from(s.options).map((o) => o.textContent),
    );
    expect(choices).toContain('BER screen 1e-9 at 95 % @ 85 °C');
    await tid('coord-select').selectOption({ label: 'BER screen 1e-9 at 95 % @ 85 °C' });
    const tip = await hoverLane(57, 20, 20);
    expect(tip).toContain('logical #56');
    expect(tip).toMatch(/ber_upper_bound\s+[\d.e-]+ {2}\(BER screen 1e-9 at 95 % @ 85 °C\)/);

    // a lane clicked on the map is charted everywhere
    await page.mouse.down();
    await page.mouse.up();
    await tid('li-lane').filter({ hasText: /^57 / }).waitFor();
    await expect(tid('ber-lane').textContent()).resolves.toMatch(/^57 /);
    await expect(tid('waterfall-lane').textContent()).resolves.toMatch(/^57 /);

    // a nested step shows each setpoint with its verdict, once
    await expect(tid('step-verdict-t-li').textContent()).resolves.toBe('25 °C PASS 45 °C PASS 65 °C PASS 85 °C PASS ');
    await page.screenshot({ path: join(ARTIFACTS, 'views-pass-1280.png'), fullPage: true });

    // 800 px wide: nothing of the charts off-screen
    await page.setViewportSize({ width: 800, height: 1000 });
    await page.waitForTimeout(300);
    for (const id of ['chart-li', 'chart-ber', 'lane-map', 'step-timeline']) {
      const b = (await tid(id).boundingBox())!;
      expect(b.x, id).toBeGreaterThanOrEqual(0);
      expect(b.x + b.width, id).toBeLessThanOrEqual(800);
    }
    await page.screenshot({ path: join(ARTIFACTS, 'views-pass-800.png'), fullPage: true });

    // reload: the sequence chosen last is offered first
    await page.reload();
    await tid('connection-state').filter({ hasText: 'live' }).waitFor();
    await page.locator('[data-testid="sequence-select"] option').first().waitFor({ state: 'attached' });
    await expect(tid('sequence-select').inputValue()).resolves.toBe('mosaic-800g-qual');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('a failing LightBundle run: failures first, naming the measurement and lanes; dead lanes marked; info not green', async () => {
    await openBench('lightbundle-512g', 'dead-lanes-beyond-spares');
    await start('lightbundle-512g-qual', 'SN-VIEWS-2');
    await tid('run-outcome').filter({ hasText: 'FAIL' }).waitFor({ timeout: 60_000 });
    const banner = tid('failure-banner');
    await expect(banner.isVisible()).resolves.toBe(true);
    const text = (await banner.textContent()) ?? '';
    expect(text).toContain('5 failing, 0 marginal'); // open/short, lane map, crosstalk, remap ×2
    expect(text).toContain('Spare-lane remap and re-test: unrepaired_lanes = 18, limit ≤ 0');
    expect(text).toMatch(
      /Lane map \(walking-one\), all 320 lanes including spares: lane_map_ok on 81 lane\(s\) \(limit ≥ 1\)/,
    );
    // a lane named in the banner is one click from every chart
    await banner.getByRole('button', { name: 'lane 237 dead' }).click();
    await tid('li-lane')
      .filter({ hasText: /^237 \(logical #189\) dead$/ })
      .waitFor();

    // dead lanes are marked on the map and named in the tooltip, with both numberings
    await tid('metric-select').selectOption('lane_map_ok');
    const tip = await hoverLane(1, 16, 20);
    expect(tip).toContain('physical lane 1 · row 1, col 1');
    expect(tip).toContain('dead; remapped to spare 5');
    expect(tip).toContain('logical: none');
    const spare = await hoverLane(5, 16, 20);
    expect(spare).toContain('spare in use for lane 1');
    expect(spare).toContain('logical #0');
    await expect(tid('legend-dead').textContent()).resolves.toContain('dead');
    // lane 1 is drawn dead (black, crossed out in red), not in the colour of a value
    const px = await page.evaluate(() => {
      const c = document.querySelector('[data-testid="lane-map"]') as HTMLCanvasElement;
      const w = c.width / 20;
      const h = c.height / 16;
      return Array.from(c.getContext('2d')!.getImageData(Math.floor(w / 2), Math.floor(h * 0.2), 1, 1).data);
    });
    expect(px.slice(0, 3)).toEqual([0, 0, 0]);

    // lanes_dead = 81 is information (no limit): not shown as a pass
    const dead = tid('step-lane-map').locator('.meas span', { hasText: 'lanes_dead = 81' });
    await expect(dead.getAttribute('class')).resolves.toBe('info');
    await page.screenshot({ path: join(ARTIFACTS, 'views-fail.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('L-I outliers: a lane weaker than the array (not failing) is marked on the chart and named', async () => {
    const dir = tmp.make();
    const faults = join(dir, 'weak-57.yaml');
    // lane 57 at 80 % of its light: about −1 dB, inside the 3 dB failing rule, outside the array's robust band
    writeFileSync(faults, 'name: weak-57\nlink:\n  - { kind: weak-lanes, lanes: [57], factor: 0.8 }\n');
    await openBench('mosaic-800g', faults);
    await start('mosaic-800g-qual', 'SN-VIEWS-LI');
    await tid('run-outcome')
      .filter({ hasText: /PASS|FAIL/ })
      .waitFor({ timeout: 90_000 });
    await expect(tid('li-outliers').textContent()).resolves.toMatch(/^outliers \(power at I_op\): lane 57 -[\d.]+ dB$/);
    const labels = await legend('chart-li');
    expect(labels.at(-1)).toBe('outlier lane 57');
    // drawn: the outlier's curve has the nominal sweep's points
    const perSeries = await seriesPoints('chart-li');
    expect(perSeries.at(-1)).toBe(perSeries[2]);
    expect(perSeries.at(-1)).toBeGreaterThanOrEqual(4);
    await page.screenshot({ path: join(ARTIFACTS, 'views-li-outlier.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('a LightBundle qualification draws the bathtub of the selected lane, reset for the next run on the bench', async () => {
    await openBench('lightbundle-512g');
    for (const dut of ['SN-TUB-1', 'SN-TUB-2']) {
      await start('lightbundle-512g-qual', dut);
      await tid('run-outcome').filter({ hasText: 'RUNNING' }).waitFor({ timeout: 10_000 });
      // a new run starts with an empty bathtub (the previous run's is gone)
      if (dut === 'SN-TUB-2') expect((await chart('chart-bathtub')).points).toBe(0);
      await tid('run-outcome')
        .filter({ hasText: /PASS|FAIL/ })
        .waitFor({ timeout: 90_000 });
      const tub = await chart('chart-bathtub');
      expect(tub.axes).toEqual(['decision threshold (fraction of the eye)', 'BER (counted)']);
      // thresholds on both sides of the eye, for the median lane and the selected one: BER falling decades
      expect(tub.points).toBeGreaterThanOrEqual(8);
      expect(tub.range[0]).toBeGreaterThan(0);
      expect(tub.range[1] / tub.range[0]).toBeGreaterThan(1e3);
      await expect(tid('bathtub-lane').textContent()).resolves.toMatch(/^1 /);
    }
    // the selected lane is the one drawn bold: lane 23 clicked on the map, its own points (those that counted errors)
    const runs = (await (await fetch(`${srv!.url}/api/runs`)).json()) as { id: string }[];
    const rec = (await (await fetch(`${srv!.url}/api/runs/${runs[0]!.id}`)).json()) as RunRecord;
    const counted = (lane: number) =>
      rec.steps
        .find((s) => s.id === 'bathtub')!
        .measurements.filter((m) => m.spec.name === 'bathtub_ber' && m.kind === 'lanes')
        .filter((m) => {
          const lm = m as { lanes: number[]; values: (number | null)[] };
          return (lm.values[lm.lanes.indexOf(lane)] ?? 0) > 0;
        }).length;
    const series = async () =>
      ((await tid('chart-bathtub').getAttribute('data-series-points')) ?? '').split('|').map(Number);
    expect((await series())[1]).toBe(counted(1));
    await hoverLane(23, 16, 20);
    await page.mouse.down();
    await page.mouse.up();
    await tid('bathtub-lane').filter({ hasText: /^23\b/ }).waitFor();
    expect(counted(23)).toBeGreaterThanOrEqual(4);
    expect((await series())[1]).toBe(counted(23));
    await page.screenshot({ path: join(ARTIFACTS, 'views-bathtub.png'), fullPage: true });
    expect(pageErrors).toEqual([]);
  }, 240_000);

  it('a lost server: the run state is unknown and the controls are off until it is back', async () => {
    await openBench('mosaic-800g');
    await start('mosaic-800g-qual', 'SN-VIEWS-3');
    await tid('run-outcome').filter({ hasText: 'RUNNING' }).waitFor({ timeout: 10_000 });
    await expect(tid('abort-button').isDisabled()).resolves.toBe(false);
    srv!.hub.close();
    await srv!.close();
    await tid('run-outcome').filter({ hasText: 'UNKNOWN' }).waitFor({ timeout: 10_000 });
    await expect(tid('abort-button').isDisabled()).resolves.toBe(true);
    await expect(tid('start-button').isDisabled()).resolves.toBe(true);
    await expect(tid('conn-note').isVisible()).resolves.toBe(true);
    await page.screenshot({ path: join(ARTIFACTS, 'views-lost.png'), fullPage: true });
  }, 60_000);
});
