import { afterEach, describe, expect, it } from 'vitest';
import type { BenchEvent } from '../../src/core/record.ts';
import type { BenchServer } from '../../src/server/app.ts';
import type { FakeController } from './fake-controller.ts';
import { type Msg, startBench, TOKEN, until, WsClient, wsUrl } from './helpers.ts';

let srv: BenchServer;
let ctl: FakeController;
const clients: WsClient[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  const running = ctl?.health().running;
  if (running) await ctl.abortRun(running, 'test');
  await ctl?.idle().catch(() => {});
  await srv?.close();
});

async function open(query = ''): Promise<WsClient> {
  const c = await WsClient.open(wsUrl(srv, query));
  clients.push(c);
  return c;
}

async function startRun(body: Record<string, unknown> = {}): Promise<string> {
  const res = await fetch(`${srv.url}/api/runs`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ sequence: 'mosaic-qual', dut: 'SN-7', operator: 'ada', ...body }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { id: string }).id;
}

function expectStrictlyIncreasing(msgs: Msg[]) {
  for (let i = 1; i < msgs.length; i++)
    expect(msgs[i].seq, `at ${i} (${msgs[i].type})`).toBeGreaterThan(msgs[i - 1].seq);
}

const bigLanes = (metric: string, runId: string, v: number, n = 400): BenchEvent => ({
  type: 'lanes',
  runId,
  step: 'ber',
  metric,
  unit: 'uW',
  lanes: Array.from({ length: n }, (_, i) => i + 1),
  values: Array.from({ length: n }, (_, i) => v + i * 1e-9 + 0.123456789),
});

