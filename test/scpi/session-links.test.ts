/**
 * ScpiSession when the link is not simply ready: a lost link that comes back slowly or not in time, a write after a
 * lost link or behind a reply still owed, a call cancelled while the session waits for an owed reply, a late block,
 * and links that clear the instrument after a failed read (VXI-11), where no reply is owed and nothing is waited for.
 * Real sockets and in-process pairs against simulated or scripted instruments.
 */
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { AbortedError, TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { createTransport } from '../../src/transport/open.ts';
import { PairTransport } from '../../src/transport/pair.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { slowDemoInstrument } from '../helpers/demo-instrument.ts';
import { rawPeer } from '../helpers/raw-peer.ts';
import { startVxi11Peer } from '../helpers/vxi11-peer.ts';

const cleanups = cleanupsAfterEach();

async function until(test: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!test() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 5));
}

/**
 * An in-process instrument that answers `Q?` with `ok` and records every line; each (re)connect settles for
 * `settleMs` before the link counts as open (a slow link coming back). `server()` is the current server end.
 */
async function pairInstrument(settleMs: number, timeoutMs: number) {
  const lines: string[] = [];
  let server: Duplex | undefined;
  const t = new PairTransport(
    'PAIR::link',
    (end: Duplex) => {
      server = end;
      let buf = '';
      end.on('data', (d: Buffer) => {
        buf += d.toString();
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          lines.push(line);
          if (line.endsWith('?')) end.write('ok\n');
        }
      });
      return true;
    },
    { reconnect: false, settleMs },
  );
  const s = new ScpiSession(t, { timeoutMs });
  cleanups.push(() => s.close());
  await s.open();
  const drop = async () => {
    server!.destroy();
    await until(() => t.state === 'lost', 2000);
    expect(t.state).toBe('lost');
  };
  return { s, t, lines, drop };
}

/** An instrument that answers strictly in order: SLOW? after `slowMs` (`stale`), FAST? at once (`fresh`). */
async function inOrderInstrument(slowMs: number) {
  const log: string[] = [];
  let busyUntil = 0;
  const peer = await rawPeer((line, sock) => {
    log.push(`rx ${line}`);
    const reply = line === 'SLOW?' ? 'stale\n' : line === 'SLOWBLK?' ? '#13abc' : line === 'FAST?' ? 'fresh\n' : '';
    if (reply === '') return;
    const now = Date.now();
    const at = Math.max(now + (line.startsWith('SLOW') ? slowMs : 0), busyUntil);
    busyUntil = at;
    setTimeout(() => {
      log.push(`tx ${reply.trim()}`);
      sock.write(reply);
    }, at - now);
  });
  cleanups.push(() => peer.close());
  return { port: peer.port, log };
}

async function tcpSession(port: number, opts: ConstructorParameters<typeof ScpiSession>[1]) {
  const s = new ScpiSession(createTransport(`TCPIP0::127.0.0.1::${port}::SOCKET`, { reconnect: false }), {
    name: 'demo',
    ...opts,
  });
  cleanups.push(() => s.close());
  await s.open();
  return s;
}

describe('a lost link', () => {
  it('a query reconnects first when the link is back within its timeout', async () => {
    const { s, lines, drop } = await pairInstrument(0, 500);
    await drop();
    expect(await s.query('Q?')).toBe('ok');
    expect(lines).toEqual(['Q?']);
  });

  it('a write reconnects first, then sends (it does not fail on the lost link)', async () => {
    const { s, lines, drop } = await pairInstrument(0, 500);
    await drop();
    await s.write('SET 1');
    await until(() => lines.length > 0, 1000);
    expect(lines).toEqual(['SET 1']);
  });

  it('a query whose link is not back within its timeout fails with "no connection" after that timeout; the session stays usable', async () => {
    const { s, drop, lines } = await pairInstrument(600, 150);
    await drop();
    const t0 = performance.now();
    const err = await s.query('Q?').catch((e) => e);
    const took = performance.now() - t0;
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('PAIR::link: no connection within 150 ms');
    // bounded by the query's own timeout: not at once, not after the link's 600 ms settle (a stated margin of 300 ms)
    expect(took).toBeGreaterThanOrEqual(140);
    expect(took).toBeLessThan(450);
    // the reconnect went on; the next call waits for it (within its own timeout) and gets its reply
    expect(await s.query('Q?', { timeoutMs: 2000 })).toBe('ok');
    expect(lines).toEqual(['Q?']);
  });

  it('a write whose link is not back within the timeout fails the same way, by the session timeout or its own', async () => {
    const { s, drop } = await pairInstrument(600, 150);
    await drop();
    let t0 = performance.now();
    const err = await s.write('SET 1').catch((e) => e);
    expect(err).toBeInstanceOf(TimeoutError);
    expect(err.message).toBe('PAIR::link: no connection within 150 ms');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    await s.write('SET 2', { timeoutMs: 2000 });
    await drop();
    t0 = performance.now();
    await expect(s.write('SET 3', { timeoutMs: 100 })).rejects.toThrow('PAIR::link: no connection within 100 ms');
    expect(performance.now() - t0).toBeGreaterThanOrEqual(90);
  });
});

