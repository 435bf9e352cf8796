/**
 * A lab as the README sets it up: a real PostgreSQL, `cpobench hub`, benches as `cpobench serve --sim … --hub
 * --bench` processes. Jobs queued over HTTP end with their runs in the hub; a bench killed mid-job has its lease
 * lapse, its partial run marked INTERRUPTED in the hub and the job run again elsewhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';
import { waitFor } from './helpers.ts';
import { type Proc, startCpobench } from './procs.ts';

let pgsrv: TempPg;
let hub: Proc;
let hubUrl: string;
const ADMIN = 'lab-admin-token-0123456789';
const dirs = tempDirs('cpobench-lab-');
const procs: Proc[] = [];

beforeAll(async () => {
  pgsrv = await startTempPg();
  hub = startCpobench(['hub', '--pg', pgsrv.url, '--port', '0', '--lease-ms', '3000'], {
    CPOBENCH_HUB_ADMIN_TOKEN: ADMIN,
  });
  hubUrl = (await hub.match(/cpobench hub: (http:\/\/\S+?)\/\n/))[1]!;
}, 90_000);

afterAll(async () => {
  for (const p of procs) await p.stop('SIGKILL');
  await hub?.stop();
  await pgsrv?.close();
  dirs.cleanup();
});

async function api<T>(method: string, path: string, body?: unknown): Promise<T> {
  const r = await fetch(`${hubUrl}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  const j = (await r.json()) as T;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

async function startBench(name: string, extra: string[] = []): Promise<Proc> {
  const { token } = await api<{ token: string }>('POST', `/api/benches/${name}/token`);
  const p = startCpobench(
    ['serve', '--sim', 'mosaic-800g', '--port', '0', '--hub', hubUrl, '--bench', name, ...extra],
    { CPOBENCH_HUB_TOKEN: token, CPOBENCH_TOKEN: `control-${name}-token` },
    dirs.make(),
  );
  procs.push(p);
  await p.match(/lab hub: .* as bench/);
  return p;
}

interface JobView {
  id: number;
  state: string;
  bench: string | null;
  runId: string | null;
  outcome: string | null;
  history: { bench: string; runId: string | null; event: string }[];
}

describe('a lab of benches', () => {
  it('three benches take 30 queued jobs; every job ends with its run in the hub, lot/wafer/die attached', async () => {
    const names = ['lab-1', 'lab-2', 'lab-3'];
    for (const n of names) await startBench(n, ['--time-scale', '1000']);
    const jobs: JobView[] = [];
    for (let i = 0; i < 30; i++) {
      jobs.push(
        await api('POST', '/api/jobs', {
          sequence: 'smoke',
          dut: `DUT-${i}`,
          lot: 'LOT-A',
          wafer: `W${i % 2}`,
          die: { x: i % 6, y: Math.floor(i / 6) },
          requires: ['sim:mosaic-800g'],
        }),
      );
    }
    const done = await waitFor(
      'all 30 jobs done',
      async () => {
        const all = await Promise.all(jobs.map((j) => api<JobView>('GET', `/api/jobs/${j.id}`)));
        return all.every((j) => j.state === 'done') ? all : undefined;
      },
      120_000,
    );
    const ran = new Set(done.map((j) => j.bench));
    expect(ran.size, 'the work spread over the benches').toBeGreaterThan(1);
    for (const j of done) {
      expect(j.runId).toBeTruthy();
      // the run arrives through the bench's forwarder (maybe a moment after the job's end)
      const rec = await waitFor(`run of job ${j.id} in the hub`, async () => {
        const r = await fetch(`${hubUrl}/api/runs/${j.runId}`);
        if (r.status !== 200) return undefined;
        const x = (await r.json()) as { outcome: string; dut: string; lab: Record<string, unknown> };
        return x.outcome === j.outcome ? x : undefined;
      });
      const i = jobs.findIndex((q) => q.id === j.id);
      expect(rec.dut).toBe(`DUT-${i}`);
      expect(rec.lab).toMatchObject({ bench: j.bench, lot: 'LOT-A', wafer: `W${i % 2}`, jobId: j.id });
      expect(rec.lab.die).toEqual({ x: i % 6, y: Math.floor(i / 6) });
    }
    // searchable by lot and wafer; each job exactly one run
    const w0 = await api<{ runs: { id: string }[] }>('GET', '/api/runs?lot=LOT-A&wafer=W0&limit=1000');
    expect(w0.runs.length).toBe(15);
    const map = await api<{ dies: unknown[] }>('GET', '/api/analytics/wafer-map?lot=LOT-A&wafer=W1');
    expect(map.dies.length).toBe(15);
    // a report of a run straight from the hub
    const rep = await fetch(`${hubUrl}/api/runs/${done[0]!.runId}/report.junit`);
    expect(rep.status).toBe(200);
    expect(await rep.text()).toContain('<testsuite');
    // the job's lot, wafer and die are in the bench's own record and reports, not only in the lab database
    const first = done[0]!;
    const i0 = jobs.findIndex((q) => q.id === first.id);
    const die0 = { x: i0 % 6, y: Math.floor(i0 / 6) };
    const { benches } = await api<{ benches: { name: string; url: string }[] }>('GET', '/api/benches');
    const benchUrl = benches.find((b) => b.name === first.bench)!.url.replace(/\/$/, '');
    const own = (await (await fetch(`${benchUrl}/api/runs/${first.runId}`)).json()) as Record<string, unknown>;
    expect(own).toMatchObject({ id: first.runId, lot: 'LOT-A', wafer: `W${i0 % 2}`, die: die0 });
    const junit = await (await fetch(`${benchUrl}/api/runs/${first.runId}/export?format=junit`)).text();
    expect(junit).toContain('<property name="lot" value="LOT-A"/>');
    expect(junit).toContain(`<property name="die" value="${die0.x},${die0.y}"/>`);
    const html = await (await fetch(`${benchUrl}/api/runs/${first.runId}/export?format=html`)).text();
    expect(html).toContain(`<th>Wafer</th><td>W${i0 % 2}</td>`);
    // and the hub's record is the bench's (lot, wafer, die included)
    const hubRec = (await (await fetch(`${hubUrl}/api/runs/${first.runId}`)).json()) as Record<string, unknown>;
    expect(hubRec).toMatchObject({ lot: 'LOT-A', wafer: `W${i0 % 2}`, die: die0 });
    for (const p of procs.splice(0)) expect(await p.stop()).toBe(0);
  }, 180_000);

  it('a bench killed mid-job: the lease lapses, the partial run is INTERRUPTED in the hub, the job runs again', async () => {
    const slow = await startBench('doomed', ['--time-scale', '20']);
    const { id } = await api<JobView>('POST', '/api/jobs', {
      sequence: 'mosaic-800g-qual',
      dut: 'DUT-K',
      requires: ['sim:mosaic-800g'],
      leaseMs: 3000,
    });
    const running = await waitFor('job running on doomed, its run in the hub', async () => {
      const j = await api<JobView>('GET', `/api/jobs/${id}`);
      if (j.state !== 'running' || !j.runId) return undefined;
      const r = await fetch(`${hubUrl}/api/runs/${j.runId}`);
      return r.status === 200 ? j : undefined;
    });
    expect(running.bench).toBe('doomed');
    await slow.stop('SIGKILL');
    const requeued = await waitFor(
      'job requeued after the lease lapsed',
      async () => {
        const j = await api<JobView>('GET', `/api/jobs/${id}`);
        return j.history.some((h) => h.event.startsWith('lease lapsed')) ? j : undefined;
      },
      30_000,
    );
    expect(requeued.state).toBe('queued');
    const partial = (await (await fetch(`${hubUrl}/api/runs/${running.runId}`)).json()) as {
      outcome: string;
      error: string;
    };
    expect(partial.outcome).toBe('INTERRUPTED');
    expect(partial.error).toMatch(/doomed stopped renewing the lease/);
    // another bench takes the job and finishes it
    await startBench('rescuer', ['--time-scale', '1000']);
    const done = await waitFor(
      'job done by rescuer',
      async () => {
        const j = await api<JobView>('GET', `/api/jobs/${id}`);
        return j.state === 'done' ? j : undefined;
      },
      90_000,
    );
    expect(done.bench).toBe('rescuer');
    expect(done.runId).not.toBe(running.runId);
  }, 180_000);
});
