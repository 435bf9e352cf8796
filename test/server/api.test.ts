import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { BenchServer } from '../../src/server/app.ts';
import { createServer, isLoopback } from '../../src/server/app.ts';
import type { FakeController } from './fake-controller.ts';
import { FakeController as Fake } from './fake-controller.ts';
import { startBench, TOKEN, until, WsClient, wsUrl } from './helpers.ts';

let srv: BenchServer;
let ctl: FakeController;
afterEach(async () => {
  const running = ctl?.health().running;
  if (running) await ctl.abortRun(running, 'test');
  await ctl?.idle().catch(() => {});
  await srv?.close();
});

const auth = { authorization: `Bearer ${TOKEN}` };
const json = { 'content-type': 'application/json' };

async function post(path: string, body: unknown, headers: Record<string, string> = { ...auth, ...json }) {
  const res = await fetch(srv.url + path, {
    method: 'POST',
    headers,
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
}

const goodRun = { sequence: 'mosaic-qual', dut: 'SN-0001', operator: 'ada' };

describe('read-only API', () => {
  it('serves health, instruments, sequences with their schemas', async () => {
    ({ srv, ctl } = await startBench());
    const health = await (await fetch(`${srv.url}/api/health`)).json();
    expect(health).toEqual({ ok: true, station: 'sim-mosaic', version: '0.1.0-test', running: null });
    const inst = (await (await fetch(`${srv.url}/api/instruments`)).json()) as Array<Record<string, string>>;
    expect(inst.map((i) => i.role)).toEqual(['led-driver', 'pd-receiver', 'power-analyzer', 'tec']);
    expect(inst[0]).toMatchObject({ resource: expect.stringMatching(/^TCPIP0::/), state: 'idle' });
    const seqs = await (await fetch(`${srv.url}/api/sequences`)).json();
    expect(seqs).toContainEqual(expect.objectContaining({ name: 'mosaic-qual', steps: 5 }));
  });

  it('answers unknown routes and traversal attempts with JSON 404, never touching the filesystem', async () => {
    ({ srv, ctl } = await startBench());
    for (const p of [
      '/nope',
      '/..%2fpackage.json',
      '/dashboards/../package.json',
      '/vendor/uPlot.esm.js',
      '/%2e%2e/README.md',
    ]) {
      const res = await fetch(srv.url + p);
      expect(res.status, p).toBe(404);
      expect(((await res.json()) as { message: string }).message).toMatch(/no route/);
    }
  });

  it('serves the dashboard and uPlot from the whitelist with a CSP', async () => {
    ({ srv, ctl } = await startBench());
    const index = await fetch(`${srv.url}/`);
    expect(index.status).toBe(200);
    expect(index.headers.get('content-type')).toMatch(/text\/html/);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await index.text()).toContain('data-testid="lane-map"');
    const up = await fetch(`${srv.url}/vendor/uplot.js`);
    expect(up.status).toBe(200);
    expect(up.headers.get('content-type')).toMatch(/javascript/);
    expect(await up.text()).toMatch(/export \{ uPlot as default \}|export default/);
    expect((await fetch(`${srv.url}/vendor/uplot.css`)).status).toBe(200);
  });

  it('rejects a foreign Host header (DNS rebinding) on loopback binds', async () => {
    ({ srv, ctl } = await startBench());
    const port = new URL(srv.url).port;
    const status = await new Promise<number>((resolve, reject) => {
      const req = request(
        { host: '127.0.0.1', port, path: '/api/health', headers: { host: `evil.example:${port}` } },
        (res) => {
          res.resume();
          resolve(res.statusCode ?? 0);
        },
      );
      req.on('error', reject);
      req.end();
    });
    expect(status).toBe(403);
  });

  it('needs the token for reads when reads are not open (non-loopback bind)', async () => {
    expect(isLoopback('127.0.0.1')).toBe(true);
    expect(isLoopback('::1')).toBe(true);
    expect(isLoopback('0.0.0.0')).toBe(false);
    expect(isLoopback('192.168.1.20')).toBe(false);
    ({ srv, ctl } = await startBench({}, { openReads: false }));
    expect((await fetch(`${srv.url}/api/runs`)).status).toBe(401);
    expect((await fetch(`${srv.url}/api/instruments`, { headers: auth })).status).toBe(200);
    expect((await fetch(`${srv.url}/`)).status).toBe(200); // the page itself carries no data
    await expect(WsClient.open(wsUrl(srv))).rejects.toThrow(/401/);
    const c = await WsClient.open(wsUrl(srv, `?token=${TOKEN}`));
    expect((await c.waitFor(() => true)).type).toBe('snapshot');
    c.close();
  });

  it('refuses a server without a usable token', async () => {
    await expect(createServer({ controller: new Fake(), token: '', port: 0 })).rejects.toThrow(/token/);
  });
});

describe('control API', () => {
  it('401 without or with a wrong token, before looking at the body', async () => {
    ({ srv, ctl } = await startBench());
    const none = await post('/api/runs', goodRun, json);
    expect(none.status).toBe(401);
    expect(none.body.message).toMatch(/token/);
    expect((await post('/api/runs', goodRun, { ...json, authorization: 'Bearer wrong-token-xxxxxxxx' })).status).toBe(
      401,
    );
    expect((await post('/api/runs', {}, json)).status).toBe(401);
    expect((await post('/api/runs/x/abort', {}, json)).status).toBe(401);
    expect((await post('/api/runs/x/prompts/p1', { answer: true }, json)).status).toBe(401);
    expect(ctl.started).toHaveLength(0);
  });

  it('400 naming the missing or invalid field', async () => {
    ({ srv, ctl } = await startBench());
    for (const field of ['sequence', 'dut', 'operator'] as const) {
      const body: Record<string, unknown> = { ...goodRun };
      delete body[field];
      const r = await post('/api/runs', body);
      expect(r.status, field).toBe(400);
      expect(r.body.field).toBe(field);
      expect(r.body.message).toContain(field);
    }
    const wrongType = await post('/api/runs', { ...goodRun, dut: 42 });
    expect(wrongType).toMatchObject({ status: 400, body: { field: 'dut' } });
    const empty = await post('/api/runs', { ...goodRun, operator: '' });
    expect(empty).toMatchObject({ status: 400, body: { field: 'operator' } });
    // the same check as `cpobench run --dut/--operator` (src/core/run-labels.ts)
    const control = await post('/api/runs', { ...goodRun, dut: 'SN\u001b[2J' });
    expect(control).toMatchObject({
      status: 400,
      body: { field: 'dut', message: 'dut: no control characters, got \\x1b at position 3 of "SN\\x1b[2J"' },
    });
    const blank = await post('/api/runs', { ...goodRun, operator: '   ' });
    expect(blank).toMatchObject({
      status: 400,
      body: { field: 'operator', message: 'operator: an operator name is required' },
    });
    const long = await post('/api/runs', { ...goodRun, dut: 'S'.repeat(201) });
    expect(long).toMatchObject({
      status: 400,
      body: { field: 'dut', message: 'dut: at most 200 characters, got 201' },
    });
    const params = await post('/api/runs', { ...goodRun, params: 'fast' });
    expect(params).toMatchObject({ status: 400, body: { field: 'params' } });
    // the DUT's lot, wafer and die: optional, checked as `cpobench run --lot/--wafer/--die` and hub jobs check them
    const lot = await post('/api/runs', { ...goodRun, lot: 'L\u0007' });
    expect(lot).toMatchObject({
      status: 400,
      body: { field: 'lot', message: 'lot: no control characters, got \\x07 at position 2 of "L\\x07"' },
    });
    const wafer = await post('/api/runs', { ...goodRun, wafer: 7 });
    expect(wafer).toMatchObject({ status: 400, body: { field: 'wafer' } });
    const die = await post('/api/runs', { ...goodRun, die: { x: 1, y: 2.5 } });
    expect(die).toMatchObject({
      status: 400,
      body: { field: 'die', message: 'die: y: expected an integer within ±100000, got 2.5' },
    });
    const dieExtra = await post('/api/runs', { ...goodRun, die: { x: 1, y: 2, z: 0 } });
    expect(dieExtra).toMatchObject({
      status: 400,
      body: { field: 'die', message: 'die: expected only x and y, got z' },
    });
    // the controller's own validation (ValidationError) comes back the same way
    const ctlInvalid = await post('/api/runs', { ...goodRun, dut: 'bad dut!' });
    expect(ctlInvalid).toMatchObject({ status: 400, body: { field: 'dut', error: 'Bad Request' } });
    const malformed = await post('/api/runs', '{"sequence": ');
    expect(malformed.status).toBe(400);
    expect(typeof malformed.body.message).toBe('string');
    expect(ctl.started).toHaveLength(0);
  });

  it('404 for an unknown sequence, 413 for an oversize body', async () => {
    ({ srv, ctl } = await startBench());
    const unknown = await post('/api/runs', { ...goodRun, sequence: 'no-such-seq' });
    expect(unknown.status).toBe(404);
    expect(unknown.body.message).toMatch(/no-such-seq/);
    const big = await post('/api/runs', { ...goodRun, params: { blob: 'x'.repeat(70 * 1024) } });
    expect(big.status).toBe(413);
    expect(big.body).toMatchObject({ statusCode: 413, error: 'Payload Too Large' });
    expect(ctl.started).toHaveLength(0);
  });

  it('201 starts a run, 409 while it holds the bench, abort finishes it ABORTED with instruments safe', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 20, berTicks: 1000 }));
    const first = await post('/api/runs', goodRun);
    expect(first.status).toBe(201);
    const id = first.body.id as string;
    expect(id).toMatch(/SN-0001/);
    expect((await (await fetch(`${srv.url}/api/health`)).json()).running).toBe(id);
    const second = await post('/api/runs', { ...goodRun, dut: 'SN-0002' });
    expect(second.status).toBe(409);
    expect(second.body.message).toContain(id);
    expect((await post('/api/runs/nope/abort', {})).status).toBe(404);
    const abort = await fetch(`${srv.url}/api/runs/${id}/abort`, { method: 'POST', headers: auth });
    expect(abort.status).toBe(200);
    expect(await abort.json()).toEqual({ id, aborted: true });
    const rec = (await (await fetch(`${srv.url}/api/runs/${id}`)).json()) as Record<string, unknown>;
    expect(rec.outcome).toBe('ABORTED');
    expect(rec.abort).toMatchObject({ by: 'api' });
    const inst = (await (await fetch(`${srv.url}/api/instruments`)).json()) as Array<{ state: string }>;
    expect(inst.every((i) => i.state === 'safe')).toBe(true);
    // aborting a finished run is a conflict, and the bench is free again
    expect((await post(`/api/runs/${id}/abort`, {})).status).toBe(409);
    expect((await post('/api/runs', { ...goodRun, sequence: 'quick-check' })).status).toBe(201);
  });

  it('answers a prompt only with the token and only for an open prompt', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 5, berTicks: 2 }));
    const c = await WsClient.open(wsUrl(srv));
    const { body } = await post('/api/runs', { ...goodRun, params: { prompt: true } });
    const id = body.id as string;
    const asked = await c.waitFor((m) => m.type === 'prompt');
    const promptId = (asked.prompt as { id: string }).id;
    expect((await post(`/api/runs/${id}/prompts/${promptId}`, { answer: true }, json)).status).toBe(401);
    expect((await post(`/api/runs/${id}/prompts/${promptId}`, {})).body).toMatchObject({ field: 'answer' });
    expect((await post(`/api/runs/${id}/prompts/zzz`, { answer: true })).status).toBe(404);
    expect((await post(`/api/runs/nope/prompts/${promptId}`, { answer: true })).status).toBe(404);
    const ok = await post(`/api/runs/${id}/prompts/${promptId}`, { answer: true, by: 'ada' });
    expect(ok).toEqual({ status: 200, body: { ok: true } });
    const answered = await c.waitFor(
      (m) => m.type === 'prompt' && (m.prompt as { answeredBy?: string }).answeredBy === 'ada',
    );
    expect((answered.prompt as { answer: unknown }).answer).toBe(true);
    const done = await c.waitFor((m) => m.type === 'run.finished');
    expect(done.outcome).toBe('PASS');
    c.close();
  });
});

