import type { Logger } from 'pino';
import { ScpiSession } from '../scpi/session.ts';
import { createTransport, type OpenOptions } from '../transport/open.ts';
import type { Transport } from '../transport/transport.ts';

export interface AcquireOptions {
  /** Session name for errors and logs (the role). The first acquirer names the shared session. */
  name?: string;
  timeoutMs?: number;
  terminator?: string;
  logger?: Logger;
  /** Transport options: connect timeout, reconnect policy, serial settings. */
  transport?: OpenOptions;
  /** Builds the transport instead of createTransport (tests: a PairTransport). */
  createTransport?: (resource: string, options: OpenOptions) => Transport;
}

/** One user's share of a pooled session. */
export interface SessionHandle {
  readonly resource: string;
  readonly session: ScpiSession;
  readonly released: boolean;
  /** Opens the shared link if it is not open (one attempt, shared with concurrent callers). */
  open(signal?: AbortSignal): Promise<void>;
  /** Gives this handle back; the connection closes when the last handle is released. Idempotent. */
  release(): Promise<void>;
}

interface Entry {
  session: ScpiSession;
  refs: number;
}

/**
 * Connection ownership: one session per instrument resource, shared by every user in this pool; releasing
 * one handle never closes another's connection. Make one pool per process or per Station (never a module
 * singleton) and pass it to whoever needs the same instruments.
 */
export class SessionPool {
  private readonly entries = new Map<string, Entry>();
  private readonly defaults: AcquireOptions;

  constructor(defaults: AcquireOptions = {}) {
    this.defaults = defaults;
  }

  acquire(resource: string, options: AcquireOptions = {}): SessionHandle {
    const key = resource.trim();
    let entry = this.entries.get(key);
    if (!entry) {
      const o = { ...this.defaults, ...options };
      const make = o.createTransport ?? createTransport;
      const transport = make(key, o.transport ?? {});
      const session = new ScpiSession(transport, {
        ...(o.name !== undefined ? { name: o.name } : {}),
        ...(o.timeoutMs !== undefined ? { timeoutMs: o.timeoutMs } : {}),
        ...(o.terminator !== undefined ? { terminator: o.terminator } : {}),
        ...(o.logger !== undefined ? { logger: o.logger } : {}),
      });
      entry = { session, refs: 0 };
      this.entries.set(key, entry);
    }
    entry.refs++;
    const e = entry;
    let released = false;
    return {
      resource: key,
      session: e.session,
      get released() {
        return released;
      },
      open: (signal) => e.session.open(signal),
      release: async () => {
        if (released) return;
        released = true;
        e.refs--;
        if (e.refs === 0) {
          if (this.entries.get(key) === e) this.entries.delete(key);
          await e.session.close().catch(() => undefined);
        }
      },
    };
  }

  /** Resources with at least one handle, and how many. */
  usage(): { resource: string; refs: number }[] {
    return [...this.entries].map(([resource, e]) => ({ resource, refs: e.refs }));
  }

  /** Closes every connection regardless of handles (process shutdown). */
  async closeAll(): Promise<void> {
    const all = [...this.entries.values()];
    this.entries.clear();
    await Promise.all(all.map((e) => e.session.close().catch(() => undefined)));
  }
}
