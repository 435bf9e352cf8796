/**
 * Store-and-forward: sends the bench's outbox to the hub, batch by batch, in outbox order. The cursor (the last
 * outbox line the hub holds) is the hub's, read from it whenever the link comes back, so a lost answer, a hub
 * restart or a PostgreSQL outage only means resending from where the hub is: the hub applies a batch once (see
 * wire.ts). Outbox lines are pruned only once the hub confirmed them. The bench never waits for any of this.
 */
import type { HubClient } from './hub-client.ts';
import { HubAuthError, HubUnavailableError } from './hub-client.ts';
import type { Outbox } from './outbox.ts';

/** Back-off after a failure: the first wait, doubled after each further failure up to the second (ms). */
export const DEFAULT_RETRY_MS: readonly [number, number] = [200, 5000];

export interface ForwarderStatus {
  /** The hub's cursor as last confirmed, or null before the first contact. */
  cursor: number | null;
  /** Outbox lines not yet confirmed by the hub. */
  pending: number;
  /** The hub refused this bench's token: nothing is sent until restarted with a valid token. */
  refused: boolean;
  lastError?: string;
  batches: number;
  /** Attempts that failed (the hub or its database unreachable, a refusal), each followed by a back-off wait. */
  failures: number;
}

export interface ForwarderOptions {
  outbox: Outbox;
  client: HubClient;
  /** Wait when the outbox is empty (default 100 ms; `nudge()` wakes it earlier). */
  idleMs?: number;
  /** Back-off after a failure: first and longest wait (default DEFAULT_RETRY_MS: 200 ms, 5 s). */
  retryMs?: readonly [number, number];
  onError?: (err: Error) => void;
}

export class Forwarder {
  private readonly o: ForwarderOptions;
  private cursor: number | null = null;
  private refused = false;
  private lastError: string | undefined;
  private batches = 0;
  private failures = 0;
  private running: Promise<void> | null = null;
  private readonly stopCtl = new AbortController();
  private wake: (() => void) | null = null;

  constructor(o: ForwarderOptions) {
    this.o = o;
  }

  status(): ForwarderStatus {
    const after = this.cursor ?? 0;
    const s: ForwarderStatus = {
      cursor: this.cursor,
      pending: this.o.outbox.pending(after),
      refused: this.refused,
      batches: this.batches,
      failures: this.failures,
    };
    if (this.lastError !== undefined) s.lastError = this.lastError;
    return s;
  }

  start(): void {
    if (!this.running) this.running = this.loop();
  }

  /** Wakes an idle forwarder (something was written). */
  nudge(): void {
    this.wake?.();
  }

  async stop(): Promise<void> {
    this.stopCtl.abort(new Error('forwarder stopped'));
    this.wake?.();
    await this.running;
  }

  /**
   * Sends one batch; returns false when nothing was pending. Throws HubAuthError / HubUnavailableError.
   */
  async step(signal: AbortSignal = this.stopCtl.signal): Promise<boolean> {
    const { outbox, client } = this.o;
    if (this.cursor === null) this.cursor = (await client.cursor(signal)).cursor;
    const batch = outbox.read(client.bench, this.cursor);
    if (!batch) return false;
    try {
      const ack = await client.forward(batch, signal);
      this.cursor = ack.cursor;
      this.batches++;
    } catch (err) {
      // a gap: the hub holds less than we thought (e.g. its database was restored): resend from its cursor
      const body = (err as HubUnavailableError).body as { cursor?: number } | undefined;
      if (err instanceof HubUnavailableError && err.status === 409 && typeof body?.cursor === 'number') {
        this.cursor = body.cursor;
        return true;
      }
      throw err;
    }
    outbox.prune(this.cursor);
    return true;
  }

  /** Forwards until the outbox is empty (for tests and `flush` on shutdown). */
  async flush(signal?: AbortSignal): Promise<void> {
    while (await this.step(signal ?? this.stopCtl.signal)) {
      /* next batch */
    }
  }

  private async loop(): Promise<void> {
    const [first, longest] = this.o.retryMs ?? DEFAULT_RETRY_MS;
    let backoff = first;
    const signal = this.stopCtl.signal;
    while (!signal.aborted) {
      let wait = this.o.idleMs ?? 100;
      try {
        if (await this.step(signal)) wait = 0;
        backoff = first;
        this.lastError = undefined;
        this.refused = false;
      } catch (err) {
        if (signal.aborted) break;
        const e = err as Error;
        this.failures++;
        this.lastError = e.message;
        this.o.onError?.(e);
        if (err instanceof HubAuthError) {
          this.refused = true;
          wait = longest;
        } else {
          if (!(err instanceof HubUnavailableError)) this.lastError = `forwarding: ${e.message}`;
          // the hub may have restarted or lost an answer: ask it where it is before sending again
          this.cursor = null;
          wait = backoff;
          backoff = Math.min(longest, backoff * 2);
        }
      }
      if (wait > 0) await this.sleep(wait);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(done, ms);
      const self = this;
      function done() {
        clearTimeout(t);
        self.wake = null;
        resolve();
      }
      this.wake = done;
    });
  }
}
