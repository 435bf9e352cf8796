/**
 * The real server over the real controller: simulated mosaic-800g bench, orchestrator, SQLite store, on an
 * ephemeral port, driven over HTTP and the WebSocket stream.
 */
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type AppContext, openContext } from '../../src/app/context.ts';
import { AppController } from '../../src/app/controller.ts';
import type { RunRecord } from '../../src/core/record.ts';
import { type BenchServer, createServer } from '../../src/server/app.ts';
import { type Msg, WsClient } from '../server/helpers.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'e2e-token-0123456789abcdef';
const tmp = tempDirs();
let ctx: AppContext;
let controller: AppController;
let srv: BenchServer;

beforeAll(async () => {
  ctx = await openContext({
    sim: { profile: 'mosaic-800g', timeScale: 1000, seed: 1 },
    db: join(tmp.make(), 'runs.db'),
  });
  controller = new AppController(ctx);
  srv = await createServer({ controller, token: TOKEN, host: '127.0.0.1', port: 0 });
});

afterAll(async () => {
  const active = controller?.active;
  if (active) await active.abort('test cleanup');
  await srv?.close();
  await ctx?.close();
  tmp.cleanup();
});

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const get = (path: string) => fetch(`${srv.url}${path}`);
const post = (path: string, body: unknown, headers: Record<string, string> = auth) =>
  fetch(`${srv.url}${path}`, { method: 'POST', headers, body: JSON.stringify(body) });
const runCount = async () => ((await (await get('/api/runs')).json()) as unknown[]).length;

/** Runs smoke for `dut` to its end (each test that needs a finished run makes its own: any order works). */
async function runSmoke(dut: string): Promise<{ id: string; outcome: unknown; rec: RunRecord }> {
  const ws = await WsClient.open(`${srv.url.replace(/^http/, 'ws')}/ws`);
  try {
    const res = await post('/api/runs', { sequence: 'smoke', dut, operator: 'e2e' });
    expect(res.status).toBe(201);
    const id = ((await res.json()) as { id: string }).id;
    const fin = await ws.waitFor((m) => m.type === 'run.finished' && m.runId === id, 20_000);
    const rec = (await (await get(`/api/runs/${id}`)).json()) as RunRecord;
    return { id, outcome: fin.outcome, rec };
  } finally {
    ws.close();
  }
}

