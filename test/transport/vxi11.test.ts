/**
 * VXI-11 over real sockets on 127.0.0.1: cpobench's client (Vxi11Transport + ScpiSession) against the simulated
 * instruments' VXI-11 server and its portmapper; the ONC RPC encoding underneath; and what goes wrong in labs:
 * an unreachable host, a portmapper without the VXI-11 program, an unknown device name, a device locked by
 * another client, a read aborted or timed out while the device still owes its reply, a dropped connection.
 */
import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { servePortmapper } from '../../src/sim/server/portmapper-server.ts';
import { createTransport, type OpenOptions } from '../../src/transport/open.ts';
import { Vxi11Client } from '../../src/transport/vxi11/client.ts';
import { dump, getPort, IPPROTO_TCP } from '../../src/transport/vxi11/portmapper.ts';
import { DEVICE_CORE, REASON } from '../../src/transport/vxi11/protocol.ts';
import {
  beginMessage,
  decodeReply,
  finishMessage,
  RecordReader,
  RpcError,
  writeCallHeader,
} from '../../src/transport/vxi11/rpc.ts';
import type { Vxi11Transport } from '../../src/transport/vxi11/transport.ts';
import { XdrError, XdrReader, XdrWriter } from '../../src/transport/vxi11/xdr.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { DemoInstrument, slowDemoInstrument } from '../helpers/demo-instrument.ts';
import { hangingPort, startVxi11Peer, type Vxi11Peer } from '../helpers/vxi11-peer.ts';

const cleanups = cleanupsAfterEach();

async function until(test: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!test() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 5));
}

async function peer(devices = [{ names: ['inst0', 'demo'], instrument: new DemoInstrument() }], maxRecvSize?: number) {
  const p = await startVxi11Peer(devices, maxRecvSize ? { maxRecvSize } : {});
  cleanups.push(() => p.close());
  return p;
}

async function session(p: Vxi11Peer, device = 'inst0', extra: OpenOptions = {}, timeoutMs = 2000) {
  const s = new ScpiSession(createTransport(p.resource(device), { ...p.options, reconnect: false, ...extra }), {
    name: device,
    timeoutMs,
  });
  cleanups.push(() => s.close());
  await s.open();
  return s;
}

describe('XDR and ONC RPC encoding', () => {
  it('round-trips integers, booleans, opaque data with padding and strings', () => {
    const w = new XdrWriter(4)
      .uint(0xfffffffe)
      .int(-5)
      .bool(true)
      .opaque(Buffer.from([1, 2, 3]))
      .string('inst0');
    expect(w.length).toBe(4 + 4 + 4 + (4 + 4) + (4 + 8));
    const r = new XdrReader(w.bytes());
    expect([r.uint(), r.int(), r.bool()]).toEqual([0xfffffffe, -5, true]);
    expect([...r.opaque()]).toEqual([1, 2, 3]);
    expect(r.string()).toBe('inst0');
    expect(r.remaining).toBe(0);
    expect(() => r.uint('lid')).toThrow(XdrError);
    expect(() => new XdrReader(Buffer.from([0, 0, 0, 9, 1])).opaque('data')).toThrow(/data needs 12 bytes/);
  });

  it('reassembles records split across chunks and fragments, and refuses an oversize one', () => {
    const got: string[] = [];
    const rr = new RecordReader(100, (rec) => got.push(rec.toString()));
    const frag = (text: string, last: boolean) => {
      const b = Buffer.alloc(4 + text.length);
      b.writeUInt32BE(((last ? 0x80000000 : 0) | text.length) >>> 0, 0);
      b.write(text, 4);
      return b;
    };
    const stream = Buffer.concat([frag('hel', false), frag('lo', true), frag('one', true)]);
    for (const byte of stream) rr.push(Buffer.from([byte])); // one byte at a time
    rr.push(Buffer.concat([frag('whole', true), frag('two', true)])); // two records in one chunk
    expect(got).toEqual(['hello', 'one', 'whole', 'two']);
    expect(() => new RecordReader(10, () => undefined).push(frag('x'.repeat(11), true))).toThrow(RpcError);
  });

  it('a denied or unaccepted call says why', () => {
    const w = beginMessage(false);
    w.uint(7).uint(1).uint(0).uint(0).uint(0).uint(1); // xid 7, reply, accepted, null verifier, PROG_UNAVAIL
    expect(() => decodeReply(finishMessage(w, false), 'x')).toThrow('x: program unavailable');
    const call = writeCallHeader(beginMessage(false), 1, DEVICE_CORE, 1, 10).bytes();
    expect(() => decodeReply(call, 'y')).toThrow(/where a reply was expected/);
  });
});

