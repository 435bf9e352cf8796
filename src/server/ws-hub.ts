/**
 * The WebSocket fan-out: one instance per server, no module-level state.
 *
 * - Every bus event gets the next `seq` and a `ts` and is serialized once; all clients get the same string.
 * - A bounded ring of recent events (count and bytes) lets a client resume with `/ws?since=N`; when N is
 *   no longer in the ring (or is from another server life) the client gets a fresh snapshot instead.
 * - A client is sent to directly while its `ws.bufferedAmount` is under `lowWaterBytes`. Above it, messages
 *   wait in a per-client queue where `lanes` frames (and `progress` per step) coalesce (one pending frame per step, metric and sweep
 *   coordinates, partial frames merged, newest values win: src/shared/fold.js). A client whose queue passes `maxQueued` messages or `maxQueuedBytes`, or whose
 *   buffered bytes pass `lowWaterBytes + maxQueuedBytes`, is dropped (close 1013); it may reconnect and resume.
 *   Publishing never waits on a client, so a slow browser never slows the run.
 */
import type { WebSocket } from 'ws';
import type { BenchEvent } from '../core/record.ts';
import { frameKey, mergeFrames } from '../shared/fold.js';

type LanesEvent = Extract<BenchEvent, { type: 'lanes' }>;

export interface WsHubOptions {
  /** Current state for a new client; must already reflect every event published so far. */
  snapshot: () => unknown;
  ringSize?: number;
  ringBytes?: number;
  lowWaterBytes?: number;
  maxQueued?: number;
  maxQueuedBytes?: number;
  flushIntervalMs?: number;
  now?: () => number;
}

interface RingEntry {
  seq: number;
  data: string;
  /** Kept for lanes frames so a congested client can merge them. */
  lanes?: { ts: number; event: LanesEvent };
  /** For progress events: run/step; a congested client keeps only the newest per key. */
  progressKey?: string;
}

interface QueueEntry {
  seq: number;
  data?: string;
  lanes?: { ts: number; event: LanesEvent };
  progressKey?: string;
  bytes: number;
}

interface Client {
  id: number;
  ws: WebSocket;
  queue: QueueEntry[];
  queuedBytes: number;
  /** metric -> pending lanes entry in `queue` */
  pendingLanes: Map<string, QueueEntry>;
  /** run/step -> pending progress entry in `queue` */
  pendingProgress: Map<string, QueueEntry>;
  sent: number;
  coalesced: number;
  maxQueuedSeen: number;
}

export interface ClientStats {
  id: number;
  queued: number;
  queuedBytes: number;
  maxQueuedSeen: number;
  bufferedAmount: number;
  sent: number;
  coalesced: number;
}

export interface HubStats {
  seq: number;
  clients: number;
  dropped: number;
  ring: { size: number; bytes: number; firstSeq: number | null };
  perClient: ClientStats[];
}

export class WsHub {
  private seq = 0;
  private ring: RingEntry[] = [];
  private ringBytesUsed = 0;
  private readonly clients = new Set<Client>();
  private nextClientId = 1;
  private dropped = 0;
  private flushTimer: NodeJS.Timeout | null = null;
  private closed = false;
  private readonly o: Required<Omit<WsHubOptions, 'snapshot'>> & Pick<WsHubOptions, 'snapshot'>;

  constructor(opts: WsHubOptions) {
    this.o = {
      snapshot: opts.snapshot,
      ringSize: opts.ringSize ?? 2048,
      ringBytes: opts.ringBytes ?? 16 * 1024 * 1024,
      lowWaterBytes: opts.lowWaterBytes ?? 256 * 1024,
      maxQueued: opts.maxQueued ?? 512,
      maxQueuedBytes: opts.maxQueuedBytes ?? 4 * 1024 * 1024,
      flushIntervalMs: opts.flushIntervalMs ?? 20,
      now: opts.now ?? Date.now,
    };
  }

  get currentSeq(): number {
    return this.seq;
  }

  /** Sequence, record and fan out one bus event. Never blocks on clients. */
  publish(event: BenchEvent): void {
    if (this.closed) return;
    const seq = ++this.seq;
    const ts = this.o.now();
    const data = JSON.stringify({ seq, ts, ...event });
    const entry: RingEntry = { seq, data };
    if (event.type === 'lanes') entry.lanes = { ts, event };
    else if (event.type === 'progress') entry.progressKey = `${event.runId}/${event.step}`;
    this.ring.push(entry);
    this.ringBytesUsed += data.length;
    while (this.ring.length > this.o.ringSize || (this.ringBytesUsed > this.o.ringBytes && this.ring.length > 1)) {
      const old = this.ring.shift()!;
      this.ringBytesUsed -= old.data.length;
    }
    for (const c of this.clients) this.deliver(c, entry);
  }

