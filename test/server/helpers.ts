import WebSocket from 'ws';
import { type BenchServer, createServer, type ServerOptions } from '../../src/server/app.ts';
import { FakeController, type FakeOptions } from './fake-controller.ts';

export const TOKEN = 'test-token-0123456789';

export async function startBench(
  fake: FakeOptions = {},
  server: Partial<ServerOptions> = {},
): Promise<{ srv: BenchServer; ctl: FakeController }> {
  const ctl = new FakeController(fake);
  const srv = await createServer({ controller: ctl, token: TOKEN, host: '127.0.0.1', port: 0, ...server });
  return { srv, ctl };
}

export type Msg = { seq: number; ts: number; type: string; [k: string]: unknown };

/** A WebSocket client that records every message and can wait for one. */
export class WsClient {
  readonly msgs: Msg[] = [];
  readonly ws: WebSocket;
  private waiters: Array<() => void> = [];
  closed = false;

  constructor(url: string, opts?: WebSocket.ClientOptions) {
    this.ws = new WebSocket(url, opts);
    this.ws.on('message', (d) => {
      this.msgs.push(JSON.parse(String(d)) as Msg);
      this.wake();
    });
    this.ws.on('close', () => {
      this.closed = true;
      this.wake();
    });
    this.ws.on('error', () => {});
  }

  static async open(url: string, opts?: WebSocket.ClientOptions): Promise<WsClient> {
    const c = new WsClient(url, opts);
    await new Promise<void>((resolve, reject) => {
      c.ws.once('open', () => resolve());
      c.ws.once('error', reject);
    });
    return c;
  }

  private wake() {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  async waitFor(pred: (m: Msg) => boolean, timeoutMs = 10_000, from = 0): Promise<Msg> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.msgs.slice(from).find(pred);
      if (found) return found;
      if (this.closed) throw new Error('socket closed while waiting');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`timed out; last types: ${this.msgs.slice(-5).map((m) => m.type)}`);
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  async waitClosed(timeoutMs = 10_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!this.closed) {
      if (Date.now() > deadline) throw new Error('not closed');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  close() {
    this.ws.terminate();
  }
}

export function wsUrl(srv: BenchServer, query = ''): string {
  return `${srv.url.replace(/^http/, 'ws')}/ws${query}`;
}

export async function until(cond: () => boolean, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
