import { performance } from 'node:perf_hooks';
import { describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, FramingError, InstrumentError, TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { serveStream } from '../../src/sim/server/connection.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { createTransport } from '../../src/transport/open.ts';
import { PairTransport } from '../../src/transport/pair.ts';
import type { ConnectionState } from '../../src/transport/transport.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';
import { rawPeer, refusingPort } from '../helpers/raw-peer.ts';

const cleanups = cleanupsAfterEach();

async function tcpSession(port: number, opts: ConstructorParameters<typeof ScpiSession>[1] = {}) {
  const session = new ScpiSession(
    createTransport(`TCPIP0::127.0.0.1::${port}::SOCKET`, { reconnect: { initialMs: 20, maxMs: 100 } }),
    {
      name: 'demo',
      ...opts,
    },
  );
  cleanups.push(() => session.close());
  await session.open();
  return session;
}

describe('ScpiSession against a simulated instrument over TCP', () => {
  it('queries, parses *IDN?, numbers, lists and blocks', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const s = await tcpSession(server.port);
    expect(await s.idn()).toMatchObject({
      manufacturer: 'cpobench-sim',
      model: 'DEMO-1',
      serial: 'SN0001',
      firmware: '1.0',
    });
    await s.write('VOLT 2.5');
    expect(await s.queryNumber('VOLT?')).toBe(2.5);
    await s.write('SOUR:VOLT 1.5,(@1:3,7)');
    expect(await s.queryNumbers('MEAS:VOLT? (@1:8)')).toEqual([1.5, 1.5, 1.5, 0, 0, 0, 1.5, 0]);
    const block = await s.queryBlock('FETC:BLOC? 600');
    expect(block.length).toBe(600);
    expect(block.includes(0x0a)).toBe(true);
    expect(await s.tst()).toBe(0);
    expect(await s.opc()).toBe(true);
    expect(s.transcript.size).toBeGreaterThan(10);
    expect(s.transcript.entries().some((e) => e.dir === 'tx' && e.text === 'VOLT 2.5')).toBe(true);
  });

  it('drains the error queue and raises an error carrying code, message and command', async () => {
    const server = await serveTcp(new DemoInstrument());
    cleanups.push(() => server.close());
    const s = await tcpSession(server.port);
    const err = await s.write('VOLT 99', { checkErrors: true }).catch((e) => e);
    expect(err).toBeInstanceOf(InstrumentError);
    expect(err.command).toBe('VOLT 99');
    expect(err.errors[0]).toEqual({ code: -222, message: 'Data out of range;expected 0..10 V' });
    expect(err.message).toContain('-222,"Data out of range');
    await s.write('BOGUS:CMD');
    await s.write('VOLT 1');
    expect(await s.drainErrors()).toEqual([{ code: -113, message: 'Undefined header' }]);
    expect(await s.drainErrors()).toEqual([]);
  });

  it('times out naming the instrument, command and timeout, not later than asked, and the next query works', async () => {
    let answer = true;
    let delayNext = 0;
    const peer = await rawPeer((line, sock) => {
      if (line === 'HANG?') return;
      if (line.endsWith('?') && answer) setTimeout(() => sock.write('42\n'), delayNext);
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port, { timeoutMs: 150 });
    const t0 = performance.now();
    const err = await s.query('HANG?').catch((e) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('demo: no reply to "HANG?" within 150 ms');
    expect(took).toBeGreaterThanOrEqual(140);
    // "not later": well under the next multiple of the timeout even on a loaded 2-core CI machine
    expect(took).toBeLessThan(150 + 2000);
    answer = true;
    // the instrument never answers HANG?, so the session waits out the late-reply grace first; that wait
    // must not eat the next query's own timeout (the peer answers after 100 ms, within its 150 ms)
    delayNext = 100;
    expect(await s.query('X?')).toBe('42');
  });

  it('discards a reply that arrives after its timeout and never hands it to the next query', async () => {
    const peer = await rawPeer((line, sock) => {
      if (line === 'SLOW?') setTimeout(() => sock.write('stale\n'), 150);
      else if (line === 'FAST?') sock.write('fresh\n');
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port, { timeoutMs: 80, lateReplyGraceMs: 400 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    // the late reply lands while the next query is being prepared: it must be dropped
    expect(await s.query('FAST?')).toBe('fresh');
    expect(await s.query('FAST?')).toBe('fresh');
    expect(s.transcript.entries().some((e) => e.text.includes('discarded late reply: stale'))).toBe(true);
  });

  it('drops a late reply that arrived while idle', async () => {
    const peer = await rawPeer((line, sock) => {
      if (line === 'SLOW?') setTimeout(() => sock.write('stale\n'), 100);
      else if (line === 'FAST?') sock.write('fresh\n');
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port, { timeoutMs: 50, lateReplyGraceMs: 10 });
    const discards: [number, string][] = [];
    s.transport.on('discard', (bytes, why) => discards.push([bytes, why]));
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    await new Promise((r) => setTimeout(r, 200));
    expect(await s.query('FAST?')).toBe('fresh');
    // it came after the grace: no longer counted as the owed reply, it went as unsolicited input
    expect(s.transcript.entries().map((e) => [e.dir, e.text])).toEqual([
      ['tx', 'SLOW?'],
      ['err', 'timeout after 50 ms'],
      ['err', 'discarded 5 bytes of unsolicited input'],
      ['tx', 'FAST?'],
      ['rx', 'fresh'],
    ]);
    expect(discards).toEqual([[5, 'unsolicited input before a command']]);
  });

  it('cancels a query with an AbortSignal, queued ones without sending them', async () => {
    const seen: string[] = [];
    const peer = await rawPeer((line, sock) => {
      seen.push(line);
      if (line === 'FAST?') sock.write('ok\n');
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port, { timeoutMs: 5000, lateReplyGraceMs: 20 });
    const ac = new AbortController();
    const blocked = s.query('NEVER?', { signal: ac.signal });
    const queued = s.query('QUEUED?', { signal: ac.signal });
    const reason = new Error('operator');
    setTimeout(() => ac.abort(reason), 50);
    const t0 = performance.now();
    await expect(blocked).rejects.toBeInstanceOf(AbortedError);
    const err = await queued.catch((e) => e);
    expect(err.message).toMatch(/aborted before it was sent/);
    expect(err.cause).toBe(reason);
    expect(performance.now() - t0).toBeLessThan(1000);
    expect(await s.query('FAST?')).toBe('ok');
    expect(seen).not.toContain('QUEUED?');
  });

  it('times each query by its own timeout after fast ones, and aborts by the signal each query passes', async () => {
    const peer = await rawPeer((line, sock) => {
      if (line !== 'HANG?') sock.write('ok\n');
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port, { timeoutMs: 5000, lateReplyGraceMs: 1 });
    // many fast replies under a long timeout, then a short one: it must not wait for the long one's timer
    for (let i = 0; i < 50; i++) expect(await s.query('FAST?')).toBe('ok');
    let t0 = performance.now();
    await expect(s.query('HANG?', { timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    let took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(95);
    expect(took).toBeLessThan(2000);
    // a fast reply under a short timeout, then a longer one: the short one's timer must not end it early
    expect(await s.query('FAST?', { timeoutMs: 50 })).toBe('ok');
    t0 = performance.now();
    await expect(s.query('HANG?', { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    took = performance.now() - t0;
    expect(took).toBeGreaterThanOrEqual(295);
    expect(took).toBeLessThan(2300);
    // one signal over many queries (a step's), then another: aborting the first no longer touches anything,
    // aborting the second ends the query waiting on it
    const first = new AbortController();
    for (let i = 0; i < 5; i++) expect(await s.query('FAST?', { signal: first.signal })).toBe('ok');
    const unsignalled = s.query('HANG?', { timeoutMs: 150 });
    first.abort();
    await expect(unsignalled).rejects.toBeInstanceOf(TimeoutError);
    const second = new AbortController();
    const pending = s.query('HANG?', { signal: second.signal });
    setTimeout(() => second.abort(), 30);
    await expect(pending).rejects.toBeInstanceOf(AbortedError);
    expect(await s.query('FAST?', { signal: first.signal }).catch((e) => e)).toBeInstanceOf(AbortedError);
    expect(await s.query('FAST?')).toBe('ok');
  });

  it('keeps exactly one transaction in flight', async () => {
    let inFlight = 0;
    let maxInFlight = 0;
    const peer = await rawPeer((line, sock) => {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      setTimeout(() => {
        inFlight--;
        sock.write(`${line}\n`);
      }, 5);
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port);
    const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => s.query(`Q${i}?`)));
    expect(replies).toEqual(Array.from({ length: 20 }, (_, i) => `Q${i}?`));
    expect(maxInFlight).toBe(1);
  });

  it('says so when the connection is refused', async () => {
    const held = await refusingPort();
    cleanups.push(() => held.close());
    const port = held.port;
    const t = createTransport(`TCPIP0::127.0.0.1::${port}::SOCKET`, { reconnect: false });
    const s = new ScpiSession(t, { name: 'psu' });
    await expect(s.open()).rejects.toThrow(/connection refused by 127\.0\.0\.1:\d+/);
    expect(t.state).toBe('lost');
    await s.close();
  });

  it('reports a peer vanishing mid-query, goes lost, and reconnects once the peer is back', async () => {
    const instrument = new DemoInstrument();
    let server = await serveTcp(instrument); // port 0: the kernel picks it
    const port = server.port;
    const s = await tcpSession(port, { timeoutMs: 2000 });
    const states: ConnectionState[] = [];
    s.transport.on('state', (st) => states.push(st));
    expect(await s.query('*IDN?')).toContain('DEMO-1');
    // make the instrument hang, then kill the connection under the pending query
    const pending = s.query('*OPC?;FETC:BLOC? 10;HANG?');
    setTimeout(() => server.dropClients(), 50);
    await server.close();
    const err = await pending.catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(/connection lost/);
    expect(s.transport.state).not.toBe('open');
    expect(states).toContain('lost');
    await expect(s.query('*IDN?', { timeoutMs: 300 })).rejects.toThrow();
    // The peer comes back on the port it had (a reconnect targets one address). Between its close and here another
    // process could in principle be given that port by the kernel; then this listen fails loudly (EADDRINUSE).
    server = await serveTcp(instrument, { port });
    cleanups.push(() => server.close());
    expect(await s.query('*IDN?', { timeoutMs: 2000 })).toContain('DEMO-1');
    expect(s.transport.state).toBe('open');
  });

  it('gives a clear error for non-UTF-8 garbage and stays usable', async () => {
    const peer = await rawPeer((line, sock) => {
      if (line === 'GARBAGE?') sock.write(Buffer.from([0xff, 0xfe, 0x41, 0x0a]));
      else sock.write('ok\n');
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port);
    const err = await s.query('GARBAGE?').catch((e) => e);
    expect(err).toBeInstanceOf(FramingError);
    expect(err.message).toBe('demo: reply to "GARBAGE?" is not valid text (bytes: ff fe 41)');
    expect(await s.query('X?')).toBe('ok');
  });

  it('bounds a 1 MB reply with no terminator', async () => {
    const peer = await rawPeer((line, sock) => {
      if (line === 'FLOOD?') sock.write(Buffer.alloc(1024 * 1024, 0x41));
      else sock.write('ok\n');
    });
    cleanups.push(() => peer.close());
    const s = new ScpiSession(
      createTransport(`TCPIP0::127.0.0.1::${peer.port}::SOCKET`, { framer: { maxLineBytes: 64 * 1024 } }),
      { name: 'demo' },
    );
    cleanups.push(() => s.close());
    await s.open();
    await expect(s.query('FLOOD?')).rejects.toThrow(/exceeds 65536 bytes without a terminator/);
  });

  it('fails, without hanging, on a block cut short by the peer closing', async () => {
    const peer = await rawPeer((_line, sock) => {
      sock.write('#41000abc');
      setTimeout(() => sock.destroy(), 30);
    });
    cleanups.push(() => peer.close());
    const s = await tcpSession(peer.port, { timeoutMs: 5000 });
    const t0 = performance.now();
    const err = await s.queryBlock('FETC:FRAM?').catch((e) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect(err.message).toMatch(/block ended after 3 of the 1000 bytes its header announced/);
    expect(performance.now() - t0).toBeLessThan(2000);
  });
});

describe('ScpiSession over an in-process pair', () => {
  it('talks to a simulated instrument without sockets', async () => {
    const instrument = new DemoInstrument();
    const t = new PairTransport('PAIR::demo', (end) => {
      serveStream(instrument, end);
      return true;
    });
    const s = new ScpiSession(t, { name: 'demo' });
    await s.open();
    await expect(s.write('VOLT 3;VOLT?')).rejects.toThrow(/holds a query; use query\(\)/);
    await s.write('VOLT 3');
    expect(await s.query('SOUR2:FREQ?')).toBe('2000');
    expect(await s.query('*IDN?;VOLT?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0;3');
    await s.close();
    expect(t.state).toBe('closed');
  });
});
