/**
 * The WebSocket hub on its own (no server, no sockets): a fake socket records what the hub sends, so resume,
 * snapshot and backpressure rules are checked message by message.
 */
import { EventEmitter } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import type { WebSocket } from 'ws';
import type { BenchEvent } from '../../src/core/record.ts';
import { WsHub, type WsHubOptions } from '../../src/server/ws-hub.ts';

type Msg = { seq: number; ts: number; type: string; [k: string]: unknown };

class FakeSocket extends EventEmitter {
  readonly OPEN = 1;
  readyState = 1;
  bufferedAmount = 0;
  readonly sent: Msg[] = [];
  closedWith: { code?: number; reason?: string } | undefined;
  terminated = false;
  send(data: string): void {
    this.sent.push(JSON.parse(data) as Msg);
  }
  close(code?: number, reason?: string): void {
    this.closedWith = { code, reason };
  }
  terminate(): void {
    this.terminated = true;
    this.readyState = 3;
  }
  get types(): string[] {
    return this.sent.map((m) => m.type);
  }
}

const hubs: WsHub[] = [];
afterEach(() => {
  for (const h of hubs.splice(0)) h.close();
});

function makeHub(o: Partial<WsHubOptions> = {}): WsHub {
  let t = 1000;
  const hub = new WsHub({ snapshot: () => ({ run: null }), now: () => t++, ...o });
  hubs.push(hub);
  return hub;
}

function attach(hub: WsHub, since?: number): FakeSocket {
  const ws = new FakeSocket();
  hub.attach(ws as unknown as WebSocket, since);
  return ws;
}

const log = (msg: string): BenchEvent => ({ type: 'log', level: 'info', msg });

function publishLogs(hub: WsHub, n: number): void {
  for (let i = 1; i <= n; i++) hub.publish(log(`e${i}`));
}

