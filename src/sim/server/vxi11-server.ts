/**
 * A VXI-11 server for simulated instruments, as an LXI gateway serves the instruments behind it: one core channel
 * and one abort channel for all of them, each instrument a device name (`inst0`, `inst1`, ... and its role name).
 * Per device: one output queue of reply messages read with device_read (END with the last byte, REQCNT when the
 * request was smaller, CHR at the term char when asked), device_clear (empties it; replies still being computed
 * are dropped), device_readstb (MAV while a reply waits), and one lock (device_lock, create_link lockDevice)
 * that makes other links' reads and writes wait lock_timeout and then fail with error 11. device_abort on the
 * abort channel ends a link's waiting read or lock wait with error 23.
 */
import net from 'node:net';
import { CORE_PROC, DEVICE_ASYNC, DEVICE_CORE, FLAG, REASON, VXI11_ERROR } from '../../transport/vxi11/protocol.ts';
import { ACCEPT_STAT, type RpcCall } from '../../transport/vxi11/rpc.ts';
import type { XdrWriter } from '../../transport/vxi11/xdr.ts';
import { createMessageRunner, type MessageSink, type ServeOptions } from './connection.ts';
import { type ScpiInstrument, STB } from './instrument.ts';
import { replyMessage, serveRpcConnection } from './rpc-server.ts';

export interface Vxi11DeviceSpec {
  /** Device names it answers to, e.g. `['inst0', 'led-driver']` (matched without regard to case). */
  names: string[];
  instrument: ScpiInstrument;
  serve?: ServeOptions;
}

export interface Vxi11ServerOptions {
  host?: string;
  /** Core channel port; 0 (default): a free one (the portmapper tells clients which). */
  corePort?: number;
  /** The largest device_write accepted (create_link's maxRecvSize). Default 64 KiB. */
  maxRecvSize?: number;
}

export interface Vxi11ServerHandle {
  host: string;
  corePort: number;
  abortPort: number;
  /** Links open now. */
  readonly links: number;
  /** device_abort calls that ended a waiting read or lock wait, and device_clear calls, since the start. */
  readonly counters: { aborted: number; clears: number };
  /** Ends every client's connections (a dropped network link). */
  dropClients(): void;
  close(): Promise<void>;
}

type Wait = { wake: (code: number) => void };

class Device {
  readonly run: (line: string, sink: MessageSink) => void;
  readonly output: Buffer[] = [];
  /** Read position in output[0]. */
  offset = 0;
  /** Bumped by device_clear: replies of messages written before it are dropped. */
  generation = 0;
  lockedBy = 0;
  private readonly outputWaiters = new Set<() => void>();
  private readonly lockWaiters = new Set<() => void>();

  constructor(readonly spec: Vxi11DeviceSpec) {
    this.run = createMessageRunner(spec.instrument, spec.serve);
  }

  pushOutput(bytes: Buffer): void {
    this.output.push(bytes);
    for (const w of [...this.outputWaiters]) w();
  }

  clear(): void {
    this.generation++;
    this.output.length = 0;
    this.offset = 0;
  }

  releaseLock(): void {
    this.lockedBy = 0;
    for (const w of [...this.lockWaiters]) w();
  }

  /** Resolves 0 when `test()` holds, or at `timeoutMs` with `onTimeout`, or when `link` is aborted with 23. */
  waitFor(
    which: 'output' | 'lock',
    test: () => boolean,
    timeoutMs: number,
    onTimeout: number,
    link: Link,
    /** Runs as soon as `test()` holds, before any other waiter is looked at (a lock goes to one link only). */
    take?: () => void,
  ): Promise<number> {
    if (test()) {
      take?.();
      return Promise.resolve(0);
    }
    if (timeoutMs <= 0) return Promise.resolve(onTimeout);
    const set = which === 'output' ? this.outputWaiters : this.lockWaiters;
    return new Promise<number>((resolve) => {
      const done = (code: number) => {
        clearTimeout(timer);
        set.delete(check);
        if (link.wait === wait) link.wait = null;
        resolve(code);
      };
      const check = () => {
        if (!test()) return;
        take?.();
        done(0);
      };
      const wait: Wait = { wake: done };
      const timer = setTimeout(() => done(onTimeout), timeoutMs);
      set.add(check);
      link.wait = wait;
    });
  }
}

