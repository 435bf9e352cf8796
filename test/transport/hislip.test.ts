/**
 * HiSLIP over real sockets on 127.0.0.1: cpobench's client (HislipTransport + ScpiSession) against the simulated
 * instruments' HiSLIP server: messages split into Data... DataEnd both ways, sub-addresses, the MessageID rule
 * that drops a reply to an older command, device clear after a timeout or an abort, the exclusive lock, an
 * unreachable host and a refused connection.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { type HislipServerHandle, serveHislip } from '../../src/sim/server/hislip-server.ts';
import type { ScpiInstrument } from '../../src/sim/server/instrument.ts';
import { encodeMessage, MessageReader, MSG } from '../../src/transport/hislip/protocol.ts';
import type { HislipTransport } from '../../src/transport/hislip/transport.ts';
import { createTransport, type OpenOptions } from '../../src/transport/open.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { DemoInstrument, slowDemoInstrument } from '../helpers/demo-instrument.ts';
import { hangingPort } from '../helpers/vxi11-peer.ts';

const cleanups = cleanupsAfterEach();

async function server(
  devices: { names: string[]; instrument: ScpiInstrument }[] = [
    { names: ['hislip0'], instrument: new DemoInstrument() },
  ],
  maxMessageBytes?: number,
): Promise<HislipServerHandle> {
  const s = await serveHislip(devices, maxMessageBytes ? { maxMessageBytes } : {});
  cleanups.push(() => s.close());
  return s;
}

const res = (srv: { port: number }, sub = 'hislip0') => `TCPIP0::127.0.0.1::${sub},${srv.port}::INSTR`;

async function session(srv: { port: number }, sub = 'hislip0', extra: OpenOptions = {}, timeoutMs = 2000) {
  const s = new ScpiSession(createTransport(res(srv, sub), { reconnect: false, ...extra }), { name: sub, timeoutMs });
  cleanups.push(() => s.close());
  await s.open();
  return s;
}

describe('HiSLIP message framing', () => {
  it('cuts a byte stream into messages whatever the chunking, and refuses a header without "HS"', () => {
    const got: string[] = [];
    const r = new MessageReader(1000, (m) => got.push(`${m.type}:${m.param}:${m.payload.toString()}`));
    const stream = Buffer.concat([
      encodeMessage(MSG.Data, 0, 0xffffff00, Buffer.from('ab')),
      encodeMessage(MSG.DataEnd, 0, 0xffffff00, Buffer.from('cd\n')),
      encodeMessage(MSG.AsyncLockInfo, 0, 0),
    ]);
    for (const b of stream) r.push(Buffer.from([b]));
    r.push(stream);
    expect(got).toEqual([
      '6:4294967040:ab',
      '7:4294967040:cd\n',
      '24:0:',
      '6:4294967040:ab',
      '7:4294967040:cd\n',
      '24:0:',
    ]);
    expect(() => r.push(Buffer.from('XS0000000000000000'))).toThrow(/does not start with "HS"/);
    expect(() => new MessageReader(10, () => undefined).push(encodeMessage(MSG.Data, 0, 0, Buffer.alloc(11)))).toThrow(
      /11-byte payload is larger than the 10-byte limit/,
    );
  });
});

describe('cpobench over HiSLIP (TCPIP::host::hislipN,port::INSTR)', () => {
  it('queries, writes, reads the error queue, lists and a binary block', async () => {
    const srv = await server();
    const s = await session(srv);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await s.write('NOT:A:COMMAND');
    expect(await s.query('SYST:ERR?')).toBe('-113,"Undefined header"');
    await s.write('VOLT 3,(@1:8)');
    expect(await s.queryNumbers('VOLT? (@1:8)')).toEqual(Array(8).fill(3));
    const block = await s.queryBlock('FETC:BLOC? 100000');
    expect(block.length).toBe(100000);
    expect(block[99999]).toBe(99999 % 256);
    expect((s.transport as HislipTransport).link!.overlapped).toBe(false);
  });

  it('splits messages at the negotiated maximum size: commands into Data... DataEnd, replies likewise', async () => {
    const srv = await server(undefined, 80);
    const long = `VOLT 1.5,(@1:8);${'*OPC;'.repeat(60)}*OPC`;
    const s = await session(srv, 'hislip0', { framer: { maxBlockBytes: 64 } });
    expect((s.transport as HislipTransport).link!.serverMaxMessage).toBe(80);
    await s.write(long);
    expect(await s.queryNumber('VOLT? (@8)')).toBe(1.5);
    const block = await s.queryBlock('FETC:BLOC? 50'); // 50 bytes + header > 64 - 16: two messages
    expect(block.length).toBe(50);
  });

  it('tells instruments apart by sub-address; an unknown one is refused with the server’s reason', async () => {
    const b = new DemoInstrument();
    b.identity = { ...b.identity, serial: 'SN0002' };
    const srv = await server([
      { names: ['hislip0', 'psu'], instrument: new DemoInstrument() },
      { names: ['hislip1', 'meter'], instrument: b },
    ]);
    expect(await (await session(srv, 'hislip1')).query('*IDN?')).toContain('SN0002');
    expect(await (await session(srv, 'hislip0')).query('*IDN?')).toContain('SN0001');
    const t = createTransport(res(srv, 'hislip7'), { reconnect: false });
    await expect(t.open()).rejects.toThrow(
      `${res(srv, 'hislip7')}: HiSLIP hislip7 at 127.0.0.1:${srv.port}: the server sent a fatal error: unidentified error: no instrument at sub-address "hislip7"`,
    );
  });

  it('a timeout ends with a device clear; the late reply carries an old MessageID and never reaches the next query', async () => {
    const srv = await server([{ names: ['hislip0'], instrument: slowDemoInstrument(300) }]);
    const s = await session(srv, 'hislip0', {}, 5000);
    await expect(s.query('TEST:SLOW?', { timeoutMs: 100 })).rejects.toBeInstanceOf(TimeoutError);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await new Promise((r) => setTimeout(r, 350));
    expect(await s.query('*OPC?')).toBe('1');
    expect(s.transport.clearsAfterFailedRead).toBe(true);
  });

  it('an abort while a read is pending ends it at once; the next query gets its own reply', async () => {
    const srv = await server([{ names: ['hislip0'], instrument: slowDemoInstrument(400) }]);
    const s = await session(srv, 'hislip0', {}, 5000);
    const ac = new AbortController();
    const t0 = Date.now();
    const q = s.query('TEST:SLOW?', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(q).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - t0).toBeLessThan(300);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(await s.query('SYST:ERR?')).toBe('0,"No error"');
  });

  it('the exclusive lock: a second locking client is refused with what AsyncLockInfo says; others wait for it', async () => {
    const srv = await server();
    const holder = await session(srv, 'hislip0', { lockDevice: true });
    expect(await holder.query('*IDN?')).toContain('DEMO-1');
    const t = createTransport(res(srv), { lockDevice: true, lockTimeoutMs: 100, reconnect: false });
    await expect(t.open()).rejects.toThrow(
      `${res(srv)}: the instrument is locked by another client (AsyncLockInfo: 1 client holds a lock); HiSLIP does not say which client`,
    );
    const info = await (holder.transport as HislipTransport).link!.lockInfo(1000);
    expect(info).toEqual({ exclusive: true, holders: 1 });
    // a lock request waiting for the holder can be given up
    const waiting = await session(srv);
    const ac = new AbortController();
    const t0 = Date.now();
    const req = (waiting.transport as HislipTransport).link!.lock(5000, undefined, ac.signal);
    setTimeout(() => ac.abort(), 50);
    await expect(req).rejects.toThrow(/: aborted$/);
    expect(Date.now() - t0).toBeLessThan(1000);
    // a client without the lock is served once the holder lets go
    const other = await session(srv, 'hislip0', {}, 3000);
    const pending = other.query('*IDN?');
    await new Promise((r) => setTimeout(r, 100));
    await (holder.transport as HislipTransport).link!.unlock(1000);
    expect(await pending).toContain('DEMO-1');
  });

  it('reads the status byte on the asynchronous channel', async () => {
    const srv = await server();
    const s = await session(srv);
    await s.write('NOT:A:COMMAND');
    await s.query('*OPC?');
    expect(((await (s.transport as HislipTransport).link!.statusByte(1000)) & 4) === 4).toBe(true);
  });

  it('an unreachable host: a bounded connect; a closed port: refused; both name the resource', async () => {
    const hang = await hangingPort();
    cleanups.push(() => hang.close());
    const r1 = `TCPIP0::127.0.0.1::hislip0,${hang.port}::INSTR`;
    const t = createTransport(r1, { connectTimeoutMs: 300, reconnect: false });
    const t0 = Date.now();
    await expect(t.open()).rejects.toThrow(
      `${r1}: HiSLIP hislip0 at 127.0.0.1:${hang.port}: no connection within 300 ms (host down or filtered?)`,
    );
    expect(Date.now() - t0).toBeLessThan(1500);
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const r2 = `TCPIP0::127.0.0.1::hislip0,${port}::INSTR`;
    const err = await createTransport(r2, { reconnect: false })
      .open()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toBe(
      `${r2}: HiSLIP hislip0 at 127.0.0.1:${port}: connection refused (no HiSLIP server on that port)`,
    );
  });

  it('a dropped connection fails the read naming the resource; the link comes back', async () => {
    const srv = await server([{ names: ['hislip0'], instrument: slowDemoInstrument(300) }]);
    const s = new ScpiSession(createTransport(res(srv), { reconnect: { initialMs: 20, maxMs: 100 } }), {
      name: 'hislip0',
      timeoutMs: 2000,
    });
    cleanups.push(() => s.close());
    await s.open();
    const q = s.query('TEST:SLOW?');
    setTimeout(() => srv.dropClients(), 50);
    await expect(q).rejects.toThrow(`${res(srv)}: connection lost`);
    expect(await s.query('*IDN?')).toContain('DEMO-1');
  });
});
