/**
 * The PDF through the API: `GET /api/runs/:id/export?format=pdf` on the real server (simulated bench, orchestrator,
 * SQLite store) prints the run's HTML report with headless Chromium, for one run after another; the OpenAPI
 * document offers it; a client that goes away ends the printing (no Chromium left running).
 */
import { execFileSync } from 'node:child_process';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { until, WsClient } from '../server/helpers.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'export-pdf-token-0123456789';
const tmp = tempDirs();
let ctx: AppContext;
let srv: BenchServer;

beforeAll(async () => {
  ctx = await openContext({ sim: { profile: 'mosaic-800g', timeScale: 1000, seed: 5 }, db: join(tmp.make(), 'r.db') });
  srv = await createServer({ controller: new AppController(ctx), token: TOKEN, host: '127.0.0.1', port: 0 });
}, 60_000);

afterAll(async () => {
  await srv?.close();
  await ctx?.close();
  tmp.cleanup();
});

async function runSmoke(dut: string): Promise<string> {
  const ws = await WsClient.open(`${srv.url.replace(/^http/, 'ws')}/ws`);
  try {
    const res = await fetch(`${srv.url}/api/runs`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ sequence: 'smoke', dut, operator: 'pdf' }),
    });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    await ws.waitFor((m) => m.type === 'run.finished' && m.runId === id, 30_000);
    return id;
  } finally {
    ws.close();
  }
}

/** This process's Chromium children printing a cpobench PDF. */
function pdfPrinters(): string[] {
  const out = execFileSync('ps', ['-o', 'pid=,args=', '--ppid', String(process.pid)], { encoding: 'utf8' });
  return out.split('\n').filter((l) => l.includes('--print-to-pdf'));
}

describe('GET /api/runs/:id/export?format=pdf', () => {
  it('serves each run as a PDF printed from its HTML report, run after run', async () => {
    for (const dut of ['SN-PDF-1', 'SN-PDF-2']) {
      const id = await runSmoke(dut);
      const res = await fetch(`${srv.url}/api/runs/${encodeURIComponent(id)}/export?format=pdf`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/pdf');
      expect(res.headers.get('content-disposition')).toBe(
        `attachment; filename="${id.replace(/[^A-Za-z0-9._-]/g, '_')}.pdf"`,
      );
      const pdf = Buffer.from(await res.arrayBuffer());
      expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
      expect(pdf.subarray(-8).toString()).toMatch(/%%EOF\s*$/);
      const text = pdf.toString('latin1');
      // the HTML report's <title>, so the PDF is this run's
      expect(text).toContain(`/Title (cpobench smoke ${dut} PASS)`);
      expect(text.match(/\/Type \/Page\b/g)!.length).toBeGreaterThanOrEqual(1);
    }
  }, 120_000);

  it('is offered by the OpenAPI document, and a client that goes away stops the printing', async () => {
    const doc = (await (await fetch(`${srv.url}/api/openapi.json`)).json()) as {
      paths: Record<string, { get: { parameters: { name: string; schema: { enum: string[] } }[] } }>;
    };
    const format = doc.paths['/api/runs/{id}/export']!.get.parameters.find((p) => p.name === 'format');
    expect(format?.schema.enum).toEqual(['json', 'csv', 'junit', 'html', 'parquet', 'pdf']);

    const id = await runSmoke('SN-PDF-GONE');
    // a Chromium that never finishes printing (left alone, it would be killed after 60 s)
    const dir = tmp.make();
    const hung = join(dir, 'hung-chromium');
    writeFileSync(hung, `#!${process.execPath}\nsetTimeout(() => {}, 600_000);\n`);
    chmodSync(hung, 0o755);
    const before = process.env.CPOBENCH_CHROMIUM;
    process.env.CPOBENCH_CHROMIUM = hung;
    try {
      const gone = new AbortController();
      const req = fetch(`${srv.url}/api/runs/${encodeURIComponent(id)}/export?format=pdf`, { signal: gone.signal });
      req.catch(() => {});
      await until(() => pdfPrinters().length > 0, 20_000, 'Chromium printing');
      gone.abort();
      await until(() => pdfPrinters().length === 0, 10_000, 'Chromium killed');
    } finally {
      if (before === undefined) delete process.env.CPOBENCH_CHROMIUM;
      else process.env.CPOBENCH_CHROMIUM = before;
    }
    // the server still serves
    expect((await fetch(`${srv.url}/api/runs/${encodeURIComponent(id)}/export?format=json`)).status).toBe(200);
  }, 120_000);
});