describe('HTTP API and WebSocket on the real stack', () => {
  it('reports health, five ready instruments and the built-in sequences', async () => {
    const h = await get('/api/health');
    expect(h.status).toBe(200);
    expect(await h.json()).toMatchObject({ ok: true, station: 'mosaic-800g-sim', running: null });

    const i = await get('/api/instruments');
    expect(i.status).toBe(200);
    const instruments = (await i.json()) as { role: string; state: string; resource: string; identity?: string }[];
    expect(instruments.map((x) => x.role).sort()).toEqual(
      ['led-driver', 'optical-meter', 'pd-receiver', 'power-analyzer', 'tec'].sort(),
    );
    for (const x of instruments) {
      expect(x.state, x.role).toBe('ready');
      expect(x.resource).toMatch(/^TCPIP0::127\.0\.0\.1::\d+::SOCKET$/);
      expect(x.identity).toBeTruthy();
    }
    // the resources are the simulated bench's own servers
    expect(instruments.map((x) => x.resource).sort()).toEqual(ctx.sim!.instruments.map((x) => x.resource).sort());

    const s = await get('/api/sequences');
    expect(s.status).toBe(200);
    const seqs = (await s.json()) as { name: string; steps: number }[];
    expect(seqs.find((x) => x.name === 'smoke')).toMatchObject({ steps: 3 });
    expect(seqs.map((x) => x.name)).toContain('mosaic-800g-qual');
  });

  it('refuses bad run requests: 401 without token, 400 naming the missing field, 404 unknown sequence', async () => {
    const before = await runCount();
    const noToken = await post(
      '/api/runs',
      { sequence: 'smoke', dut: 'SN-1', operator: 'e2e' },
      { 'content-type': 'application/json' },
    );
    expect(noToken.status).toBe(401);

    const noDut = await post('/api/runs', { sequence: 'smoke', operator: 'e2e' });
    expect(noDut.status).toBe(400);
    const b = (await noDut.json()) as { field?: string; message: string };
    expect(b.field).toBe('dut');
    expect(b.message).toMatch(/dut/);

    const blankDut = await post('/api/runs', { sequence: 'smoke', dut: '   ', operator: 'e2e' });
    expect(blankDut.status).toBe(400);
    expect(((await blankDut.json()) as { field?: string }).field).toBe('dut');

    const unknown = await post('/api/runs', { sequence: 'no-such-sequence', dut: 'SN-1', operator: 'e2e' });
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { message: string }).message).toMatch(/no-such-sequence/);

    // none of them started anything
    expect(await runCount()).toBe(before);
    expect(((await (await get('/api/health')).json()) as { running: unknown }).running).toBeNull();
  });

  it('runs smoke: 201, 409 while it holds the bench, live stream to PASS, HTML export with a heatmap', async () => {
    const ws = await WsClient.open(`${srv.url.replace(/^http/, 'ws')}/ws`);
    try {
      const first = await ws.waitFor(() => true, 5000);
      expect(first.type).toBe('snapshot');

      const res = await post('/api/runs', { sequence: 'smoke', dut: 'SN-SRV-1', operator: 'e2e' });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      expect(id).toBeTruthy();

      const busy = await post('/api/runs', { sequence: 'smoke', dut: 'SN-SRV-2', operator: 'e2e' });
      expect(busy.status).toBe(409);
      expect(((await busy.json()) as { message: string }).message).toContain(id);

      const started = await ws.waitFor((m) => m.type === 'run.started', 5000);
      expect((started.run as { id: string; dut: string }).id).toBe(id);
      expect((started.run as { dut: string }).dut).toBe('SN-SRV-1');
      const finished = await ws.waitFor((m) => m.type === 'run.finished', 20_000);
      expect(finished).toMatchObject({ runId: id, outcome: 'PASS' });

      // every message carries a monotonic seq
      const seqs = ws.msgs.map((m) => m.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]!).toBeGreaterThan(seqs[i - 1]!);
      const types = ws.msgs.map((m) => m.type);
      expect(types.indexOf('run.started')).toBeLessThan(types.indexOf('run.finished'));
      expect(types).toContain('step.started');
      expect(types).toContain('measurement');
      expect(types).toContain('step.finished');

      const lanes = ws.msgs.filter((m): m is Msg & { lanes: number[]; values: unknown[]; metric: string } => {
        return m.type === 'lanes' && m.runId === id;
      });
      expect(lanes.length).toBeGreaterThan(0);
      for (const f of lanes) {
        expect(f.lanes).toHaveLength(400);
        expect(f.values).toHaveLength(400);
      }
      const ber = lanes.find((f) => f.metric === 'ber_upper_bound');
      expect(ber).toBeDefined();
      expect(new Set(ber!.lanes)).toEqual(new Set(Array.from({ length: 400 }, (_, i) => i + 1)));
      expect(ber!.values.every((v) => typeof v === 'number' && v > 0 && v <= 1e-9)).toBe(true);

      // the bench is free again and the run is in history
      await expect((await get('/api/health')).json()).resolves.toMatchObject({ running: null });
      const runs = (await (await get('/api/runs')).json()) as { id: string; outcome: string }[];
      expect(runs.find((r) => r.id === id)?.outcome).toBe('PASS');
      const rec = (await (await get(`/api/runs/${id}`)).json()) as RunRecord;
      expect(rec.steps.map((s) => s.verdict)).toEqual(['PASS', 'PASS', 'PASS']);
      expect((await get('/api/runs/no-such-run')).status).toBe(404);

      const html = await get(`/api/runs/${id}/export?format=html`);
      expect(html.status).toBe(200);
      expect(html.headers.get('content-type')).toMatch(/^text\/html/);
      expect(html.headers.get('content-disposition')).toContain(`${id}.html`);
      const body = await html.text();
      expect(body).toMatch(/^<!doctype html>/i);
      expect(body).toContain(id);
      expect(body).toContain('SN-SRV-1');
      // an inline SVG heatmap of the 20x20 lanes: one cell per lane
      const heat = /<svg[^>]*class="heatmap"[\s\S]*?<\/svg>/.exec(body)?.[0];
      expect(heat).toBeDefined();
      expect(heat!.match(/<rect\b/g)?.length ?? 0).toBeGreaterThanOrEqual(400);
      // self-contained: no external scripts, styles or images
      expect(body).not.toMatch(/<script[^>]+src=/i);
      expect(body).not.toMatch(/<link[^>]+href=/i);
      expect(body).not.toMatch(/<img[^>]+src="(?!data:)/i);
      expect(body).not.toMatch(/(?:src|href)="https?:/i);
    } finally {
      ws.close();
    }
  });

  it('a second run on the same bench passes as the first did (the last safe state must not leak into it)', async () => {
    // `cpobench serve` / `npm start` keep one bench for many runs: a technician's second smoke run on a good
    // DUT must pass like the first one
    for (const [i, dut] of ['SN-SRV-2a', 'SN-SRV-2b'].entries()) {
      const { outcome, rec } = await runSmoke(dut);
      const steps = rec.steps.map((s) => `${s.id}:${s.verdict}`).join(' ');
      expect(outcome, `run ${i + 1}: ${steps} ${rec.error ?? ''}`).toBe('PASS');
    }
  });

  it('a new client gets a snapshot carrying the last run and instruments', async () => {
    await runSmoke('SN-SRV-SNAP');
    const ws = await WsClient.open(`${srv.url.replace(/^http/, 'ws')}/ws`);
    try {
      const snap = await ws.waitFor(() => true, 5000);
      expect(snap.type).toBe('snapshot');
      const text = JSON.stringify(snap);
      expect(text).toContain('SN-SRV-SNAP');
      for (const role of ['led-driver', 'pd-receiver', 'power-analyzer', 'optical-meter', 'tec'])
        expect(text).toContain(role);
    } finally {
      ws.close();
    }
  });
});

