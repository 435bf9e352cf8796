import { ScpiSession } from '../../../src/scpi/session.ts';
import { type Bench, type BenchOptions, startBench } from '../../../src/sim/bench.ts';
import { createTransport } from '../../../src/transport/open.ts';

/** A started bench and sessions to its instruments over real sockets; `close()` ends them all. */
export interface TestBench {
  bench: Bench;
  /** A new open session to the instrument with this role. */
  session(role: string, opts?: { timeoutMs?: number; reconnect?: boolean }): Promise<ScpiSession>;
  close(): Promise<void>;
}

export async function openBench(options: BenchOptions = {}): Promise<TestBench> {
  const bench = await startBench(options);
  const sessions: ScpiSession[] = [];
  return {
    bench,
    async session(role, opts = {}) {
      const entry = bench.instruments.find((i) => i.role === role);
      if (!entry) throw new Error(`no ${role} on this bench`);
      const transport = createTransport(entry.resource, {
        reconnect: opts.reconnect === false ? false : { initialMs: 20, maxMs: 200 },
        baudRate: 115200,
      });
      const s = new ScpiSession(transport, { name: role, timeoutMs: opts.timeoutMs ?? 3000 });
      await s.open();
      sessions.push(s);
      return s;
    },
    async close() {
      for (const s of sessions) await s.close().catch(() => undefined);
      await bench.close();
    },
  };
}

/** Collects cleanups for afterEach. */
export function cleanupList(): { add(b: { close(): Promise<void> }): void; run(): Promise<void> } {
  const list: { close(): Promise<void> }[] = [];
  return {
    add: (b) => {
      list.push(b);
    },
    run: async () => {
      for (const b of list.splice(0)) await b.close();
    },
  };
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `fn` every `everyMs` until it returns true or `limitMs` passes; returns whether it did. */
export async function waitFor(fn: () => Promise<boolean>, limitMs: number, everyMs = 20): Promise<boolean> {
  const t0 = Date.now();
  while (Date.now() - t0 < limitMs) {
    if (await fn()) return true;
    await sleep(everyMs);
  }
  return fn();
}

/**
 * Sends commands and waits until the instrument has executed them (`;*OPC?`), so another instrument of the
 * bench sees their effect: a plain write returns once the bytes are sent.
 */
export async function exec(s: { query(cmd: string): Promise<string> }, commands: string): Promise<void> {
  const r = await s.query(`${commands};*OPC?`);
  if (!r.endsWith('1')) throw new Error(`unexpected *OPC? reply ${r}`);
}
