/**
 * `npm start` itself, as a technician runs it (package.json's start script: ensure-deps --runtime, then
 * `cpobench serve --sim mosaic-800g --time-scale 1000`), on a port the system chooses (CPOBENCH_PORT=0) and a
 * results file in a temp dir (`npm start -- --db FILE`). Driven through its HTTP API and WebSocket: smoke to PASS,
 * the qualification to PASS, the record and reports; then Ctrl-C (SIGINT to its process group, as a terminal
 * sends it): exit 0, the port free again.
 */
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { WsClient } from '../server/helpers.ts';
import { tempDirs } from './helpers.ts';

const TOKEN = 'npm-start-e2e-token-0123456789';
const tmp = tempDirs('cpobench-npm-start-');

interface NpmStart {
  child: ChildProcessWithoutNullStreams;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stdout(): string;
  stderr(): string;
  url: string;
  db: string;
}

/**
 * `npm start -- --db FILE` with CPOBENCH_PORT=0, in a process group of its own (as a terminal runs it: Ctrl-C
 * there signals npm, its shell and node together). Resolves once it printed its banner (dashboard URL, token).
 */
async function npmStart(): Promise<NpmStart> {
  const db = join(tmp.make(), 'runs.db');
  const child = spawn('npm', ['start', '--', '--db', db], {
    cwd: process.cwd(),
    detached: true,
    env: { ...process.env, CPOBENCH_PORT: '0', CPOBENCH_TOKEN: TOKEN, NO_COLOR: '1' },
  });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => {
    out += d;
  });
  child.stderr.on('data', (d) => {
    err += d;
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.on('close', (code, signal) => resolve({ code, signal })),
  );
  started.push({ child, exited });
  const url = await new Promise<string>((resolve, reject) => {
    const t = setTimeout(() => reject(new Error(`no dashboard URL after 60 s:\n${out}\n${err}`)), 60_000);
    const check = () => {
      // the last line of its banner: everything before it (instruments, URL, token source) is out
      const m = /^cpobench dashboard: (http:\/\/\S+)\/$/m.exec(out);
      if (m && /^Ctrl-C stops/m.test(out)) {
        clearTimeout(t);
        resolve(m[1]!);
      }
    };
    child.stdout.on('data', check);
    void exited.then(() => {
      clearTimeout(t);
      reject(new Error(`npm start ended before printing its URL:\n${out}\n${err}`));
    });
  });
  return { child, exited, stdout: () => out, stderr: () => err, url, db };
}

const started: { child: ChildProcessWithoutNullStreams; exited: Promise<unknown> }[] = [];

/** True while any process of that group is alive. */
function groupAlive(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Resolves once nothing listens on 127.0.0.1:port: binding it succeeds. */
async function expectPortFree(port: number): Promise<void> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => {
    probe.once('error', reject);
    probe.listen(port, '127.0.0.1', () => resolve());
  });
  await new Promise<void>((resolve) => probe.close(() => resolve()));
}

afterAll(async () => {
  // a test that failed half-way still leaves nothing running
  for (const s of started) {
    if (s.child.pid !== undefined && groupAlive(s.child.pid)) process.kill(-s.child.pid, 'SIGKILL');
    await s.exited;
  }
  tmp.cleanup();
});

let npm: NpmStart;
let url: string;
beforeAll(async () => {
  npm = await npmStart();
  url = npm.url;
}, 90_000);

const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const get = (path: string) => fetch(`${url}${path}`);
const post = (path: string, body: unknown) =>
  fetch(`${url}${path}`, { method: 'POST', headers: auth, body: JSON.stringify(body) });

/** Starts a run over the API and follows it on the WebSocket stream to its end; returns the stored record. */
async function runToEnd(sequence: string, dut: string, timeoutMs: number): Promise<RunRecord> {
  const ws = await WsClient.open(`${url.replace(/^http/, 'ws')}/ws`);
  try {
    const res = await post('/api/runs', { sequence, dut, operator: 'npm-start-e2e' });
    expect(res.status, await res.clone().text()).toBe(201);
    const { id } = (await res.json()) as { id: string };
    const started = await ws.waitFor((m) => m.type === 'run.started' && (m.run as { id: string }).id === id, 10_000);
    expect((started.run as { sequence: { name: string } }).sequence.name).toBe(sequence);
    const steps = new Set<string>();
    const finished = await ws.waitFor((m) => {
      if (m.type === 'step.finished' && m.runId === id) steps.add(String(m.step));
      return m.type === 'run.finished' && m.runId === id;
    }, timeoutMs);
    const rec = (await (await get(`/api/runs/${encodeURIComponent(id)}`)).json()) as RunRecord;
    expect(finished.outcome, `${sequence}: ${rec.error ?? ''} ${rec.steps.map((s) => `${s.id}:${s.verdict}`)}`).toBe(
      'PASS',
    );
    // every step was streamed as it finished (nested steps run once per temperature, recorded each time)
    expect([...steps].sort()).toEqual([...new Set(rec.steps.map((s) => s.id))].sort());
    return rec;
  } finally {
    ws.close();
  }
}