describe('POST /api/runs params on the real stack', () => {
  const runCount = async () => ((await (await get('/api/runs')).json()) as unknown[]).length;
  const refused = async (body: Record<string, unknown>) => {
    const r = await post('/api/runs', { sequence: 'smoke', dut: 'SN-PARAMS', operator: 'e2e', ...body });
    return { status: r.status, body: (await r.json()) as { field?: string; message: string } };
  };

  it('refuses bad params with 400 naming the field, checked as the sequence file is; nothing starts', async () => {
    const before = await runCount();
    const targetBer = await refused({ params: { 'ber-screen': { targetBer: 2 } } });
    expect(targetBer.status).toBe(400);
    expect(targetBer.body.field).toBe('params.ber-screen.targetBer');
    expect(targetBer.body.message).toMatch(/^params\.ber-screen\.targetBer: .*1.*, got 2$/);

    const lane = await refused({ params: { 'ber-screen': { lanes: [1, 999] } } });
    expect(lane).toMatchObject({
      status: 400,
      body: {
        field: 'params.ber-screen.lanes[1]',
        message: 'params.ber-screen.lanes[1]: expected a lane of the station, 1..400, got 999',
      },
    });
    const unknownParam = await refused({ params: { 'ber-screen': { turbo: true } } });
    expect(unknownParam).toMatchObject({ status: 400, body: { field: 'params.ber-screen.turbo' } });
    const unknownStep = await refused({ params: { 'no-such-step': { rate: 2e9 } } });
    expect(unknownStep).toMatchObject({ status: 400, body: { field: 'params.no-such-step' } });
    expect(unknownStep.body.message).toMatch(/inventory, ber-screen, energy/);
    const notAMapping = await refused({ params: { 'ber-screen': 'fast' } });
    expect(notAMapping).toMatchObject({ status: 400, body: { field: 'params.ber-screen' } });
    const unknownField = await refused({ priority: 'high' });
    expect(unknownField).toMatchObject({
      status: 400,
      body: { field: 'priority', message: 'priority: unknown field' },
    });

    expect(await runCount()).toBe(before);
    expect(((await (await get('/api/health')).json()) as { running: unknown }).running).toBeNull();
  });

  it('applies params to the named step, merged over the sequence file', async () => {
    const ws = await WsClient.open(`${srv.url.replace(/^http/, 'ws')}/ws`);
    try {
      const res = await post('/api/runs', {
        sequence: 'smoke',
        dut: 'SN-PARAMS',
        operator: 'e2e',
        params: { 'ber-screen': { lanes: [3, 1, 2] } },
      });
      expect(res.status).toBe(201);
      const { id } = (await res.json()) as { id: string };
      await ws.waitFor((m) => m.type === 'run.finished' && m.runId === id, 20_000);
      const rec = (await (await get(`/api/runs/${id}`)).json()) as RunRecord;
      const ber = rec.steps.find((st) => st.id === 'ber-screen')!;
      const bound = ber.measurements.find((m) => m.spec.name === 'ber_upper_bound');
      // only the three lanes asked for were gated; the file's other params (rate, limits) still hold
      expect(bound?.kind === 'lanes' && bound.lanes).toEqual([1, 2, 3]);
      expect(bound?.spec.limits?.high).toBe(1e-9);
      // the record does not claim the unmodified file's hash
      const plain = (await (await get('/api/runs')).json()) as { id: string }[];
      const other = (await (await get(`/api/runs/${plain.find((r) => r.id !== id)!.id}`)).json()) as RunRecord;
      expect(rec.sequence.hash).not.toBe(other.sequence.hash);
    } finally {
      ws.close();
    }
  });
});