describe('WsHub resume', () => {
  it('a new client gets a snapshot at the current seq, then live events with seq and ts', () => {
    const hub = makeHub();
    publishLogs(hub, 3);
    const ws = attach(hub);
    expect(ws.sent[0]).toMatchObject({ type: 'snapshot', seq: 3, run: null });
    hub.publish(log('live'));
    expect(ws.sent[1]).toMatchObject({ type: 'log', seq: 4, msg: 'live' });
    expect(typeof ws.sent[1].ts).toBe('number');
    expect(hub.currentSeq).toBe(4);
  });

  it('a snapshot that is not an object (null included) is wrapped as {state}', () => {
    const hub = makeHub({ snapshot: () => 'idle' });
    expect(attach(hub).sent[0]).toMatchObject({ type: 'snapshot', seq: 0, state: 'idle' });
    const none = makeHub({ snapshot: () => null });
    expect(attach(none).sent[0]).toEqual({ type: 'snapshot', seq: 0, ts: expect.any(Number), state: null });
  });

  it('resumes from since=N with exactly the events after N, then live ones', () => {
    const hub = makeHub({ ringSize: 10 });
    publishLogs(hub, 8);
    const ws = attach(hub, 5);
    expect(ws.sent[0]).toMatchObject({ type: 'resume', seq: 5, since: 5, replay: 3 });
    expect(ws.sent.slice(1).map((m) => m.seq)).toEqual([6, 7, 8]);
    expect(ws.sent.slice(1).map((m) => m.msg)).toEqual(['e6', 'e7', 'e8']);
    hub.publish(log('e9'));
    expect(ws.sent.at(-1)).toMatchObject({ seq: 9, msg: 'e9' });
  });

  it('resume at the current seq replays nothing; since=0 on a fresh hub replays everything', () => {
    const hub = makeHub({ ringSize: 10 });
    publishLogs(hub, 4);
    const upToDate = attach(hub, 4);
    expect(upToDate.sent).toEqual([expect.objectContaining({ type: 'resume', since: 4, replay: 0 })]);
    const fromStart = attach(hub, 0);
    expect(fromStart.sent[0]).toMatchObject({ type: 'resume', since: 0, replay: 4 });
    expect(fromStart.sent.slice(1).map((m) => m.seq)).toEqual([1, 2, 3, 4]);
    const empty = makeHub();
    expect(attach(empty, 0).sent[0]).toMatchObject({ type: 'resume', since: 0, replay: 0 });
  });

  // Guards the mutant "accept a resume one event too old" (`since >= firstSeq - 1` loosened to `firstSeq - 2`):
  // replaying from the ring would then silently skip event `firstSeq - 1`, which the ring no longer holds.
  it('refuses a resume one event older than the ring holds (snapshot instead of a silent gap)', () => {
    const hub = makeHub({ ringSize: 5 });
    publishLogs(hub, 12); // ring holds 8..12
    expect(hub.stats().ring).toMatchObject({ size: 5, firstSeq: 8 });
    // since=7: the client has 7, the ring starts at 8: no gap, full replay
    const edge = attach(hub, 7);
    expect(edge.sent[0]).toMatchObject({ type: 'resume', since: 7, replay: 5 });
    expect(edge.sent.slice(1).map((m) => m.seq)).toEqual([8, 9, 10, 11, 12]);
    // since=6: event 7 left the ring; a resume would miss it
    const tooOld = attach(hub, 6);
    expect(tooOld.sent).toHaveLength(1);
    expect(tooOld.sent[0]).toMatchObject({ type: 'snapshot', seq: 12 });
  });

  it('the byte bound of the ring decides what can be resumed too', () => {
    const hub = makeHub({ ringSize: 100, ringBytes: 400 });
    for (let i = 1; i <= 10; i++) hub.publish(log(`${i}`.padStart(60, 'x'))); // ~120 bytes each
    const ring = hub.stats().ring;
    expect(ring.bytes).toBeLessThanOrEqual(400);
    expect(ring.size).toBe(3);
    expect(ring.firstSeq).toBe(8);
    expect(attach(hub, 7).sent[0]).toMatchObject({ type: 'resume', replay: 3 });
    expect(attach(hub, 6).sent[0]).toMatchObject({ type: 'snapshot' });
  });

  it('a ring exactly at its byte bound keeps everything', () => {
    const probe = makeHub({ ringBytes: 1 << 20 });
    publishLogs(probe, 3);
    const bytes = probe.stats().ring.bytes; // the same three events, serialized the same way
    const hub = makeHub({ ringBytes: bytes });
    publishLogs(hub, 3);
    expect(hub.stats().ring).toMatchObject({ size: 3, bytes, firstSeq: 1 });
    hub.publish(log('4'));
    expect(hub.stats().ring.firstSeq).toBeGreaterThan(1);
  });

  it('keeps at least the newest event even when it alone exceeds the byte bound', () => {
    const hub = makeHub({ ringBytes: 10 });
    publishLogs(hub, 3);
    expect(hub.stats().ring).toMatchObject({ size: 1, firstSeq: 3 });
    expect(attach(hub, 2).sent.map((m) => m.seq)).toEqual([2, 3]);
  });

  it('since from the future, negative or not an integer: a fresh snapshot', () => {
    const hub = makeHub();
    publishLogs(hub, 3);
    for (const since of [4, 1000, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
      const ws = attach(hub, since);
      expect(
        ws.sent.map((m) => m.type),
        `since=${since}`,
      ).toEqual(['snapshot']);
    }
  });
});

describe('WsHub with a congested client', () => {
  const lanes = (metric: string, l: number[], v: number[], step = 'ber'): BenchEvent => ({
    type: 'lanes',
    runId: 'r1',
    step,
    metric,
    unit: 'W',
    lanes: l,
    values: v,
  });

  it('keeps one pending lanes frame per metric (merged, newest wins) and one progress per step', () => {
    const hub = makeHub({ lowWaterBytes: 100, flushIntervalMs: 60_000 });
    const ws = attach(hub);
    ws.bufferedAmount = 1000; // the client stopped reading
    hub.publish(lanes('rx', [1, 2], [10, 20]));
    hub.publish({ type: 'progress', runId: 'r1', step: 'ber', done: 1, total: 3 });
    hub.publish(lanes('rx', [2, 3], [21, 31]));
    hub.publish(lanes('ber', [1], [1e-9]));
    hub.publish({ type: 'progress', runId: 'r1', step: 'ber', done: 2, total: 3 });
    hub.publish(log('kept'));
    expect(ws.sent.map((m) => m.type)).toEqual(['snapshot']);
    const st = hub.stats().perClient[0];
    expect(st).toMatchObject({ queued: 4, coalesced: 2, id: 1 });
    ws.bufferedAmount = 0; // reading again: the next publish flushes the queue first, in seq order
    hub.publish(log('after'));
    const got = ws.sent.slice(1);
    expect(got.map((m) => m.type)).toEqual(['lanes', 'lanes', 'progress', 'log', 'log']);
    expect(got[0]).toMatchObject({ metric: 'rx', lanes: [1, 2, 3], values: [10, 21, 31], seq: 3 });
    expect(got[1]).toMatchObject({ metric: 'ber', lanes: [1], values: [1e-9], seq: 4 });
    expect(got[2]).toMatchObject({ done: 2, seq: 5 });
    expect(got.map((m) => m.seq)).toEqual([3, 4, 5, 6, 7]);
  });

  it('lanes frames of another step, or of the same step at other coordinates, are each kept, not merged', () => {
    const hub = makeHub({ lowWaterBytes: 100, flushIntervalMs: 60_000 });
    const ws = attach(hub);
    ws.bufferedAmount = 1000;
    hub.publish(lanes('rx', [1, 2], [10, 20], 'li'));
    hub.publish(lanes('rx', [3], [30], 'ber'));
    hub.publish({ ...lanes('rx', [3], [25], 't-ber'), at: { temperature: 25 } } as BenchEvent);
    hub.publish({ ...lanes('rx', [3], [85], 't-ber'), at: { temperature: 85 } } as BenchEvent);
    hub.publish({ ...lanes('rx', [4], [86], 't-ber'), at: { temperature: 85 } } as BenchEvent);
    ws.bufferedAmount = 0;
    hub.publish(log('x'));
    expect(ws.sent.slice(1, 5)).toMatchObject([
      { metric: 'rx', step: 'li', lanes: [1, 2], values: [10, 20] },
      { metric: 'rx', step: 'ber', lanes: [3], values: [30] },
      { metric: 'rx', step: 't-ber', at: { temperature: 25 }, lanes: [3], values: [25] },
      // the same step, metric and coordinates: merged, lane by lane
      { metric: 'rx', step: 't-ber', at: { temperature: 85 }, lanes: [3, 4], values: [85, 86] },
    ]);
  });

  it('drops a client whose queue passes its bound, and counts it', () => {
    const hub = makeHub({ lowWaterBytes: 100, maxQueued: 3, flushIntervalMs: 60_000 });
    const slow = attach(hub);
    const fast = attach(hub);
    slow.bufferedAmount = 1000;
    for (let i = 0; i < 4; i++) hub.publish(log(`m${i}`));
    expect(slow.terminated).toBe(true);
    expect(slow.closedWith).toEqual({ code: 1013, reason: 'client too slow' });
    expect(hub.stats()).toMatchObject({ clients: 1, dropped: 1 });
    expect(fast.sent).toHaveLength(5);
  });
});

describe('WsHub messages from clients', () => {
  it('answers ping with pong (id kept when a string), anything else with an error to that client only', () => {
    const hub = makeHub();
    const a = attach(hub);
    const b = attach(hub);
    a.emit('message', Buffer.from(JSON.stringify({ type: 'ping', id: 'p1' })), false);
    a.emit('message', Buffer.from(JSON.stringify({ type: 'ping', id: 7 })), false);
    a.emit('message', Buffer.from('{nope'), false);
    a.emit('message', Buffer.from(JSON.stringify({ type: 'x' })), false);
    a.emit('message', Buffer.from('null'), false);
    a.emit('message', Buffer.from('{}'), true);
    expect(a.sent.slice(1)).toEqual([
      expect.objectContaining({ type: 'pong', id: 'p1' }),
      expect.not.objectContaining({ id: expect.anything() }),
      expect.objectContaining({ type: 'error', message: expect.stringMatching(/^malformed message: /) }),
      expect.objectContaining({ type: 'error', message: 'unknown message type: x' }),
      expect.objectContaining({ type: 'error', message: 'message must be an object with a type' }),
      expect.objectContaining({ type: 'error', message: 'malformed message: binary messages are not accepted' }),
    ]);
    expect(a.sent[2].type).toBe('pong');
    expect(b.sent.map((m) => m.type)).toEqual(['snapshot']);
  });
});

describe('WsHub lifecycle', () => {
  it('a closed socket stops receiving; stats count clients', () => {
    const hub = makeHub();
    const a = attach(hub);
    const b = attach(hub);
    expect(hub.stats().clients).toBe(2);
    expect(hub.stats().perClient.map((p) => p.id)).toEqual([1, 2]);
    a.readyState = 3;
    a.emit('close');
    hub.publish(log('x'));
    expect(a.sent).toHaveLength(1);
    expect(b.sent).toHaveLength(2);
    expect(hub.stats().clients).toBe(1);
    b.emit('error', new Error('reset'));
    expect(hub.stats().clients).toBe(0);
  });

  it('after close(): clients are cut, nothing is published, new sockets are terminated', () => {
    const hub = makeHub();
    const a = attach(hub);
    hub.close();
    expect(a.terminated).toBe(true);
    hub.publish(log('late'));
    expect(hub.currentSeq).toBe(0);
    const b = attach(hub);
    expect(b.terminated).toBe(true);
    expect(b.sent).toHaveLength(0);
    expect(hub.stats()).toMatchObject({ clients: 0, ring: { size: 0, bytes: 0, firstSeq: null } });
  });
});