describe('npm start (the real start script, as a child process)', () => {
  it('listens on 127.0.0.1 on the port the system chose, prints the instruments and the token source', async () => {
    expect(url).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    // CPOBENCH_PORT=0: the system chose the port (without it, npm start binds 8080)
    expect(Number(new URL(url).port)).toBeGreaterThan(0);
    expect(Number(new URL(url).port)).not.toBe(8080);
    expect(npm.stdout()).toMatch(/^ {2}led-driver +TCPIP0::127\.0\.0\.1::\d+::SOCKET +cpobench-sim,ULED-DRV-400,/m);
    expect(npm.stdout()).toContain('control token: from CPOBENCH_TOKEN');
    expect(npm.stdout()).not.toContain(TOKEN); // a token from the environment is never printed
    const health = (await (await get('/api/health')).json()) as { ok: boolean; station: string; running: unknown };
    expect(health).toMatchObject({ ok: true, station: 'mosaic-800g-sim', running: null });
    const page = await get('/');
    expect(page.status).toBe(200);
    expect(await page.text()).toMatch(/<!doctype html>/i);
  });

  it('runs smoke and then mosaic-800g-qual to PASS through the API; the record and its reports are served', async () => {
    const smoke = await runToEnd('smoke', 'SN-NPM-1', 60_000);
    expect(smoke.steps.map((s) => s.verdict)).toEqual(['PASS', 'PASS', 'PASS']);

    const qual = await runToEnd('mosaic-800g-qual', 'SN-NPM-2', 120_000);
    expect(qual).toMatchObject({ outcome: 'PASS', dut: 'SN-NPM-2', operator: 'npm-start-e2e' });
    expect(qual.summary).toMatchObject({ lanesActive: 400, lanesDead: 0, benchSafe: true });
    expect(qual.steps.every((s) => s.verdict === 'PASS' || s.verdict === 'MARGINAL')).toBe(true);
    expect(qual.safeState?.safe).toBe(true);

    const runs = (await (await get('/api/runs')).json()) as { id: string; outcome: string; sequence: string }[];
    expect(runs.map((r) => [r.sequence, r.outcome])).toEqual([
      ['mosaic-800g-qual', 'PASS'],
      ['smoke', 'PASS'],
    ]);

    const html = await get(`/api/runs/${encodeURIComponent(qual.id)}/export?format=html`);
    expect(html.status).toBe(200);
    expect(html.headers.get('content-type')).toMatch(/^text\/html/);
    const page = await html.text();
    expect(page).toContain(qual.id);
    expect(page).toContain('SN-NPM-2');
    const junit = await get(`/api/runs/${encodeURIComponent(qual.id)}/export?format=junit`);
    expect(junit.status).toBe(200);
    const xml = await junit.text();
    expect(xml).toMatch(/<testsuites [^>]*failures="0" errors="0"/);
    expect(xml).toContain('classname="mosaic-800g-qual.ber"');
    const json = await get(`/api/runs/${encodeURIComponent(qual.id)}/export?format=json`);
    expect(((await json.json()) as RunRecord).id).toBe(qual.id);
    // the results went where `-- --db` said, not into the checkout's data/
    expect(existsSync(npm.db)).toBe(true);
  }, 240_000);

  it('Ctrl-C (SIGINT to the process group, as a terminal sends it) stops it: exit 0, the port free, nothing left', async () => {
    const port = Number(new URL(url).port);
    process.kill(-npm.child.pid!, 'SIGINT');
    const end = await npm.exited;
    expect(end, `${npm.stdout()}\n${npm.stderr()}`).toEqual({ code: 0, signal: null });
    expect(npm.stderr()).toMatch(/^SIGINT: stopping$/m);
    expect(npm.stderr()).not.toMatch(/again/); // one keypress, even though npm passes it on as well
    expect(groupAlive(npm.child.pid!)).toBe(false); // no server left behind
    await expect(fetch(`${url}/api/health`)).rejects.toThrow();
    await expectPortFree(port);
  }, 30_000);
});

describe('npm start stopped by SIGTERM to npm alone (a process supervisor, `kill <pid>`, a cancelled CI job)', () => {
  it('npm passes it on: the server stops, npm exits 0, the port is free, no server is left orphaned', async () => {
    const other = await npmStart();
    const port = Number(new URL(other.url).port);
    expect(((await (await fetch(`${other.url}/api/health`)).json()) as { ok: boolean }).ok).toBe(true);
    other.child.kill('SIGTERM'); // npm only, not its group
    const end = await other.exited;
    expect(end, `${other.stdout()}\n${other.stderr()}`).toEqual({ code: 0, signal: null });
    expect(other.stderr()).toMatch(/^SIGTERM: stopping$/m);
    expect(groupAlive(other.child.pid!)).toBe(false);
    await expectPortFree(port);
  }, 90_000);
});