describe('history and export', () => {
  it('lists, filters, fetches and exports runs', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 1, berTicks: 2 }));
    const a = (await post('/api/runs', goodRun)).body.id as string;
    await ctl.idle();
    const b = (await post('/api/runs', { ...goodRun, dut: 'SN-0002', sequence: 'quick-check' })).body.id as string;
    await ctl.idle();
    const all = (await (await fetch(`${srv.url}/api/runs`)).json()) as Array<{ id: string; outcome: string }>;
    expect(all.map((r) => r.id)).toEqual([b, a]);
    expect(all.every((r) => r.outcome === 'PASS')).toBe(true);
    const filtered = (await (await fetch(`${srv.url}/api/runs?dut=SN-0002`)).json()) as Array<{ id: string }>;
    expect(filtered.map((r) => r.id)).toEqual([b]);
    expect((await fetch(`${srv.url}/api/runs?limit=0`)).status).toBe(400);
    expect((await fetch(`${srv.url}/api/runs?outcome=MAYBE`)).status).toBe(400);

    const rec = (await (await fetch(`${srv.url}/api/runs/${a}`)).json()) as {
      steps: Array<{ id: string; measurements: unknown[] }>;
      summary: { energyPerBitPj: number };
    };
    expect(rec.steps.map((s) => s.id)).toEqual(['connect', 'lane-map', 'li', 'ber', 'energy']);
    expect(rec.summary.energyPerBitPj).toBeGreaterThan(0);
    expect((await fetch(`${srv.url}/api/runs/nope`)).status).toBe(404);

    const csv = await fetch(`${srv.url}/api/runs/${a}/export?format=csv`);
    expect(csv.status).toBe(200);
    expect(csv.headers.get('content-type')).toMatch(/text\/csv/);
    expect(csv.headers.get('content-disposition')).toBe(`attachment; filename="${a}.csv"`);
    expect((await csv.text()).split('\n')[0]).toBe('step,measurement,lane,value,unit,verdict');
    const junit = await fetch(`${srv.url}/api/runs/${a}/export?format=junit`);
    expect(await junit.text()).toMatch(/<testsuite name="mosaic-qual"/);
    const js = await fetch(`${srv.url}/api/runs/${a}/export?format=json`);
    expect(((await js.json()) as { id: string }).id).toBe(a);
    // a PDF the bench cannot print: 503 saying why, not "internal error"
    const pdf = await fetch(`${srv.url}/api/runs/${a}/export?format=pdf`);
    expect(pdf.status).toBe(503);
    expect(((await pdf.json()) as { message: string }).message).toBe(
      `no PDF of run ${a}: Chromium (/nonexistent/chromium) cannot be started`,
    );
    expect((await fetch(`${srv.url}/api/runs/${a}/export?format=xls`)).status).toBe(400);
    expect((await fetch(`${srv.url}/api/runs/${a}/export`)).status).toBe(400);
    expect((await fetch(`${srv.url}/api/runs/nope/export?format=csv`)).status).toBe(404);
    await until(() => ctl.health().running === null);
  });
});