describe('the portmapper', () => {
  it('maps the VXI-11 core program and lists it (PMAP v2 GETPORT, DUMP)', async () => {
    const p = await peer();
    const o = { port: p.portmapper.port, timeoutMs: 1000 };
    expect(await getPort('127.0.0.1', DEVICE_CORE, 1, IPPROTO_TCP, o)).toBe(p.server.corePort);
    expect(await getPort('127.0.0.1', DEVICE_CORE, 2, IPPROTO_TCP, o)).toBe(0);
    expect(await dump('127.0.0.1', o)).toContainEqual({
      prog: DEVICE_CORE,
      vers: 1,
      prot: IPPROTO_TCP,
      port: p.server.corePort,
    });
  });
});

describe('cpobench over VXI-11 (TCPIP::host::device::INSTR)', () => {
  it('queries, writes, reads the error queue, a 400-value list and a binary block with LF bytes in it', async () => {
    const p = await peer();
    const s = await session(p);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await s.write('NOT:A:COMMAND');
    expect(await s.query('SYST:ERR?')).toBe('-113,"Undefined header"');
    await s.write('VOLT 2.5,(@1:8)');
    expect(await s.queryNumbers('VOLT? (@1:8)')).toEqual(Array(8).fill(2.5));
    const block = await s.queryBlock('FETC:BLOC? 70000');
    expect(block.length).toBe(70000);
    expect(block[10]).toBe(10);
    expect(block.indexOf(0x0a)).toBe(10);
    expect(s.transport.clearsAfterFailedRead).toBe(true);
  });

  it('splits a write longer than the device max_recv_size and reads a reply in REQCNT pieces', async () => {
    const p = await peer(undefined, 64);
    const long = `VOLT 1.25,(@${Array.from({ length: 8 }, (_, i) => i + 1).join(',')});${'*OPC;'.repeat(40)}*OPC`;
    expect(long.length).toBeGreaterThan(200);
    const s = await session(p);
    await s.write(long);
    expect(await s.queryNumber('VOLT? (@8)')).toBe(1.25);
    // the client asks for 100 bytes at a time: the device answers REQCNT until the END of the 1000-byte block
    const c = await Vxi11Client.connect({ host: '127.0.0.1', device: 'inst0', timeoutMs: 1000, ...p.options });
    cleanups.push(() => c.close());
    expect(c.maxRecvSize).toBe(64);
    await c.write(Buffer.from('FETC:BLOC? 1000\n'), 1000);
    const reply = await c.read(2000, { chunkBytes: 100 });
    expect(reply.subarray(0, 6).toString()).toBe('#41000');
    expect(reply.length).toBe(6 + 1000 + 1);
  });

  it('tells several instruments on one host apart by device name (inst0, inst1, role names)', async () => {
    const a = new DemoInstrument();
    const b = new DemoInstrument();
    b.identity = { ...b.identity, serial: 'SN0002' };
    const p = await peer([
      { names: ['inst0', 'psu'], instrument: a },
      { names: ['inst1', 'meter'], instrument: b },
    ]);
    expect(await (await session(p, 'inst1')).query('*IDN?')).toContain('SN0002');
    expect(await (await session(p, 'METER')).query('*IDN?')).toContain('SN0002');
    expect(await (await session(p, 'psu')).query('*IDN?')).toContain('SN0001');
    const t = createTransport(p.resource('inst7'), { ...p.options, reconnect: false });
    cleanups.push(() => t.close());
    await expect(t.open()).rejects.toThrow(
      /TCPIP0::127\.0\.0\.1::inst7::INSTR: create_link to device "inst7" at 127\.0\.0\.1:\d+ refused: device not accessible \(VXI-11 error 3\)/,
    );
  });

  it('an unreachable host: the connect is bounded and the error names the resource and the portmapper', async () => {
    const hang = await hangingPort();
    cleanups.push(() => hang.close());
    const t = createTransport('TCPIP0::127.0.0.1::inst0::INSTR', {
      portmapperPort: hang.port,
      connectTimeoutMs: 300,
      reconnect: false,
    });
    cleanups.push(() => t.close());
    const t0 = Date.now();
    const err = await t.open().then(
      () => undefined,
      (e: unknown) => e,
    );
    const ms = Date.now() - t0;
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toBe(
      `TCPIP0::127.0.0.1::inst0::INSTR: portmapper at 127.0.0.1:${hang.port}: no connection within 300 ms (host down or filtered?)`,
    );
    expect(ms).toBeGreaterThanOrEqual(290);
    expect(ms).toBeLessThan(1500);
  });

  it('a host with no portmapper, and a portmapper without the VXI-11 core program, are told apart', async () => {
    const closed = net.createServer();
    await new Promise<void>((r) => closed.listen(0, '127.0.0.1', r));
    const freePort = (closed.address() as net.AddressInfo).port;
    await new Promise<void>((r) => closed.close(() => r()));
    const noPm = createTransport('TCPIP0::127.0.0.1::INSTR', { portmapperPort: freePort, reconnect: false });
    await expect(noPm.open()).rejects.toThrow(`portmapper at 127.0.0.1:${freePort}: connection refused`);

    const pm = await servePortmapper({ host: '127.0.0.1', port: 0 });
    cleanups.push(() => pm.close());
    const t = createTransport('TCPIP0::127.0.0.1::INSTR', { portmapperPort: pm.port, reconnect: false });
    await expect(t.open()).rejects.toThrow(
      `TCPIP0::127.0.0.1::INSTR: the portmapper at 127.0.0.1:${pm.port} has no VXI-11 core program (0x0607AF version 1) registered`,
    );
  });

  it('a device locked by another client: error 11, said plainly; usable again once the lock goes', async () => {
    const p = await peer();
    const holder = await session(p, 'inst0', { lockDevice: true });
    expect(await holder.query('*IDN?')).toContain('DEMO-1');
    const other = await session(p, 'inst0', {}, 1000);
    await expect(other.query('*IDN?')).rejects.toThrow(
      'TCPIP0::127.0.0.1::inst0::INSTR: the device is locked by another client (VXI-11 error 11, device_locked_by_another_link; the protocol does not say which client holds it)',
    );
    // a second locking client is refused at open
    const t = createTransport(p.resource(), { ...p.options, lockDevice: true, reconnect: false });
    await expect(t.open()).rejects.toThrow(
      /create_link to device "inst0" .* device locked by another link \(VXI-11 error 11\)/,
    );
    // the holder still works; once it closes, the other client is served
    expect(await holder.query('*IDN?')).toContain('DEMO-1');
    await holder.close();
    expect(await other.query('*IDN?')).toContain('DEMO-1');
    // an explicit lock through the link, waited for by another client's lock_timeout
    const c1 = (other.transport as Vxi11Transport).link!;
    await c1.lock(0);
    const waiter = await session(p, 'inst0', { lockTimeoutMs: 2000 }, 3000);
    const pending = waiter.query('*IDN?');
    await new Promise((r) => setTimeout(r, 100));
    await c1.unlock(1000);
    expect(await pending).toContain('DEMO-1');
  });

  it('a released lock goes to one waiting link only', async () => {
    const p = await peer();
    const link = () => Vxi11Client.connect({ host: '127.0.0.1', device: 'inst0', timeoutMs: 1000, ...p.options });
    const [a, b, c] = await Promise.all([link(), link(), link()]);
    cleanups.push(
      () => a.close(),
      () => b.close(),
      () => c.close(),
    );
    await a.lock(0);
    const gotB = b.lock(2000).then(
      () => 'locked',
      (e: Error) => e.message,
    );
    const gotC = c.lock(400).then(
      () => 'locked',
      (e: Error) => e.message,
    );
    await new Promise((r) => setTimeout(r, 50));
    await a.unlock(1000);
    expect(await gotB).toBe('locked');
    expect(await gotC).toMatch(/device_lock: device locked by another link \(VXI-11 error 11\)$/);
  });

  it('an abort while a read is pending: device_abort ends it at once, the device is cleared, the next query gets its own reply', async () => {
    const p = await peer([{ names: ['inst0'], instrument: slowDemoInstrument(600) }]);
    const s = await session(p, 'inst0', {}, 5000);
    const ac = new AbortController();
    const t0 = Date.now();
    const slow = s.query('TEST:SLOW?', { signal: ac.signal });
    setTimeout(() => ac.abort(), 100);
    await expect(slow).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - t0).toBeLessThan(400);
    // the device_read was ended by device_abort on the abort channel, then the device was cleared
    await until(() => p.server.counters.clears === 1, 1000);
    expect(p.server.counters).toEqual({ aborted: 1, clears: 1 });
    // the slow reply (due at 600 ms) was cleared away: the next query reads its own reply
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await new Promise((r) => setTimeout(r, 700));
    expect(await s.query('SYST:ERR?')).toBe('0,"No error"');
  });

  it('a timeout: the device is cleared, so neither a reply owed nor a grace wait reaches the next query', async () => {
    const p = await peer([{ names: ['inst0'], instrument: slowDemoInstrument(400) }]);
    const s = await session(p, 'inst0', {}, 5000);
    await expect(s.query('TEST:SLOW?', { timeoutMs: 150 })).rejects.toBeInstanceOf(TimeoutError);
    await expect(s.query('*IDN', { timeoutMs: 150 })).rejects.toThrow('inst0: no reply to "*IDN" within 150 ms');
    const t0 = Date.now();
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await new Promise((r) => setTimeout(r, 400));
    expect(await s.query('*OPC?')).toBe('1');
    expect(Date.now() - t0).toBeLessThan(1200);
  });

  it('reads the status byte and clears through the link', async () => {
    const p = await peer();
    const s = await session(p);
    const link = (s.transport as Vxi11Transport).link!;
    await s.write('NOT:A:COMMAND');
    expect((await link.readStb(1000)) & 4).toBe(4); // EAV: an error is queued
    await s.write('*CLS');
    await s.query('*OPC?');
    expect(await link.readStb(1000)).toBe(0);
    await link.clear(1000);
    await link.trigger(1000);
  });

  it('a dropped connection fails the read with the resource named, and the link comes back', async () => {
    const p = await peer([{ names: ['inst0'], instrument: slowDemoInstrument(300) }]);
    const s = new ScpiSession(
      createTransport(p.resource(), { ...p.options, reconnect: { initialMs: 20, maxMs: 100 } }),
      { name: 'inst0', timeoutMs: 2000 },
    );
    cleanups.push(() => s.close());
    await s.open();
    const q = s.query('TEST:SLOW?');
    setTimeout(() => p.server.dropClients(), 50);
    await expect(q).rejects.toThrow(/TCPIP0::127\.0\.0\.1::inst0::INSTR: connection lost/);
    expect(await s.query('*IDN?')).toContain('DEMO-1');
    expect(p.server.links).toBe(1);
  });

  it('a read of a reply that never comes times out at the RPC level too (the device stops mid-transfer)', async () => {
    const p = await peer();
    const c = await Vxi11Client.connect({ host: '127.0.0.1', device: 'inst0', timeoutMs: 1000, ...p.options });
    cleanups.push(() => c.close());
    await c.write(Buffer.from('*OPC\n'), 1000);
    const err = await c.read(100).catch((e: unknown) => e);
    expect((err as Error).message).toMatch(/device_read: I\/O timeout \(VXI-11 error 15\)/);
    await c.write(Buffer.from('*IDN?\n'), 1000);
    const r = await c.read(1000);
    expect(r.toString()).toBe('cpobench-sim,DEMO-1,SN0001,1.0\n');
    expect(REASON.END).toBe(4);
  });
});
