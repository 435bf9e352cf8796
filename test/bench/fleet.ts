/**
 * Fleet benchmark, on a real PostgreSQL (a temporary one, or a fresh database on CPOBENCH_PG_URL) and a real hub:
 *  1. forwarding throughput: 10 benches, each with its SQLite file holding 200 frames of 400 lane values,
 *     forward at once into PostgreSQL through the hub; lane values per second (target >= 1 M/s);
 *  2. yield per physical lane position over 10,000 DUTs x 400 lanes (target < 1 s; median of 5);
 *  3. fleet view: 50 benches heartbeating (1/s each) and 100 WebSocket clients of the fleet view; latency from a
 *     heartbeat's POST to each client's update, p50/p99 (target p99 < 200 ms).
 * The hub runs as its own process (`cpobench hub`), the 100 clients in a worker thread, as in a lab where
 * neither shares an event loop with the hub. Prints a table, then (LAST line) one JSON object.
 *
 *   npm run bench:fleet                      # all three
 *   npm run bench:fleet -- --only forward    # one of forward, yield, fleet (repeat --only for several)
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import pg from 'pg';
import type { LaneMeasurement, Verdict } from '../../src/core/record.ts';
import { Forwarder } from '../../src/fleet/forwarder.ts';
import { type BenchStatus, HubClient } from '../../src/fleet/hub-client.ts';
import { Outbox } from '../../src/fleet/outbox.ts';
import { openSqliteStore } from '../../src/store/sqlite-store.ts';
import { startCpobench } from '../fleet/procs.ts';
import { startTempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';

const BENCHES = 10;
const FRAMES = 200;
const LANES = 400;
const DUTS = 10_000;
const HB_BENCHES = 50;
const CLIENTS = 100;
const HB_SECONDS = 10;

function frame(k: number): LaneMeasurement {
  const lanes = Array.from({ length: LANES }, (_, i) => i + 1);
  const values = lanes.map((l) => 1e-5 * (1 + 0.1 * Math.sin(l * 0.37 + k * 0.01)));
  const verdicts: Verdict[] = values.map((v) => (v < 9.2e-6 ? 'FAIL' : 'PASS'));
  return {
    kind: 'lanes',
    spec: { name: 'rx_power', unit: 'W', dimensions: ['lane'], limits: { low: 9.2e-6 } },
    lanes,
    values,
    verdicts,
    verdict: verdicts.includes('FAIL') ? 'FAIL' : 'PASS',
    at: { point: k },
  };
}

function quantile(sorted: number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!;
}

const only = process.argv.flatMap((a, i, all) => (all[i - 1] === '--only' ? [a] : []));
for (const o of only)
  if (!['forward', 'yield', 'fleet'].includes(o))
    throw new Error(`--only: expected forward, yield or fleet, got "${o}"`);
const part = (name: string) => only.length === 0 || only.includes(name);

const dirs = tempDirs('cpobench-bench-fleet-');
const pgsrv = await startTempPg();
const ADMIN = 'bench-fleet-admin-token';
const hubProc = startCpobench(['hub', '--pg', pgsrv.url, '--port', '0'], { CPOBENCH_HUB_ADMIN_TOKEN: ADMIN });
const hub = { url: (await hubProc.match(/cpobench hub: (http:\/\/\S+?)\/\n/))[1]! };
const pool = new pg.Pool({ connectionString: pgsrv.url, max: 2 });
const out: Record<string, number> = {};

/** CPU seconds (user + system) of a process and, with `children`, of its child processes (PostgreSQL's backends). */
function cpuSeconds(pid: number | undefined, children = false): number {
  if (pid === undefined) return Number.NaN;
  const stat = (p: number | string) => {
    try {
      // fields after the command name: state ppid ... utime(14) stime(15), counted from field 3
      const f = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
      // utime, stime; cutime, cstime: of its children that exited (backends closed meanwhile still count)
      return { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]), exited: Number(f[13]) + Number(f[14]) };
    } catch {
      return undefined;
    }
  };
  const own = stat(pid);
  let ticks = (own?.ticks ?? 0) + (children ? (own?.exited ?? 0) : 0);
  if (children)
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d)) continue;
      const st = stat(d);
      if (st?.ppid === pid) ticks += st.ticks;
    }
  return ticks / CLK_TCK;
}
const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
/** The temporary server's postmaster (its backends are its children); undefined on CPOBENCH_PG_URL. */
function postmasterPid(): number | undefined {
  const dir = new URL(pgsrv.url).searchParams.get('host');
  if (!pgsrv.ownServer || !dir) return undefined;
  return Number(readFileSync(join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
}
const cpuNow = () => ({
  bench: process.cpuUsage(),
  hub: cpuSeconds(hubProc.child.pid),
  pg: cpuSeconds(postmasterPid(), true),
});
const cpuSince = (a: ReturnType<typeof cpuNow>) => {
  const b = cpuNow();
  const bench = (b.bench.user + b.bench.system - a.bench.user - a.bench.system) / 1e6;
  return { bench, hub: b.hub - a.hub, pg: b.pg - a.pg };
};

async function issueToken(name: string): Promise<string> {
  const r = await fetch(`${hub.url}/api/benches/${name}/token`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN}` },
  });
  return ((await r.json()) as { token: string }).token;
}
try {
  if (part('forward')) {
    // 1. forwarding throughput
    const dir = dirs.make();
    const frames = Array.from({ length: FRAMES }, (_, k) => frame(k));
    const benches = [];
    for (let b = 0; b < BENCHES; b++) {
      const name = `fwd-${b}`;
      const path = join(dir, `${name}.db`);
      const store = openSqliteStore(path);
      const outbox = new Outbox(path, { batchLines: 500 });
      const id = store.createRun({
        sequence: { name: 'bench-fleet', hash: 'h' },
        station: { name, snapshot: { lanes: { rows: 20, cols: 20 } } },
        dut: `FWD-${b}`,
        operator: 'bench',
        software: { version: '0.1.0' },
      });
      store.appendStep(id, { index: 0, id: 's', name: 's', type: 'sweep', startedAt: new Date().toISOString() });
      store.batch(() => {
        for (const f of frames) store.addMeasurement(id, 's', f);
      });
      store.finishRun(id, { outcome: 'PASS' });
      const client = new HubClient({ url: hub.url, bench: name, token: await issueToken(name) });
      await client.register({ station: name, sequences: [], capabilities: [] });
      benches.push({ store, outbox, forwarder: new Forwarder({ outbox, client }) });
    }
    const cpu0 = cpuNow();
    const t0 = performance.now();
    await Promise.all(benches.map((b) => b.forwarder.flush()));
    const fwdS = (performance.now() - t0) / 1000;
    // CPU time is the steadiest figure on a loaded machine: per million values, each process
    const cpu = cpuSince(cpu0);
    const perM = (s: number) => (s * 1e6) / (BENCHES * FRAMES * LANES);
    out.forwardCpuBenchSPerM = perM(cpu.bench);
    out.forwardCpuHubSPerM = perM(cpu.hub);
    out.forwardCpuPgSPerM = perM(cpu.pg);
    const values = BENCHES * FRAMES * LANES;
    const check = await pool.query(
      "SELECT count(*)::int AS n, sum(lane_count)::int AS v FROM measurements WHERE run_id IN (SELECT id FROM runs WHERE bench LIKE 'fwd-%')",
    );
    if (check.rows[0].v !== values) throw new Error(`forwarded ${check.rows[0].v} lane values, expected ${values}`);
    out.forwardValuesPerS = Math.round(values / fwdS);
    out.forwardSeconds = fwdS;
    for (const b of benches) {
      b.outbox.close();
      b.store.close();
    }
  }

  if (part('yield')) {
    // 2. lane-position yield over 10,000 DUTs x 400 lanes (rows made in PostgreSQL: what is timed is the query)
    await pool.query(`INSERT INTO runs (id, bench, record_schema, sequence_name, sequence_hash, station_name,
      station_snapshot, dut, operator, software_version, started_at, started_ms, outcome, lot)
      SELECT 'y' || g, 'yield-bench', 1, 'q', 'h', 's', '{"lanes":{"rows":20,"cols":20}}', 'D' || g, 'o', '0',
        '2026-01-01T00:00:00Z', 1767225600000 + g, 'PASS', 'LOT-' || (g % 10) FROM generate_series(1, ${DUTS}) g`);
    await pool.query(`INSERT INTO run_lanes (run_id, codes)
      SELECT 'y' || g, decode(string_agg(CASE WHEN (g * 7 + l * 13) % 97 = 0 THEN '03' WHEN l = 0 THEN '00' ELSE '01' END, ''), 'hex')
      FROM generate_series(1, ${DUTS}) g, generate_series(0, ${LANES}) l GROUP BY g`);
    const times: number[] = [];
    let lanesOut = 0;
    for (let i = 0; i < 5; i++) {
      const t = performance.now();
      const y = (await (await fetch(`${hub.url}/api/analytics/lane-yield?bench=yield-bench`)).json()) as {
        runs: number;
        lanes: unknown[];
      };
      times.push(performance.now() - t);
      if (y.runs !== DUTS) throw new Error(`yield over ${y.runs} runs, expected ${DUTS}`);
      lanesOut = y.lanes.length;
    }
    times.sort((a, b) => a - b);
    out.yieldMs = times[2]!;
    out.yieldLanes = lanesOut;
  }

  if (part('fleet')) {
    // 3. fleet view latency: 50 heartbeating benches, 100 WebSocket clients
    const hb: HubClient[] = [];
    for (let b = 0; b < HB_BENCHES; b++) {
      const name = `hb-${b}`;
      const c = new HubClient({ url: hub.url, bench: name, token: await issueToken(name) });
      await c.register({ station: name, sequences: [], capabilities: [] });
      hb.push(c);
    }
    // the clients: a worker thread (same clock), each message's latency = now - the heartbeat's sentAt
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
       const WebSocket = require('ws');
       const lat = []; const socks = []; let open = 0;
       for (let i = 0; i < workerData.clients; i++) {
         const ws = new WebSocket(workerData.url);
         ws.on('message', (d) => { const m = JSON.parse(String(d)); const now = Date.now();
           const list = m.type === 'bench' ? [m.bench] : m.type === 'changed' ? m.benches : [];
           for (const b of list) { const s = b.status && b.status.sentAt; if (typeof s === 'number') lat.push(now - s); } });
         ws.on('open', () => { if (++open === workerData.clients) parentPort.postMessage('open'); });
         socks.push(ws);
       }
       parentPort.on('message', () => { for (const ws of socks) ws.close(); parentPort.postMessage(lat); });`,
      { eval: true, workerData: { url: `${hub.url.replace('http', 'ws')}/ws`, clients: CLIENTS } },
    );
    await new Promise((r) => worker.once('message', r));
    const fleetCpu0 = cpuNow();
    const until = Date.now() + HB_SECONDS * 1000;
    await Promise.all(
      hb.map(async (c, i) => {
        await new Promise((r) => setTimeout(r, (1000 * i) / HB_BENCHES));
        while (Date.now() < until) {
          const next = Date.now() + 1000;
          await c.heartbeat({ state: 'idle', sentAt: Date.now() } as BenchStatus);
          await new Promise((r) => setTimeout(r, Math.max(0, next - Date.now())));
        }
      }),
    );
    await new Promise((r) => setTimeout(r, 300));
    const lat = await new Promise<number[]>((r) => {
      worker.once('message', r);
      worker.postMessage('stop');
    });
    await worker.terminate();
    lat.sort((a, b) => a - b);
    const fleetCpu = cpuSince(fleetCpu0);
    // per 1,000 heartbeats (each fanned out to every client): the hub's and PostgreSQL's CPU
    out.fleetCpuHubSPerKHb = (fleetCpu.hub * 1000) / (HB_BENCHES * HB_SECONDS);
    out.fleetCpuPgSPerKHb = (fleetCpu.pg * 1000) / (HB_BENCHES * HB_SECONDS);
    out.fleetUpdates = lat.length;
    out.fleetP50Ms = quantile(lat, 0.5);
    out.fleetP99Ms = quantile(lat, 0.99);
  }

  const rows: [string, string, string][] = [];
  if (part('forward'))
    rows.push([
      `forwarding, ${BENCHES} benches x ${FRAMES} frames x ${LANES} lanes`,
      `${(out.forwardValuesPerS! / 1e6).toFixed(2)} M values/s (${out.forwardSeconds!.toFixed(2)} s); CPU s per M values: benches ${out.forwardCpuBenchSPerM!.toFixed(2)}, hub ${out.forwardCpuHubSPerM!.toFixed(2)}, PostgreSQL ${out.forwardCpuPgSPerM!.toFixed(2)}`,
      '>= 1 M values/s',
    ]);
  if (part('yield'))
    rows.push([
      `lane-position yield, ${DUTS} DUTs x ${LANES} lanes`,
      `${out.yieldMs!.toFixed(0)} ms (median of 5)`,
      '< 1000 ms',
    ]);
  if (part('fleet'))
    rows.push([
      `fleet view, ${HB_BENCHES} benches at 1 Hz, ${CLIENTS} clients`,
      `p50 ${out.fleetP50Ms} ms, p99 ${out.fleetP99Ms} ms (${out.fleetUpdates} updates); CPU s per 1,000 heartbeats: hub ${out.fleetCpuHubSPerKHb!.toFixed(2)}, PostgreSQL ${out.fleetCpuPgSPerKHb!.toFixed(2)}`,
      'p99 < 200 ms',
    ]);
  for (const [what, got, target] of rows) process.stdout.write(`${what.padEnd(56)} ${got.padEnd(40)} ${target}\n`);
  process.stdout.write(`${JSON.stringify(out)}\n`);
} finally {
  await pool.end();
  await hubProc.stop();
  await pgsrv.close();
  dirs.cleanup();
}