  /** Take over an upgraded socket: snapshot (or replay from `since`), then live events. */
  attach(ws: WebSocket, since?: number): void {
    if (this.closed) {
      ws.terminate();
      return;
    }
    const c: Client = {
      id: this.nextClientId++,
      ws,
      queue: [],
      queuedBytes: 0,
      pendingLanes: new Map(),
      pendingProgress: new Map(),
      sent: 0,
      coalesced: 0,
      maxQueuedSeen: 0,
    };
    this.clients.add(c);
    ws.on('close', () => this.remove(c));
    ws.on('error', () => this.remove(c));
    ws.on('message', (raw, isBinary) => this.onMessage(c, raw, isBinary));

    // An empty ring only happens before the first event (seq 0), where `seq ± 1` accept the same `since`.
    // Stryker disable next-line ArithmeticOperator: equivalent (see above)
    const firstSeq = this.ring.length > 0 ? this.ring[0].seq : this.seq + 1;
    // `since !== undefined` and `since >= 0` spell out what Number.isSafeInteger and `since >= firstSeq - 1 >= 0`
    // already decide: their `true` mutants cannot be told apart.
    const canResume =
      Number.isSafeInteger(since) &&
      // Stryker disable next-line ConditionalExpression: equivalent (see above)
      since !== undefined &&
      // Stryker disable next-line ConditionalExpression: equivalent (see above)
      since >= 0 &&
      since <= this.seq &&
      since >= firstSeq - 1;
    if (canResume) {
      const start = this.ring.findIndex((e) => e.seq > since);
      const replay = start < 0 ? [] : this.ring.slice(start);
      this.sendNow(c, { seq: since, ts: this.o.now(), type: 'resume', since, replay: replay.length });
      for (const e of replay) this.deliver(c, e);
    } else {
      const snap = this.o.snapshot();
      const body = snap !== null && typeof snap === 'object' ? (snap as Record<string, unknown>) : { state: snap };
      this.sendNow(c, { ...body, seq: this.seq, ts: this.o.now(), type: 'snapshot' });
    }
  }

  stats(): HubStats {
    return {
      seq: this.seq,
      clients: this.clients.size,
      dropped: this.dropped,
      ring: { size: this.ring.length, bytes: this.ringBytesUsed, firstSeq: this.ring[0]?.seq ?? null },
      perClient: [...this.clients].map((c) => ({
        id: c.id,
        queued: c.queue.length,
        queuedBytes: c.queuedBytes,
        maxQueuedSeen: c.maxQueuedSeen,
        bufferedAmount: c.ws.bufferedAmount,
        sent: c.sent,
        coalesced: c.coalesced,
      })),
    };
  }

  close(): void {
    this.closed = true;
    if (this.flushTimer) clearInterval(this.flushTimer);
    this.flushTimer = null;
    for (const c of this.clients) c.ws.terminate();
    this.clients.clear();
    this.ring = [];
    this.ringBytesUsed = 0;
  }

  private onMessage(c: Client, raw: unknown, isBinary: boolean): void {
    let msg: unknown;
    try {
      if (isBinary) throw new Error('binary messages are not accepted');
      msg = JSON.parse(String(raw));
    } catch (err) {
      this.sendError(c, `malformed message: ${(err as Error).message}`);
      return;
    }
    const type = msg !== null && typeof msg === 'object' ? (msg as { type?: unknown }).type : undefined;
    if (type === 'ping') {
      const id = (msg as { id?: unknown }).id;
      this.sendNow(c, { seq: this.seq, ts: this.o.now(), type: 'pong', id: typeof id === 'string' ? id : undefined });
      return;
    }
    this.sendError(
      c,
      typeof type === 'string' ? `unknown message type: ${type}` : 'message must be an object with a type',
    );
  }

  private sendError(c: Client, message: string): void {
    this.sendNow(c, { seq: this.seq, ts: this.o.now(), type: 'error', message });
  }