describe('WebSocket stream', () => {
  it('sends a snapshot first, then a whole run with a strictly increasing seq', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 2, berTicks: 3 }));
    const c = await open();
    const snap = await c.waitFor(() => true);
    expect(snap).toMatchObject({ type: 'snapshot', seq: 0, station: 'sim-mosaic', run: null });
    expect(snap.geometry).toEqual({ rows: 20, cols: 20, lanes: 400 });
    expect((snap.instruments as unknown[]).length).toBe(4);
    const id = await startRun();
    await c.waitFor((m) => m.type === 'run.finished');
    const events = c.msgs.slice(1);
    expect(events[0]).toMatchObject({ type: 'run.started', seq: 1, run: { id } });
    expect(events.map((m) => m.seq)).toEqual(events.map((_, i) => i + 1)); // no gaps, no repeats
    expect(events.every((m) => typeof m.ts === 'number')).toBe(true);
    const rx = events.filter((m) => m.type === 'lanes' && m.metric === 'rx_power');
    expect(new Set(rx.flatMap((m) => m.lanes as number[])).size).toBe(400);
    const meas = events
      .filter((m) => m.type === 'measurement')
      .map((m) => (m.measurement as { spec: { name: string } }).spec.name);
    expect(meas).toEqual(expect.arrayContaining(['energy_per_bit', 'rail_power', 'tec_temperature', 'li_power']));
    expect(events.find((m) => m.type === 'run.finished')).toMatchObject({ outcome: 'PASS' });
  });

  it('gives a client that joins mid-run a snapshot of the run so far, merged lanes included', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 5, berTicks: 1000 }));
    const first = await open();
    const id = await startRun();
    await first.waitFor((m) => m.type === 'lanes' && m.metric === 'rx_power' && (m.lanes as number[]).includes(200));
    const late = await open();
    const snap = await late.waitFor(() => true);
    expect(snap.type).toBe('snapshot');
    const run = snap.run as { id: string; outcome: string; stepStates: Record<string, { state: string }> };
    expect(run).toMatchObject({ id, outcome: 'RUNNING' });
    expect(run.stepStates.connect.state).toBe('done');
    const rx = (snap.lanes as Record<string, { lanes: number[]; values: number[] }>).rx_power;
    expect(rx.lanes.length).toBeGreaterThanOrEqual(200);
    expect(rx.lanes.slice(0, 3)).toEqual([1, 2, 3]);
    // after the snapshot the late client sees the same events as the first one
    const next = await late.waitFor((m) => m.type !== 'snapshot');
    expect(next.seq).toBe(snap.seq + 1);
    await first.waitFor((m) => m.seq === next.seq);
    expect(first.msgs.find((m) => m.seq === next.seq)).toEqual(next);
    // the snapshot's seq is the last event it already contains
    expect(first.msgs.find((m) => m.seq === snap.seq)?.type).not.toBe('snapshot');
  });

  it('resumes from since=N with the missed events, and falls back to a snapshot when N left the ring', async () => {
    ({ srv, ctl } = await startBench({ tickMs: 10, berTicks: 1000 }, { ws: { ringSize: 200 } }));
    const watcher = await open();
    await startRun();
    const a = await open();
    await a.waitFor((m) => m.type === 'lanes');
    a.close();
    const lastSeq = a.msgs[a.msgs.length - 1].seq;
    await until(() => srv.hub.currentSeq >= lastSeq + 10, 10_000, 'more events');
    const b = await open(`?since=${lastSeq}`);
    const hello = await b.waitFor(() => true);
    expect(hello).toMatchObject({ type: 'resume', since: lastSeq, seq: lastSeq });
    await until(() => b.msgs.length > 12);
    const replayed = b.msgs.slice(1, 12);
    expect(replayed.map((m) => m.seq)).toEqual(replayed.map((_, i) => lastSeq + 1 + i));
    for (const m of replayed) expect(m).toEqual(watcher.msgs.find((w) => w.seq === m.seq));

    // far behind: the ring (200 events) no longer has it
    await until(() => srv.hub.currentSeq > lastSeq + 260, 20_000, 'ring to roll over');
    const old = await open(`?since=${lastSeq}`);
    expect((await old.waitFor(() => true)).type).toBe('snapshot');
    // from the future (server restarted): snapshot
    const future = await open(`?since=${srv.hub.currentSeq + 1000}`);
    expect((await future.waitFor(() => true)).type).toBe('snapshot');
    // garbage since: snapshot
    const junk = await open('?since=abc');
    expect((await junk.waitFor(() => true)).type).toBe('snapshot');
  });

  it('answers malformed messages with an error to that client only and keeps the socket', async () => {
    ({ srv, ctl } = await startBench());
    const bad = await open();
    const other = await open();
    await bad.waitFor((m) => m.type === 'snapshot');
    await other.waitFor((m) => m.type === 'snapshot');
    bad.ws.send('{not json');
    bad.ws.send(JSON.stringify({ type: 'launch-missiles' }));
    bad.ws.send(JSON.stringify([1, 2]));
    bad.ws.send(Buffer.from([1, 2, 3]), { binary: true });
    bad.ws.send(JSON.stringify({ type: 'ping', id: 'p1' }));
    const pong = await bad.waitFor((m) => m.type === 'pong');
    expect(pong.id).toBe('p1');
    const errs = bad.msgs.filter((m) => m.type === 'error');
    expect(errs.map((m) => m.message)).toEqual([
      expect.stringMatching(/malformed/),
      expect.stringMatching(/unknown message type: launch-missiles/),
      expect.stringMatching(/type/),
      expect.stringMatching(/binary/),
    ]);
    other.ws.send(JSON.stringify({ type: 'ping', id: 'o1' }));
    await other.waitFor((m) => m.type === 'pong');
    expect(other.msgs.filter((m) => m.type === 'error')).toHaveLength(0);
    expect(bad.closed).toBe(false);
    // the broadcast stream still reaches the misbehaving client
    ctl.emit({ type: 'log', level: 'info', msg: 'still here' });
    await bad.waitFor((m) => m.type === 'log' && m.msg === 'still here');
  });

  it('rejects cross-origin upgrades and unknown paths', async () => {
    ({ srv, ctl } = await startBench());
    await expect(WsClient.open(wsUrl(srv), { origin: 'http://evil.example' })).rejects.toThrow(/403/);
    await expect(WsClient.open(srv.url.replace(/^http/, 'ws') + '/other')).rejects.toThrow(/404/);
    const sameOrigin = await WsClient.open(wsUrl(srv), { origin: srv.url });
    clients.push(sameOrigin);
    expect((await sameOrigin.waitFor(() => true)).type).toBe('snapshot');
  });

  it('coalesces lane frames for a slow client (latest per metric, merged) with a bounded queue', async () => {
    ({ srv, ctl } = await startBench(
      {},
      { ws: { lowWaterBytes: 16 * 1024, maxQueued: 10_000, maxQueuedBytes: 64 << 20 } },
    ));
    const fast = await open();
    const slow = await open();
    await slow.waitFor((m) => m.type === 'snapshot');
    const rawSocket = (slow.ws as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    rawSocket.pause();
    const frames = 3000;
    let logs = 0;
    for (let i = 0; i < frames; i++) {
      ctl.emit(bigLanes(i % 2 ? 'rx_power' : 'ber_upper_95', 'r1', i));
      ctl.emit({ type: 'progress', runId: 'r1', step: 'ber', done: i + 1, total: frames });
      if (i % 100 === 0) {
        ctl.emit({ type: 'log', level: 'info', msg: `mark ${i}`, runId: 'r1' });
        logs++;
      }
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
    }
    // a partial frame for one metric merges with the pending full frame
    ctl.emit({ type: 'lanes', runId: 'r1', step: 'ber', metric: 'rx_power', unit: 'uW', lanes: [7], values: [-1] });
    ctl.emit({ type: 'log', level: 'info', msg: 'end', runId: 'r1' });
    logs++;
    const stats = srv.hub.stats();
    const slowStats = stats.perClient.find((p) => p.maxQueuedSeen > 0 && p.coalesced > 0);
    expect(slowStats, JSON.stringify(stats.perClient)).toBeDefined();
    // at most one pending frame per metric and one progress per step plus the other events: never one per frame
    expect(slowStats!.maxQueuedSeen).toBeLessThanOrEqual(2 + 1 + logs + 1);
    expect(slowStats!.bufferedAmount).toBeLessThan(16 * 1024 + 64 * 1024);
    expect(stats.dropped).toBe(0);

    await fast.waitFor((m) => m.type === 'log' && m.msg === 'end', 20_000);
    rawSocket.resume();
    await slow.waitFor((m) => m.type === 'log' && m.msg === 'end', 20_000);
    const got = slow.msgs.slice(1);
    expectStrictlyIncreasing(got);
    expectStrictlyIncreasing(fast.msgs.slice(1));
    // every non-lane event arrived, in order
    expect(got.filter((m) => m.type === 'log').length).toBe(logs);
    // progress coalesced too, and the newest count won
    const progressGot = got.filter((m) => m.type === 'progress');
    expect(progressGot.length).toBeLessThan(frames / 2);
    expect(progressGot.at(-1)!.done).toBe(frames);
    const lanesGot = got.filter((m) => m.type === 'lanes');
    expect(lanesGot.length).toBeLessThan(frames / 2);
    // the newest values won, and the partial frame was merged into a full one
    const lastRx = lanesGot.filter((m) => m.metric === 'rx_power').at(-1)!;
    expect((lastRx.lanes as number[]).length).toBe(400);
    expect((lastRx.values as number[])[6]).toBe(-1);
    expect((lastRx.values as number[])[0]).toBeCloseTo(frames - 1 + 0.123456789, 6);
    const lastBer = lanesGot.filter((m) => m.metric === 'ber_upper_95').at(-1)!;
    expect((lastBer.values as number[])[0]).toBeCloseTo(frames - 2 + 0.123456789, 6);
  });

  it('drops a client that stays stuck past the bound, without affecting the others', async () => {
    ({ srv, ctl } = await startBench(
      {},
      { ws: { lowWaterBytes: 16 * 1024, maxQueued: 200, maxQueuedBytes: 1 << 20 } },
    ));
    const fast = await open();
    const slow = await open();
    await slow.waitFor((m) => m.type === 'snapshot');
    (slow.ws as unknown as { _socket: { pause(): void } })._socket.pause();
    const n = 3000;
    for (let i = 0; i < n; i++) {
      // measurements cannot be coalesced: a stuck client's backlog grows until the bound drops it
      ctl.emit({ type: 'log', level: 'debug', msg: `line ${i} ${'x'.repeat(2000)}` });
      if (i % 20 === 0) await new Promise((r) => setTimeout(r, 1));
      const s = srv.hub.stats();
      for (const p of s.perClient) {
        expect(p.queued).toBeLessThanOrEqual(200);
        expect(p.queuedBytes).toBeLessThanOrEqual(1 << 20);
      }
    }
    expect(srv.hub.stats().dropped).toBe(1);
    expect(srv.hub.stats().clients).toBe(1);
    await fast.waitFor((m) => m.type === 'log' && (m.msg as string).startsWith(`line ${n - 1} `), 20_000);
    expect(fast.msgs.filter((m) => m.type === 'log')).toHaveLength(n);
    (slow.ws as unknown as { _socket: { resume(): void } })._socket.resume();
    await slow.waitClosed();
  });
});
