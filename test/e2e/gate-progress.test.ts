/**
 * A BER gate's progress as a technician watches it: bits counted against the gate, errors so far and time left,
 * from the step through the event stream to the dashboard, on the real server (simulated mosaic-800g bench with
 * one weak lane that counts errors, orchestrator, SQLite store) in headless Chromium; twice on one bench.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import type { RunRecord } from '../../src/core/record.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { launchChromium } from '../helpers/browser.ts';
import { type Msg, WsClient } from '../server/helpers.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'gate-progress-token-0123456789';
const tmp = tempDirs();
let browser: BrowserContext;
let chromiumClose: (() => Promise<void>) | undefined;
let ctx: AppContext;
let srv: BenchServer;
let page: Page;

beforeAll(async () => {
  const dir = tmp.make();
  const faults = join(dir, 'weak-lane.yaml');
  writeFileSync(faults, 'name: weak-lane-7\nlink:\n  - { kind: weak-lanes, lanes: [7], factor: 0.3 }\n');
  ctx = await openContext({
    sim: { profile: 'mosaic-800g', timeScale: 1000, seed: 2, faults },
    db: join(dir, 'runs.db'),
  });
  srv = await createServer({ controller: new AppController(ctx), token: TOKEN, host: '127.0.0.1', port: 0 });
  const launched = await launchChromium('cpobench-gate-chromium-');
  browser = launched.browser;
  chromiumClose = launched.close;
  page = await browser.newPage();
  await page.goto(srv.url);
  await page.getByTestId('connection-state').filter({ hasText: 'live' }).waitFor();
}, 60_000);

afterAll(async () => {
  await page?.close();
  await chromiumClose?.();
  await srv?.close();
  await ctx?.close();
  tmp.cleanup();
});

const GATE_TEXT = /^([\d.e]+)\/([\d.e]+) bits · ([\d.e]+) errors? · (\d+)% · (\S+) left$/;

describe('BER gate progress', () => {
  it('shows bits against the gate, errors so far and time left while the gate runs, run after run', async () => {
    for (const dut of ['SN-GATE-1', 'SN-GATE-2']) {
      const ws = await WsClient.open(`${srv.url.replace(/^http/, 'ws')}/ws`);
      try {
        // a 1e-12 gate: 3.1e12 bits per lane, 1.5 s of wall time at the simulated bench's 1000x clock
        const res = await fetch(`${srv.url}/api/runs`, {
          method: 'POST',
          headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
          body: JSON.stringify({
            sequence: 'smoke',
            dut,
            operator: 'gate',
            params: { 'ber-screen': { targetBer: 1e-12 } },
          }),
        });
        expect(res.status).toBe(201);
        const id = ((await res.json()) as { id: string }).id;
        // what the page shows while the gate runs, sampled as a person would read it
        const seen: string[] = [];
        const cell = page.getByTestId('step-progress-ber-screen');
        await cell.waitFor({ timeout: 20_000 });
        for (;;) {
          const text = await cell.textContent({ timeout: 500 }).catch(() => null);
          if (text === null) break; // the step ended: the cell is gone
          if (!seen.includes(text)) seen.push(text);
          await page.waitForTimeout(30);
        }
        const fin = await ws.waitFor((m) => m.type === 'run.finished' && m.runId === id, 30_000);
        expect(fin.outcome).toBe('FAIL'); // lane 7 fails its BER
        const rec = (await (await fetch(`${srv.url}/api/runs/${id}`)).json()) as RunRecord;
        const step = rec.steps.find((s) => s.id === 'ber-screen')!;
        const values = (name: string) => {
          const m = step.measurements.find((x) => x.spec.name === name)!;
          return m.kind === 'lanes' ? (m.values as number[]) : [];
        };
        const gate = (step.measurements.find((x) => x.spec.name === 'gate_bits') as { value: number }).value;
        const totalErrors = values('ber_errors').reduce((a, b) => a + b, 0);
        expect(totalErrors).toBeGreaterThan(0);

        // the dashboard: the gate in bits, errors so far (more than none once lane 7 has counted), time left
        const gateRows = seen.map((t) => GATE_TEXT.exec(t)).filter((m) => m !== null);
        expect(gateRows.length, seen.join('\n')).toBeGreaterThanOrEqual(1);
        for (const m of gateRows) {
          expect(Number(m[2])).toBeCloseTo(gate, -11);
          expect(Number(m[3])).toBeLessThanOrEqual(totalErrors);
          expect(m[5]).toMatch(/^\d+(s|m\d\ds)$/);
        }
        expect(gateRows.some((m) => Number(m[3]) > 0 && Number(m[1]) < gate)).toBe(true);

        // the event stream: errors never go down, and the last progress is the gate's whole count
        const progress = ws.msgs.filter((m: Msg) => m.type === 'progress' && m.runId === id && m.step === 'ber-screen');
        const errs = progress.map((m) => m.errors as number);
        expect(errs.every((e, i) => typeof e === 'number' && (i === 0 || e >= errs[i - 1]!))).toBe(true);
        expect(progress.at(-1)).toMatchObject({ done: gate, total: gate, unit: 'bits', errors: totalErrors, etaS: 0 });
      } finally {
        ws.close();
      }
    }
  }, 120_000);
});
