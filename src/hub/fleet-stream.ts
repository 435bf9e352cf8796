/**
 * The fleet view's live stream (`/ws` on the hub): a browser gets every bench on connecting, then each change.
 * A change goes out at once when the stream has been quiet for `minGapMs`; changes arriving closer together
 * (50 benches heartbeating, or an event loop that was busy) are merged, newest state per bench, into one message
 * sent after the gap. Each message is serialised once, into one Buffer, for every client; a client that does not
 * read (more than 1 MiB queued) misses updates rather than growing the hub's memory, and catches up with the next.
 */
import type { IncomingMessage, Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { type WebSocket, WebSocketServer } from 'ws';
import type { BenchView } from './benches.ts';

/** What a client receives: the whole fleet first, then one bench, or several that changed together. */
export type FleetMessage =
  | { type: 'benches'; benches: BenchView[]; ts: number }
  | { type: 'bench'; bench: BenchView; ts: number }
  | { type: 'changed'; benches: BenchView[]; ts: number };

const MAX_QUEUED = 1 << 20;

export class FleetStream {
  private readonly clients = new Set<WebSocket>();
  private readonly wss = new WebSocketServer({ noServer: true, maxPayload: 4096, perMessageDeflate: false });
  private readonly pending = new Map<string, BenchView>();
  private lastSent = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly minGapMs: number;

  /** `snapshot` gives the whole fleet for a client that connects. */
  constructor(
    server: Server,
    private readonly snapshot: () => BenchView[],
    opts: { minGapMs?: number } = {},
  ) {
    this.minGapMs = opts.minGapMs ?? 50;
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      if (!req.url?.startsWith('/ws')) return socket.destroy();
      this.wss.handleUpgrade(req, socket, head, (ws) => {
        this.clients.add(ws);
        ws.on('close', () => this.clients.delete(ws));
        ws.on('error', () => this.clients.delete(ws));
        ws.send(JSON.stringify({ type: 'benches', benches: this.snapshot(), ts: Date.now() } satisfies FleetMessage));
      });
    });
  }

  /** A bench's state changed (its view is read when the message goes out: the newest state is sent). */
  changed(b: BenchView): void {
    this.pending.set(b.name, b);
    if (this.timer) return;
    const wait = this.lastSent + this.minGapMs - Date.now();
    if (wait <= 0) this.flush();
    else this.timer = setTimeout(() => this.flush(), wait);
  }

  private flush(): void {
    this.timer = null;
    this.lastSent = Date.now();
    const list = [...this.pending.values()];
    this.pending.clear();
    if (list.length === 0 || this.clients.size === 0) return;
    const ts = Date.now();
    const msg: FleetMessage =
      list.length === 1 ? { type: 'bench', bench: list[0]!, ts } : { type: 'changed', benches: list, ts };
    const data = Buffer.from(JSON.stringify(msg));
    for (const ws of this.clients) if (ws.bufferedAmount < MAX_QUEUED) ws.send(data, { binary: false });
  }

  /** Disconnects every client. */
  close(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    for (const ws of this.clients) ws.terminate();
    this.wss.close();
  }
}