  /** Per-client control messages (snapshot, resume, pong, error): ahead of any queue, still bounded. */
  private sendNow(c: Client, msg: Record<string, unknown>): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.ws.bufferedAmount > this.o.lowWaterBytes + this.o.maxQueuedBytes) {
      this.drop(c);
      return;
    }
    const data = JSON.stringify(msg);
    if (c.queue.length > 0) {
      // Keep seq order: behind what is already waiting for this client.
      c.queue.push({ seq: msg.seq as number, data, bytes: data.length });
      c.queuedBytes += data.length;
      this.scheduleFlush();
      return;
    }
    c.ws.send(data);
    c.sent++;
  }

  private deliver(c: Client, e: RingEntry): void {
    if (c.ws.readyState !== c.ws.OPEN) return;
    if (c.queue.length > 0) this.flushClient(c);
    if (c.queue.length === 0 && c.ws.bufferedAmount < this.o.lowWaterBytes) {
      c.ws.send(e.data);
      c.sent++;
      return;
    }
    this.enqueue(c, e);
    if (
      c.queue.length > this.o.maxQueued ||
      c.queuedBytes > this.o.maxQueuedBytes ||
      c.ws.bufferedAmount > this.o.lowWaterBytes + this.o.maxQueuedBytes
    ) {
      this.drop(c);
      return;
    }
    this.scheduleFlush();
  }

  private enqueue(c: Client, e: RingEntry): void {
    if (e.lanes) {
      // one pending frame per step, metric and coordinates: a frame at 85 °C never replaces the one at 25 °C
      const key = frameKey(e.lanes.event);
      const prev = c.pendingLanes.get(key);
      let event = e.lanes.event;
      if (prev?.lanes) {
        const idx = c.queue.indexOf(prev);
        if (idx >= 0) c.queue.splice(idx, 1);
        c.queuedBytes -= prev.bytes;
        c.coalesced++;
        if (prev.lanes.event.runId === event.runId) event = mergeFrames(prev.lanes.event, event);
      }
      const bytes = event === e.lanes.event ? e.data.length : estimateBytes(event);
      const q: QueueEntry = {
        seq: e.seq,
        data: event === e.lanes.event ? e.data : undefined,
        lanes: { ts: e.lanes.ts, event },
        bytes,
      };
      c.queue.push(q);
      c.queuedBytes += bytes;
      c.pendingLanes.set(key, q);
    } else if (e.progressKey) {
      // only the newest progress of a step matters to a client that is behind
      const prev = c.pendingProgress.get(e.progressKey);
      if (prev) {
        const idx = c.queue.indexOf(prev);
        if (idx >= 0) c.queue.splice(idx, 1);
        c.queuedBytes -= prev.bytes;
        c.coalesced++;
      }
      const q: QueueEntry = { seq: e.seq, data: e.data, bytes: e.data.length, progressKey: e.progressKey };
      c.queue.push(q);
      c.queuedBytes += q.bytes;
      c.pendingProgress.set(e.progressKey, q);
    } else {
      c.queue.push({ seq: e.seq, data: e.data, bytes: e.data.length });
      c.queuedBytes += e.data.length;
    }
    if (c.queue.length > c.maxQueuedSeen) c.maxQueuedSeen = c.queue.length;
  }

  private flushClient(c: Client): void {
    while (c.queue.length > 0 && c.ws.readyState === c.ws.OPEN && c.ws.bufferedAmount < this.o.lowWaterBytes) {
      const q = c.queue.shift()!;
      c.queuedBytes -= q.bytes;
      if (q.lanes && c.pendingLanes.get(q.lanes.event.metric) === q) c.pendingLanes.delete(q.lanes.event.metric);
      if (q.progressKey && c.pendingProgress.get(q.progressKey) === q) c.pendingProgress.delete(q.progressKey);
      const data = q.data ?? JSON.stringify({ seq: q.seq, ts: q.lanes!.ts, ...q.lanes!.event });
      c.ws.send(data);
      c.sent++;
    }
  }

  private scheduleFlush(): void {
    if (this.flushTimer || this.closed) return;
    this.flushTimer = setInterval(() => {
      let pending = false;
      for (const c of this.clients) {
        this.flushClient(c);
        if (c.queue.length > 0) pending = true;
      }
      if (!pending && this.flushTimer) {
        clearInterval(this.flushTimer);
        this.flushTimer = null;
      }
    }, this.o.flushIntervalMs);
    this.flushTimer.unref();
  }

  private drop(c: Client): void {
    if (!this.clients.has(c)) return;
    this.dropped++;
    this.remove(c);
    // Try a polite close first; a client that stopped reading will never see it, so cut the socket.
    try {
      c.ws.close(1013, 'client too slow');
    } catch {
      /* already closing */
    }
    c.ws.terminate();
  }

  private remove(c: Client): void {
    this.clients.delete(c);
    c.queue = [];
    c.queuedBytes = 0;
    c.pendingLanes.clear();
    c.pendingProgress.clear();
  }
}

function estimateBytes(e: LanesEvent): number {
  return 200 + e.lanes.length * 24;
}
