/**
 * The run queue and the analytics on a real PostgreSQL: one bench per job however many race for it; jobs go only
 * to benches that can run them; bad job requests are refused naming the field; yield per lane position, the
 * wafer map and the trends count exactly what the benches forwarded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { HubClient } from '../../src/fleet/hub-client.ts';
import { claimJob } from '../../src/hub/jobs.ts';
import type { Hub } from '../../src/hub/server.ts';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';
import { laneFrame, sampleRecord, writeRecord } from '../store/fixtures.ts';
import { issueBenchToken, openTestBench, startTestHub } from './helpers.ts';

let pgsrv: TempPg;
let hub: Hub;
const dirs = tempDirs('cpobench-queue-');

beforeAll(async () => {
  pgsrv = await startTempPg();
  hub = await startTestHub(pgsrv.url);
}, 60_000);
afterAll(async () => {
  await hub?.close();
  await pgsrv?.close();
  dirs.cleanup();
});

async function postJob(body: unknown, token = hub.adminToken): Promise<Response> {
  return fetch(`${hub.url}/api/jobs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
}

async function client(name: string, capabilities: string[], sequences = ['seq-a']): Promise<HubClient> {
  const c = new HubClient({ url: hub.url, bench: name, token: await issueBenchToken(hub, name) });
  await c.register({ station: 's', sequences, capabilities });
  return c;
}

describe('run queue', () => {
  it('heartbeats of many benches at once are written together: each status kept, each lease renewed', async () => {
    const cs = await Promise.all(Array.from({ length: 20 }, (_, i) => client(`hb-${i}`, ['hb'], ['seq-hb'])));
    await postJob({ sequence: 'seq-hb', dut: 'HB-1', leaseMs: 60_000 });
    const job = (await cs[7]!.claimJob()).job!;
    const lease = async () =>
      Date.parse((await (await fetch(`${hub.url}/api/jobs/${job.id}`)).json()).leaseUntil as string);
    const before = await lease();
    await new Promise((r) => setTimeout(r, 50));
    // all at once; then bench 3 again: its newer status wins
    await Promise.all(cs.map((c, i) => c.heartbeat({ state: 'idle', jobs: i === 7 ? [job.id] : [] })));
    await cs[3]!.heartbeat({ state: 'running' });
    const rows = await hub.pool.query("SELECT name, status FROM benches WHERE name LIKE 'hb-%' ORDER BY name");
    expect(rows.rows.length).toBe(20);
    for (const r of rows.rows as { name: string; status: { state: string } }[])
      expect(r.status.state, r.name).toBe(r.name === 'hb-3' ? 'running' : 'idle');
    expect(await lease()).toBeGreaterThan(before);
  });

  it('benches racing for jobs: each job goes to exactly one bench, and a bench holds one job at a time', async () => {
    const racers = await Promise.all(Array.from({ length: 8 }, (_, i) => client(`race-${i}`, ['x'])));
    for (let round = 0; round < 5; round++) {
      const r = await postJob({ sequence: 'seq-a', dut: `R-${round}` });
      expect(r.status).toBe(201);
      const claims = await Promise.all(racers.map((c) => c.claimJob()));
      const got = claims.filter((c) => c.job !== null);
      expect(got.length, `round ${round}`).toBe(1);
      const winner = racers[claims.findIndex((c) => c.job !== null)]!;
      await winner.jobFinished(got[0]!.job!.id, 'PASS');
    }
    // two jobs, one bench: the second waits until the first is finished
    const solo = racers[0]!;
    await postJob({ sequence: 'seq-a', dut: 'S-1' });
    await postJob({ sequence: 'seq-a', dut: 'S-2' });
    const first = (await solo.claimJob()).job!;
    expect((await solo.claimJob()).job).toBeNull();
    await solo.jobFinished(first.id, 'PASS');
    expect((await solo.claimJob()).job?.dut).toBe('S-2');
  });

  it('a claim made while another bench holds the job uncommitted does not get it too', async () => {
    await client('lock-a', ['z'], ['seq-lock']);
    await client('lock-b', ['z'], ['seq-lock']);
    await postJob({ sequence: 'seq-lock', dut: 'K-1' });
    const held = await hub.pool.connect();
    try {
      await held.query('BEGIN');
      expect(await claimJob(held, 'lock-a')).toMatchObject({ dut: 'K-1', bench: 'lock-a' });
      // lock-a's claim is not committed yet: lock-b's claim must neither wait for it nor take the same job
      const other = claimJob(hub.pool, 'lock-b');
      const first = await Promise.race([other, new Promise((r) => setTimeout(() => r('waiting'), 2000))]);
      await held.query('COMMIT');
      expect(first).toBeNull();
    } finally {
      held.release();
    }
  });

  it('a job goes only to a bench offering its sequence and every capability it requires', async () => {
    const small = await client('cap-400', ['lanes:400'], ['seq-cap']);
    const big = await client('cap-512', ['lanes:512', 'bert'], ['seq-cap']);
    await postJob({ sequence: 'seq-cap', dut: 'C-1', requires: ['lanes:512', 'bert'] });
    expect((await small.claimJob()).job).toBeNull();
    expect((await big.claimJob()).job).toMatchObject({ dut: 'C-1', requires: ['lanes:512', 'bert'] });
    await postJob({ sequence: 'seq-other', dut: 'C-2' });
    expect((await small.claimJob()).job).toBeNull();
  });

  it('refuses a bad job request naming the field, and a request without the admin token', async () => {
    const bad = await postJob({ sequence: 'seq-a', dut: 'D', die: { x: 1.5, y: 0 } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: { message: string } }).error.message).toBe(
      'job die: x: expected an integer within ±100000, got 1.5',
    );
    // lot and wafer are checked as a bench checks a run's (the bench will run the job with them)
    const ctl = await postJob({ sequence: 'seq-a', dut: 'D', lot: 'L\u001b[31m' });
    expect(ctl.status).toBe(400);
    expect(((await ctl.json()) as { error: { message: string } }).error.message).toMatch(
      /^job lot: no control characters, got \\x1b at position 2/,
    );
    const empty = await postJob({ sequence: 'seq-a', dut: 'D', wafer: '  ' });
    expect(((await empty.json()) as { error: { message: string } }).error.message).toBe(
      'job wafer: a wafer name, when given, is not empty',
    );
    const missing = await postJob({ dut: 'D' });
    expect(((await missing.json()) as { error: { message: string } }).error.message).toMatch(/^job sequence: /);
    expect((await postJob({ sequence: 'seq-a', dut: 'D' }, 'not-the-admin-token')).status).toBe(401);
    const q = async (path: string) => {
      const r = await fetch(`${hub.url}${path}`);
      return [r.status, ((await r.json()) as { error?: { message: string } }).error?.message];
    };
    expect(await q('/api/jobs/abc')).toEqual([400, 'job id: expected a positive integer, got "abc"']);
    expect(await q('/api/jobs?state=lost')).toEqual([
      400,
      'state: expected one of queued, leased, running, done, failed, got "lost"',
    ]);
    expect(await q('/api/jobs/999999')).toEqual([404, 'no such job']);
  });

  it('a lapsed lease requeues the job and marks the forwarded run INTERRUPTED; a finish after that is refused', async () => {
    const c = await client('lapse-1', ['y'], ['seq-lapse']);
    const r = await postJob({ sequence: 'seq-lapse', dut: 'L-1', leaseMs: 1000, maxAttempts: 1 });
    const job = (await c.claimJob()).job!;
    expect(job.id).toBe(((await r.json()) as { id: number }).id);
    const b = await openTestBench(hub.url, await issueBenchToken(hub, 'lapse-1'), 'lapse-1', dirs.make());
    try {
      const runId = writeRecord(b.store, sampleRecord({ outcome: 'RUNNING', dut: 'L-1' }));
      await b.client.jobStarted(job.id, runId);
      await b.forwarder.flush();
      await new Promise((res) => setTimeout(res, 1200));
      // the hub's own lease check (every second) may have been first: either way the job is handled once
      await hub.reap();
      const j = (await (await fetch(`${hub.url}/api/jobs/${job.id}`)).json()) as {
        state: string;
        history: { event: string }[];
      };
      expect(j.state).toBe('failed'); // maxAttempts 1: not requeued
      expect(j.history.filter((h) => h.event.startsWith('lease lapsed')).length).toBe(1);
      const run = (await (await fetch(`${hub.url}/api/runs/${runId}`)).json()) as { outcome: string };
      expect(run.outcome).toBe('INTERRUPTED');
      await expect(b.client.jobFinished(job.id, 'PASS')).rejects.toMatchObject({ status: 409 });
    } finally {
      await b.close();
    }
  });
});

describe('analytics', () => {
  it('yield per lane position, wafer map and trends count what was forwarded', async () => {
    const b = await openTestBench(hub.url, await issueBenchToken(hub, 'ana-1'), 'ana-1', dirs.make());
    try {
      await b.client.register({ station: 's', sequences: ['ana-seq'], capabilities: [] });
      // three DUTs on one wafer: lane 7 fails on two of them, lane 9 on one; lane 400 is never tested
      const fails = [[7], [7, 9], []];
      for (let i = 0; i < 3; i++) {
        await postJob({ sequence: 'ana-seq', dut: `A-${i}`, lot: 'LOT-Z', wafer: 'W9', die: { x: i, y: 1 } });
        const job = (await b.client.claimJob()).job!;
        const f = fails[i]!;
        const frame = laneFrame('rx_power', 399, (l) => (f.includes(l) ? 5 : 1), { high: 2 });
        // the bench starts the job's run with its lot, wafer and die (src/app/fleet-agent.ts): they travel in its record
        const rec = sampleRecord({
          dut: `A-${i}`,
          lot: job.lot,
          wafer: job.wafer,
          die: job.die,
          outcome: f.length ? 'FAIL' : 'PASS',
          startedAt: `2026-03-0${i + 1}T10:00:00.000Z`,
          summary: { energyPerBitPj: 1 + i, worstBerUpperBound: 10 ** -(9 + i) },
          steps: [
            {
              index: 0,
              id: 'rx',
              name: 'rx',
              type: 'ber',
              startedAt: '2026-03-01T10:00:00.000Z',
              verdict: 'PASS',
              measurements: [frame],
            },
          ],
        });
        const runId = writeRecord(b.store, rec);
        await b.client.jobStarted(job.id, runId);
        await b.client.jobFinished(job.id, rec.outcome);
      }
      await b.forwarder.flush();
      const y = (await (await fetch(`${hub.url}/api/analytics/lane-yield?lot=LOT-Z`)).json()) as {
        runs: number;
        rows: number;
        cols: number;
        lanes: { lane: number; row: number; col: number; tested: number; failed: number; yield: number | null }[];
      };
      expect(y.runs).toBe(3);
      expect([y.rows, y.cols]).toEqual([20, 20]);
      const lane = (n: number) => y.lanes.find((l) => l.lane === n)!;
      expect(lane(7)).toMatchObject({ tested: 3, failed: 2, row: 0, col: 6 });
      expect(lane(7).yield).toBeCloseTo(1 / 3);
      expect(lane(9)).toMatchObject({ tested: 3, failed: 1 });
      expect(lane(1)).toMatchObject({ tested: 3, failed: 0, yield: 1 });
      expect(lane(400)).toMatchObject({ tested: 0, yield: null, row: 19, col: 19 });
      const w = (await (await fetch(`${hub.url}/api/analytics/wafer-map?lot=LOT-Z&wafer=W9`)).json()) as {
        dies: { x: number; y: number; outcome: string; energyPerBitPj: number }[];
      };
      expect(w.dies.map((d) => [d.x, d.y, d.outcome, d.energyPerBitPj])).toEqual([
        [0, 1, 'FAIL', 1],
        [1, 1, 'FAIL', 2],
        [2, 1, 'PASS', 3],
      ]);
      const t = (await (await fetch(`${hub.url}/api/analytics/trends?lot=LOT-Z`)).json()) as {
        points: { day: string; runs: number; passed: number; meanEnergyPerBitPj: number; worstBerUpperBound: number }[];
      };
      expect(t.points.map((p) => [p.day, p.runs, p.passed, p.meanEnergyPerBitPj, p.worstBerUpperBound])).toEqual([
        ['2026-03-01', 1, 0, 1, 1e-9],
        ['2026-03-02', 1, 0, 2, 1e-10],
        ['2026-03-03', 1, 1, 3, 1e-11],
      ]);
      const bad = await fetch(`${hub.url}/api/analytics/trends?since=yesterday`);
      expect(bad.status).toBe(400);
      expect(await bad.text()).toMatch(/since: expected an ISO 8601 date/);
    } finally {
      await b.close();
    }
  });
});