interface Link {
  lid: number;
  device: Device;
  socket: net.Socket;
  /** Bytes of a message written without END so far. */
  input: Buffer[];
  /** The read or lock wait in progress, which device_abort ends. */
  wait: Wait | null;
  /** True once the link is destroyed or its connection gone: its messages are not run any more. */
  readonly closed: boolean;
}

/** Starts the core and abort channels on `host` (127.0.0.1 by default). */
export async function serveVxi11(devices: Vxi11DeviceSpec[], o: Vxi11ServerOptions = {}): Promise<Vxi11ServerHandle> {
  const host = o.host ?? '127.0.0.1';
  const maxRecvSize = o.maxRecvSize ?? 64 * 1024;
  const byName = new Map<string, Device>();
  for (const spec of devices) {
    const d = new Device(spec);
    for (const n of spec.names) byName.set(n.toLowerCase(), d);
  }
  const links = new Map<number, Link>();
  const counters = { aborted: 0, clears: 0 };
  let nextLid = 1 + Math.floor(Math.random() * 1000);
  const sockets = new Set<net.Socket>();

  const closeLink = (link: Link): void => {
    if (!links.delete(link.lid)) return;
    link.wait?.wake(VXI11_ERROR.ABORT);
    if (link.device.lockedBy === link.lid) link.device.releaseLock();
  };

  /**
   * Waits for `link`'s device to be free of other links' locks: 0, or 11 after lock_timeout. With `take`, the
   * link takes the lock in the same step.
   */
  const lockFree = (link: Link, lockTimeout: number, take = false) =>
    link.device.waitFor(
      'lock',
      () => links.has(link.lid) && (link.device.lockedBy === 0 || link.device.lockedBy === link.lid),
      lockTimeout,
      VXI11_ERROR.DEVICE_LOCKED_BY_ANOTHER_LINK,
      link,
      take
        ? () => {
            link.device.lockedBy = link.lid;
          }
        : undefined,
    );

  const coreCall = async (call: RpcCall, socket: net.Socket): Promise<Buffer> => {
    const ok = (results: (w: XdrWriter) => void) => replyMessage(call.xid, ACCEPT_STAT.SUCCESS, true, results);
    const errorOnly = (code: number) => ok((w) => w.uint(code));
    if (call.prog !== DEVICE_CORE) return replyMessage(call.xid, ACCEPT_STAT.PROG_UNAVAIL, true);
    if (call.vers !== 1) return replyMessage(call.xid, ACCEPT_STAT.PROG_MISMATCH, true, undefined, [1, 1]);
    const a = call.args;
    if (call.proc === CORE_PROC.CREATE_LINK) {
      a.int('clientId');
      const lockDevice = a.bool('lockDevice');
      const lockTimeout = a.uint('lock_timeout');
      const name = a.string('device', 256);
      const refuse = (code: number) => ok((w) => w.uint(code).uint(0).uint(abortPort).uint(maxRecvSize));
      const device = byName.get(name.toLowerCase());
      if (!device) return refuse(VXI11_ERROR.DEVICE_NOT_ACCESSIBLE);
      const lid = nextLid++;
      const link: Link = {
        lid,
        device,
        socket,
        input: [],
        wait: null,
        get closed() {
          return socket.destroyed || !links.has(lid);
        },
      };
      links.set(lid, link);
      if (lockDevice) {
        const code = await lockFree(link, lockTimeout, true);
        if (code !== 0) {
          links.delete(lid);
          return refuse(code);
        }
      }
      return ok((w) => w.uint(0).uint(lid).uint(abortPort).uint(maxRecvSize));
    }
    const lid = a.uint('lid');
    const link = links.get(lid);
    const linkOf = link && link.socket === socket ? link : undefined;
    switch (call.proc) {
      case CORE_PROC.DEVICE_WRITE: {
        a.uint('io_timeout'); // the device takes input at once: nothing to time out
        const lockTimeout = a.uint('lock_timeout');
        const flags = a.uint('flags');
        const data = a.opaque('data', maxRecvSize + 4096);
        const fail = (code: number) => ok((w) => w.uint(code).uint(0));
        if (!linkOf) return fail(VXI11_ERROR.INVALID_LINK_IDENTIFIER);
        if (data.length > maxRecvSize) return fail(VXI11_ERROR.PARAMETER_ERROR);
        const code = await lockFree(linkOf, lockTimeout);
        if (code !== 0) return fail(code);
        write(linkOf, Buffer.from(data), (flags & FLAG.END) !== 0);
        return ok((w) => w.uint(0).uint(data.length));
      }
      case CORE_PROC.DEVICE_READ: {
        const requestSize = a.uint('requestSize');
        const ioTimeout = a.uint('io_timeout');
        const lockTimeout = a.uint('lock_timeout');
        const flags = a.uint('flags');
        const termChar = a.uint('termChar') & 0xff;
        const fail = (code: number) => ok((w) => w.uint(code).int(0).opaque(EMPTY));
        if (!linkOf) return fail(VXI11_ERROR.INVALID_LINK_IDENTIFIER);
        const locked = await lockFree(linkOf, lockTimeout);
        if (locked !== 0) return fail(locked);
        const d = linkOf.device;
        // another link reading the same device may take the reply first: wait again for the rest of io_timeout
        const until = Date.now() + ioTimeout;
        while (d.output.length === 0) {
          const left = until - Date.now();
          const got = await d.waitFor('output', () => d.output.length > 0, left, VXI11_ERROR.IO_TIMEOUT, linkOf);
          if (got !== 0) return fail(got);
        }
        const { data, reason } = take(d, requestSize, (flags & FLAG.TERMCHRSET) !== 0 ? termChar : -1);
        return ok((w) => w.uint(0).int(reason).opaque(data));
      }
      case CORE_PROC.DEVICE_READSTB: {
        if (!linkOf) return ok((w) => w.uint(VXI11_ERROR.INVALID_LINK_IDENTIFIER).uint(0));
        const stb = linkOf.device.spec.instrument.statusByte() | (linkOf.device.output.length > 0 ? STB.MAV : 0);
        return ok((w) => w.uint(0).uint(stb));
      }
      case CORE_PROC.DEVICE_CLEAR: {
        if (!linkOf) return errorOnly(VXI11_ERROR.INVALID_LINK_IDENTIFIER);
        linkOf.input = [];
        linkOf.device.clear();
        counters.clears++;
        return errorOnly(0);
      }
      case CORE_PROC.DEVICE_TRIGGER:
      case CORE_PROC.DEVICE_REMOTE:
      case CORE_PROC.DEVICE_LOCAL:
        return errorOnly(linkOf ? 0 : VXI11_ERROR.INVALID_LINK_IDENTIFIER);
      case CORE_PROC.DEVICE_LOCK: {
        const flags = a.uint('flags');
        const lockTimeout = a.uint('lock_timeout');
        if (!linkOf) return errorOnly(VXI11_ERROR.INVALID_LINK_IDENTIFIER);
        return errorOnly(await lockFree(linkOf, flags & FLAG.WAITLOCK ? lockTimeout : 0, true));
      }
      case CORE_PROC.DEVICE_UNLOCK: {
        if (!linkOf) return errorOnly(VXI11_ERROR.INVALID_LINK_IDENTIFIER);
        if (linkOf.device.lockedBy !== linkOf.lid) return errorOnly(VXI11_ERROR.NO_LOCK_HELD_BY_THIS_LINK);
        linkOf.device.releaseLock();
        return errorOnly(0);
      }
      case CORE_PROC.DEVICE_ENABLE_SRQ:
        return errorOnly(linkOf ? 0 : VXI11_ERROR.INVALID_LINK_IDENTIFIER);
      case CORE_PROC.DEVICE_DOCMD:
        return ok((w) => w.uint(VXI11_ERROR.OPERATION_NOT_SUPPORTED).opaque(EMPTY));
      case CORE_PROC.DESTROY_LINK: {
        if (!linkOf) return errorOnly(VXI11_ERROR.INVALID_LINK_IDENTIFIER);
        closeLink(linkOf);
        return errorOnly(0);
      }
      case CORE_PROC.CREATE_INTR_CHAN:
      case CORE_PROC.DESTROY_INTR_CHAN:
        return errorOnly(VXI11_ERROR.OPERATION_NOT_SUPPORTED);
      default:
        return replyMessage(call.xid, ACCEPT_STAT.PROC_UNAVAIL, true);
    }
  };

  /** Takes a written part; complete lines (and, with END, the rest) are run as program messages. */
  const write = (link: Link, data: Buffer, end: boolean): void => {
    link.input.push(data);
    const all = link.input.length === 1 ? data : Buffer.concat(link.input);
    let start = 0;
    for (let lf = all.indexOf(0x0a); lf !== -1; lf = all.indexOf(0x0a, start)) {
      submit(link, all.subarray(start, lf));
      start = lf + 1;
    }
    const rest = all.subarray(start);
    if (end && rest.length > 0) {
      submit(link, rest);
      link.input = [];
    } else {
      link.input = rest.length > 0 ? [rest] : [];
    }
  };

  const submit = (link: Link, bytes: Buffer): void => {
    const d = link.device;
    const generation = d.generation;
    const line = bytes.toString('latin1').replace(/\r$/, '');
    d.run(line, {
      reply: (out) => {
        if (d.generation === generation) d.pushOutput(out);
      },
      drop: () => link.socket.destroy(),
      get closed() {
        return link.closed;
      },
    });
  };

  const core = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => {
      sockets.delete(socket);
      for (const l of [...links.values()]) if (l.socket === socket) closeLink(l);
    });
    serveRpcConnection(socket, (call) => coreCall(call, socket), { sequential: true });
  });
  const abort = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveRpcConnection(
      socket,
      (call) => {
        if (call.prog !== DEVICE_ASYNC) return replyMessage(call.xid, ACCEPT_STAT.PROG_UNAVAIL, true);
        if (call.proc !== 1) return replyMessage(call.xid, ACCEPT_STAT.PROC_UNAVAIL, true);
        const link = links.get(call.args.uint('lid'));
        if (!link)
          return replyMessage(call.xid, ACCEPT_STAT.SUCCESS, true, (w) => w.uint(VXI11_ERROR.INVALID_LINK_IDENTIFIER));
        if (link.wait) {
          counters.aborted++;
          link.wait.wake(VXI11_ERROR.ABORT);
        }
        return replyMessage(call.xid, ACCEPT_STAT.SUCCESS, true, (w) => w.uint(0));
      },
      { sequential: false, maxRecordBytes: 4096 },
    );
  });
  const listen = (server: net.Server, port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(port, host, () => {
        server.off('error', reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const corePort = await listen(core, o.corePort ?? 0);
  let abortPort: number;
  try {
    abortPort = await listen(abort, 0);
  } catch (err) {
    await new Promise<void>((r) => core.close(() => r()));
    throw err;
  }
  let closed: Promise<void> | undefined;
  return {
    host,
    corePort,
    abortPort,
    get links() {
      return links.size;
    },
    counters,
    dropClients() {
      for (const s of sockets) s.destroy();
    },
    close() {
      closed ??= (async () => {
        for (const s of sockets) s.destroy();
        await Promise.all([
          new Promise<void>((r) => core.close(() => r())),
          new Promise<void>((r) => abort.close(() => r())),
        ]);
      })();
      return closed;
    },
  };
}

const EMPTY = Buffer.alloc(0);

/** Takes up to `max` bytes of the reply at the head of the output queue, stopping after `termChar` (>= 0). */
function take(d: Device, max: number, termChar: number): { data: Buffer; reason: number } {
  const head = d.output[0]!;
  let end = Math.min(head.length, d.offset + Math.max(0, max));
  let reason = 0;
  if (termChar >= 0) {
    const at = head.indexOf(termChar, d.offset);
    if (at !== -1 && at < end) {
      end = at + 1;
      reason |= REASON.CHR;
    }
  }
  const data = head.subarray(d.offset, end);
  if (end === head.length) {
    reason |= REASON.END;
    d.output.shift();
    d.offset = 0;
  } else {
    d.offset = end;
    if (!(reason & REASON.CHR)) reason |= REASON.REQCNT;
  }
  return { data, reason };
}