describe('replies owed by timed-out queries', () => {
  it('a command written after a timed-out query goes after the owed reply, not before it', async () => {
    const inst = await inOrderInstrument(400);
    const s = await tcpSession(inst.port, { timeoutMs: 60, lateReplyGraceMs: 1000 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    await s.write('SET 1');
    expect(await s.query('FAST?')).toBe('fresh');
    expect(inst.log).toEqual(['rx SLOW?', 'tx stale', 'rx SET 1', 'rx FAST?', 'tx fresh']);
  });

  it('a call cancelled while the session waits for an owed reply is rejected at once and never sent', async () => {
    const inst = await inOrderInstrument(60_000); // the owed reply never comes within the test
    const s = await tcpSession(inst.port, { timeoutMs: 40, lateReplyGraceMs: 5000 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    const t0 = performance.now();
    await expect(s.query('FAST?', { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    expect(performance.now() - t0).toBeLessThan(2000); // not the 5 s grace
    await new Promise((r) => setTimeout(r, 100));
    expect(inst.log).toEqual(['rx SLOW?']);
  });

  it('after a call cancelled during the owed wait, the next queued call has the session to itself', async () => {
    const inst = await inOrderInstrument(300);
    const s = await tcpSession(inst.port, { timeoutMs: 40, lateReplyGraceMs: 1000 });
    await expect(s.query('SLOW?')).rejects.toBeInstanceOf(TimeoutError);
    const ac = new AbortController();
    const cancelled = s.request('FAST?', { signal: ac.signal });
    const queued = s.query('FAST?', { timeoutMs: 2000 });
    setTimeout(() => ac.abort(), 50);
    await expect(cancelled).rejects.toBeInstanceOf(AbortedError);
    // the queued query now waits for the owed reply; a new call waits behind it, not beside it
    const next = s.query('FAST?', { timeoutMs: 2000 });
    expect(await next).toBe('fresh');
    expect(await queued).toBe('fresh');
    expect(inst.log).toEqual(['rx SLOW?', 'tx stale', 'rx FAST?', 'tx fresh', 'rx FAST?', 'tx fresh']);
  });

  it('a late block reply is dropped and traced by its size', async () => {
    const inst = await inOrderInstrument(150);
    const s = await tcpSession(inst.port, { timeoutMs: 60, lateReplyGraceMs: 1000 });
    await expect(s.query('SLOWBLK?')).rejects.toBeInstanceOf(TimeoutError);
    expect(await s.query('FAST?')).toBe('fresh');
    expect(s.transcript.entries().map((e) => [e.dir, e.text])).toEqual([
      ['tx', 'SLOWBLK?'],
      ['err', 'timeout after 60 ms'],
      ['err', 'discarded late reply: 3-byte block'],
      ['tx', 'FAST?'],
      ['rx', 'fresh'],
    ]);
  });

  it('a cancelled query is traced as an error with the abort message', async () => {
    const inst = await inOrderInstrument(150);
    const s = await tcpSession(inst.port, { timeoutMs: 2000, lateReplyGraceMs: 1000 });
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 30);
    const err = await s.query('SLOW?', { signal: ac.signal }).catch((e) => e);
    expect(err).toBeInstanceOf(AbortedError);
    const entry = s.transcript.entries().find((e) => e.dir === 'err')!;
    expect(entry.text).toBe(err.message);
    expect(entry.ms).toBeGreaterThanOrEqual(20);
    expect(entry.ms).toBeLessThan(2000);
  });
});

describe('a link that clears the instrument after a failed read (VXI-11)', () => {
  /** A demo instrument whose TEST:SLOW? answers after 400 ms; the session's grace is long (3 s) on purpose. */
  async function vxi11Session() {
    const p = await startVxi11Peer([{ names: ['inst0'], instrument: slowDemoInstrument(400) }]);
    cleanups.push(() => p.close());
    const s = new ScpiSession(createTransport(p.resource('inst0'), { ...p.options, reconnect: false }), {
      name: 'inst0',
      timeoutMs: 2000,
      lateReplyGraceMs: 3000,
    });
    cleanups.push(() => s.close());
    await s.open();
    expect(s.transport.clearsAfterFailedRead).toBe(true);
    return s;
  }

  it('after a timeout no reply is owed: the next query goes at once, not after the grace', async () => {
    const s = await vxi11Session();
    await expect(s.query('TEST:SLOW?', { timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    const t0 = performance.now();
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(performance.now() - t0).toBeLessThan(1500); // far from the 3 s grace
  });

  it('after an abort no reply is owed either', async () => {
    const s = await vxi11Session();
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 50);
    await expect(s.query('TEST:SLOW?', { signal: ac.signal })).rejects.toBeInstanceOf(AbortedError);
    const t0 = performance.now();
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(performance.now() - t0).toBeLessThan(1500);
  });
});

describe('a write the link cannot take at once', () => {
  it('resolves only once the command has left the send buffer (backpressure), not while it waits there', async () => {
    // an instrument that stops reading until told to go on: the kernel buffers fill and the stream holds the rest
    let peerSocket: net.Socket | undefined;
    let received = 0;
    const server = net.createServer((sock) => {
      peerSocket = sock;
      sock.pause();
      sock.on('data', (d) => {
        received += d.length;
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise((r) => server.close(r)));
    cleanups.push(() => peerSocket?.destroy());
    const port = (server.address() as net.AddressInfo).port;
    const s = await tcpSession(port, { timeoutMs: 2000 });
    await until(() => peerSocket !== undefined, 1000);
    const command = `DATA ${'x'.repeat(16 * 1024 * 1024)}`;
    let done = false;
    const written = s.write(command).then(() => {
      done = true;
    });
    await new Promise((r) => setTimeout(r, 200));
    expect(done).toBe(false);
    peerSocket!.resume();
    await written;
    expect(done).toBe(true);
    await until(() => received === command.length + 1, 5000);
    expect(received).toBe(command.length + 1); // the whole command and its terminator
  });
});
