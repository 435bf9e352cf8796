/**
 * Late replies are tracked, not just dropped when seen: a real instrument answers in order, so after a query timed
 * out its reply is still owed and comes before the reply to anything sent next. The session must wait (bounded
 * by the grace) for that owed reply before it sends the next command; otherwise the next query is handed the old
 * answer, a silent wrong value.
 */
import { describe, expect, it } from 'vitest';
import { TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { createTransport } from '../../src/transport/open.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { rawPeer } from '../helpers/raw-peer.ts';

const cleanups = cleanupsAfterEach();

/** An instrument that answers strictly in order; `slowMs` delays the answer to SLOW? (and so every later one). */
async function inOrderInstrument(slowMs: number) {
  const log: string[] = [];
  const times: Record<string, number> = {};
  let busyUntil = 0;
  const peer = await rawPeer((line, sock) => {
    log.push(`rx ${line}`);
    times[`rx ${line}`] = performance.now();
    const reply = line === 'SLOW?' ? 'stale' : line === 'FAST?' ? 'fresh' : undefined;
    if (reply === undefined) return;
    const now = Date.now();
    const at = Math.max(now + (line === 'SLOW?' ? slowMs : 0), busyUntil);
    busyUntil = at;
    setTimeout(() => {
      log.push(`tx ${reply}`);
      times[`tx ${reply}`] = performance.now();
      sock.write(`${reply}\n`);
    }, at - now);
  });
  cleanups.push(() => peer.close());
  return { port: peer.port, log, times };
}

async function session(port: number, opts: ConstructorParameters<typeof ScpiSession>[1]) {
  const s = new ScpiSession(createTransport(`TCPIP0::127.0.0.1::${port}::SOCKET`, { reconnect: false }), {
    name: 'demo',
    ...opts,
  });
  cleanups.push(() => s.close());
  await s.open();
  return s;
}

describe('late replies of timed-out queries', () => {
  // Guards the mutant "untracked late replies" (a timed-out query not counted as owing a reply).
  it('the next query is sent only after the owed late reply came, and gets its own answer', async () => {
    const inst = await inOrderInstrument(150);
    const s = await session(inst.port, { timeoutMs: 60, lateReplyGraceMs: 1000 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    expect(await s.query('FAST?')).toBe('fresh');
    expect(inst.log).toEqual(['rx SLOW?', 'tx stale', 'rx FAST?', 'tx fresh']);
    expect(s.transcript.entries().some((e) => e.text === 'discarded late reply: stale')).toBe(true);
  });

  it('the next command goes as soon as the owed reply came, not after the whole grace', async () => {
    const inst = await inOrderInstrument(150);
    const s = await session(inst.port, { timeoutMs: 60, lateReplyGraceMs: 3000 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    expect(await s.query('FAST?')).toBe('fresh');
    // sent right behind the late reply (a stated margin of 1 s for a loaded machine), far from the 3 s grace
    expect(inst.times['rx FAST?'] - inst.times['tx stale']).toBeLessThan(1000);
  });

  it('a query aborted mid-flight owes its reply too', async () => {
    const inst = await inOrderInstrument(150);
    const s = await session(inst.port, { timeoutMs: 2000, lateReplyGraceMs: 1000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    await expect(s.query('SLOW?', { signal: ac.signal })).rejects.toThrow();
    expect(await s.query('FAST?')).toBe('fresh');
    expect(inst.log).toEqual(['rx SLOW?', 'tx stale', 'rx FAST?', 'tx fresh']);
  });

  it('without a grace given, it is the query timeout capped at 1 s', async () => {
    const inst = await inOrderInstrument(60_000); // never answers within the test
    const s = await session(inst.port, { timeoutMs: 100 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    const t0 = performance.now();
    await expect(s.query('FAST?', { timeoutMs: 50 })).rejects.toBeInstanceOf(TimeoutError);
    // sent after a 100 ms grace (the timeout), not the 1 s cap: a stated margin of 600 ms
    expect(inst.times['rx FAST?'] - t0).toBeGreaterThanOrEqual(90);
    expect(inst.times['rx FAST?'] - t0).toBeLessThan(100 + 600);
  });

  it('two timed-out queries owe two replies: both are drained before the next command', async () => {
    const inst = await inOrderInstrument(120);
    const s = await session(inst.port, { timeoutMs: 40, lateReplyGraceMs: 1000 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    await expect(s.query('SLOW?', { timeoutMs: 40 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await s.query('FAST?')).toBe('fresh');
    expect(inst.log.indexOf('rx FAST?')).toBeGreaterThan(inst.log.lastIndexOf('tx stale'));
    expect(inst.log.filter((l) => l === 'tx stale')).toHaveLength(2);
  });

  it('an owed reply that never comes delays the next command by the grace only', async () => {
    const inst = await inOrderInstrument(60_000); // the first answer never comes within the test
    const s = await session(inst.port, { timeoutMs: 40, lateReplyGraceMs: 100 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    // the instrument is still busy with SLOW?, so FAST? times out too, but it was sent after the grace
    await expect(s.query('FAST?', { timeoutMs: 40 })).rejects.toBeInstanceOf(TimeoutError);
    expect(inst.log).toEqual(['rx SLOW?', 'rx FAST?']);
  });
});
