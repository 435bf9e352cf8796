/**
 * Asks one resource for its `*IDN?` over cpobench's own transport, with bounded connect and reply times, and
 * closes it again. Never throws: a failure is the note of the result.
 */
import { errorMessage } from '../core/errors.ts';
import { ScpiSession } from '../scpi/session.ts';
import { createTransport, type OpenOptions } from '../transport/open.ts';

export interface ProbeOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  transport?: OpenOptions;
}

export async function probeIdn(resource: string, o: ProbeOptions): Promise<{ idn?: string; note?: string }> {
  let session: ScpiSession;
  try {
    session = new ScpiSession(
      createTransport(resource, { connectTimeoutMs: o.timeoutMs, reconnect: false, ...o.transport }),
      { name: resource, timeoutMs: o.timeoutMs },
    );
  } catch (err) {
    return { note: errorMessage(err) };
  }
  try {
    await session.open(o.signal);
    const idn = await session.query('*IDN?', o.signal ? { signal: o.signal } : {});
    return { idn: idn.trim() };
  } catch (err) {
    return { note: errorMessage(err).replace(`${resource}: `, '') };
  } finally {
    await session.close().catch(() => undefined);
  }
}

/** Runs `fn` over `items`, at most `limit` at a time, keeping the order of the results. */
export async function mapLimit<T, R>(items: readonly T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  const worker = async () => {
    for (let i = next++; i < items.length; i = next++) out[i] = await fn(items[i]!);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return out;
}
