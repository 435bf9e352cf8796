/**
 * A HiSLIP server (IVI-6.1, synchronized mode) for simulated instruments: one port for all of them, each a
 * sub-address (`hislip0`, `hislip1`, ... and its role name). Per session: Initialize/AsyncInitialize,
 * AsyncMaximumMessageSize, Data/DataEnd in (a program message per DataEnd), replies as DataEnd carrying the
 * MessageID of the message they answer, device clear (AsyncDeviceClear ... DeviceClearComplete: pending input
 * and replies still being computed are dropped), AsyncStatusQuery. Per instrument: an exclusive lock
 * (AsyncLock, AsyncLockInfo); while another session holds it, a session's messages wait until it is released.
 */
import net from 'node:net';
import {
  encodeMessage,
  HEADER_BYTES,
  type HislipMessage,
  HislipProtocolError,
  LOCK_RESPONSE,
  MessageReader,
  MSG,
  PROTOCOL_1_0,
} from '../../transport/hislip/protocol.ts';
import { createMessageRunner, type MessageSink, type ServeOptions } from './connection.ts';
import type { ScpiInstrument } from './instrument.ts';

export interface HislipDeviceSpec {
  /** Sub-addresses it answers to, e.g. `['hislip0', 'led-driver']` (matched without regard to case). */
  names: string[];
  instrument: ScpiInstrument;
  serve?: ServeOptions;
}

export interface HislipServerOptions {
  host?: string;
  /** 4880 is the protocol's; 0 (default): a free port, which the resource string then names (`hislip0,PORT`). */
  port?: number;
  /** The largest message payload accepted (AsyncMaximumMessageSize answer). Default 1 MiB. */
  maxMessageBytes?: number;
}

export interface HislipServerHandle {
  host: string;
  port: number;
  readonly sessions: number;
  dropClients(): void;
  close(): Promise<void>;
}

const SERVER_VENDOR = (0x43 << 8) | 0x42; // "CB"

class Device {
  readonly run: (line: string, sink: MessageSink) => void;
  exclusive = 0;
  readonly shared = new Map<number, string>();
  private readonly waiters = new Set<() => void>();
  constructor(readonly spec: HislipDeviceSpec) {
    this.run = createMessageRunner(spec.instrument, spec.serve);
  }
  lockChanged(): void {
    for (const w of [...this.waiters]) w();
  }
  /**
   * Resolves true once `test()` holds (then `take()`, if given, runs at once, before any other waiter is looked
   * at: a lock is granted to one session only), false after `timeoutMs`.
   */
  waitUntil(test: () => boolean, timeoutMs: number, take?: () => void): Promise<boolean> {
    if (test()) {
      take?.();
      return Promise.resolve(true);
    }
    if (timeoutMs <= 0) return Promise.resolve(false);
    return new Promise((resolve) => {
      const check = () => {
        if (!test()) return;
        take?.();
        clearTimeout(timer);
        this.waiters.delete(check);
        resolve(true);
      };
      const timer = setTimeout(
        () => {
          this.waiters.delete(check);
          resolve(false);
        },
        Math.min(timeoutMs, 0x7fffffff),
      );
      this.waiters.add(check);
    });
  }
}

interface Session {
  id: number;
  device: Device;
  sync: net.Socket;
  async: net.Socket | null;
  input: Buffer[];
  /** Between AsyncDeviceClear and DeviceClearComplete: input is dropped. */
  clearing: boolean;
  /** Bumped by a device clear: replies to messages before it are dropped. */
  generation: number;
  clientMax: number;
  /** This session's messages, in order, each waiting for the lock to be free of other sessions. */
  chain: Promise<void>;
  closed: boolean;
}

export async function serveHislip(
  devices: HislipDeviceSpec[],
  o: HislipServerOptions = {},
): Promise<HislipServerHandle> {
  const host = o.host ?? '127.0.0.1';
  const maxMessage = o.maxMessageBytes ?? 1024 * 1024;
  const byName = new Map<string, Device>();
  for (const spec of devices) {
    const d = new Device(spec);
    for (const n of spec.names) byName.set(n.toLowerCase(), d);
  }
  const sessions = new Map<number, Session>();
  let nextId = 1 + Math.floor(Math.random() * 100);
  const sockets = new Set<net.Socket>();

  const send = (socket: net.Socket | null, type: number, control: number, param: number, payload?: Uint8Array) => {
    if (socket && !socket.destroyed) socket.write(encodeMessage(type, control, param, payload));
  };
  const fatal = (socket: net.Socket, code: number, text: string) => {
    send(socket, MSG.FatalError, code, 0, Buffer.from(text, 'latin1'));
    socket.end();
    setTimeout(() => socket.destroy(), 100).unref();
  };

  const endSession = (s: Session) => {
    if (s.closed) return;
    s.closed = true;
    sessions.delete(s.id);
    const d = s.device;
    if (d.exclusive === s.id) d.exclusive = 0;
    d.shared.delete(s.id);
    d.lockChanged();
    s.sync.destroy();
    s.async?.destroy();
  };

  const lockFreeFor = (s: Session) => () => s.closed || s.device.exclusive === 0 || s.device.exclusive === s.id;

  const onSyncMessage = (s: Session, m: HislipMessage) => {
    switch (m.type) {
      case MSG.Data:
      case MSG.DataEnd: {
        if (s.clearing) return;
        s.input.push(Buffer.from(m.payload));
        if (m.type === MSG.Data) return;
        const message = Buffer.concat(s.input);
        s.input = [];
        const id = m.param;
        const generation = s.generation;
        const lines = message
          .toString('latin1')
          .split('\n')
          .map((l) => l.replace(/\r$/, ''))
          .filter((l) => l.trim() !== '');
        s.chain = s.chain.then(async () => {
          await s.device.waitUntil(lockFreeFor(s), 0x7fffffff);
          if (s.closed || s.generation !== generation) return;
          for (const line of lines) {
            s.device.run(line, {
              reply: (out) => {
                if (s.closed || s.generation !== generation) return;
                const max = Math.max(1, s.clientMax - HEADER_BYTES);
                for (let off = 0; ; off += max) {
                  const end = Math.min(out.length, off + max);
                  send(s.sync, end === out.length ? MSG.DataEnd : MSG.Data, 0, id, out.subarray(off, end));
                  if (end === out.length) break;
                }
              },
              drop: () => endSession(s),
              get closed() {
                return s.closed;
              },
            });
          }
        });
        return;
      }
      case MSG.DeviceClearComplete:
        s.clearing = false;
        s.input = [];
        send(s.sync, MSG.DeviceClearAcknowledge, 0, 0);
        return;
      case MSG.Trigger:
        return;
      default:
        send(s.sync, MSG.Error, 1, 0, Buffer.from(`unexpected message type ${m.type} on the synchronous channel`));
    }
  };

  const onAsyncMessage = async (s: Session, m: HislipMessage) => {
    const d = s.device;
    switch (m.type) {
      case MSG.AsyncMaximumMessageSize: {
        if (m.payload.length >= 8) s.clientMax = m.payload.readUInt32BE(0) * 0x100000000 + m.payload.readUInt32BE(4);
        const size = Buffer.alloc(8);
        size.writeUInt32BE(Math.floor(maxMessage / 0x100000000), 0);
        size.writeUInt32BE(maxMessage >>> 0, 4);
        send(s.async, MSG.AsyncMaximumMessageSizeResponse, 0, 0, size);
        return;
      }
      case MSG.AsyncDeviceClear:
        s.clearing = true;
        s.generation++;
        s.input = [];
        send(s.async, MSG.AsyncDeviceClearAcknowledge, 0, 0);
        return;
      case MSG.AsyncLock: {
        if (m.control === 1) {
          const shared = m.payload.length > 0 ? m.payload.toString('latin1') : undefined;
          const free = shared
            ? () => s.closed || d.exclusive === 0 || d.exclusive === s.id
            : () =>
                s.closed ||
                ((d.exclusive === 0 || d.exclusive === s.id) && [...d.shared.keys()].every((k) => k === s.id));
          const got = await d.waitUntil(free, m.param, () => {
            if (s.closed) return;
            if (shared) d.shared.set(s.id, shared);
            else d.exclusive = s.id;
          });
          if (s.closed) return;
          if (!got) return send(s.async, MSG.AsyncLockResponse, LOCK_RESPONSE.FAILURE, 0);
          send(s.async, MSG.AsyncLockResponse, shared ? LOCK_RESPONSE.SUCCESS_SHARED : LOCK_RESPONSE.SUCCESS, 0);
          return;
        }
        if (d.exclusive === s.id) {
          d.exclusive = 0;
          d.lockChanged();
          return send(s.async, MSG.AsyncLockResponse, LOCK_RESPONSE.SUCCESS, 0);
        }
        if (d.shared.delete(s.id)) {
          d.lockChanged();
          return send(s.async, MSG.AsyncLockResponse, LOCK_RESPONSE.SUCCESS_SHARED, 0);
        }
        return send(s.async, MSG.AsyncLockResponse, LOCK_RESPONSE.ERROR, 0);
      }
      case MSG.AsyncLockInfo: {
        const holders = (d.exclusive ? 1 : 0) + [...d.shared.keys()].filter((k) => k !== d.exclusive).length;
        return send(s.async, MSG.AsyncLockInfoResponse, d.exclusive ? 1 : 0, holders);
      }
      case MSG.AsyncStatusQuery:
        return send(s.async, MSG.AsyncStatusResponse, d.spec.instrument.statusByte() & 0xff, 0);
      case MSG.AsyncRemoteLocalControl:
        return send(s.async, MSG.AsyncRemoteLocalResponse, 0, 0);
      default:
        send(s.async, MSG.Error, 1, 0, Buffer.from(`unexpected message type ${m.type} on the asynchronous channel`));
    }
  };

  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    let session: Session | null = null;
    let role: 'new' | 'sync' | 'async' = 'new';
    const reader = new MessageReader(maxMessage, (m) => {
      if (role === 'new') {
        if (m.type === MSG.Initialize) {
          const name = m.payload.toString('latin1') || 'hislip0';
          const device = byName.get(name.toLowerCase());
          if (!device) return fatal(socket, 0, `no instrument at sub-address "${name}"`);
          const id = nextId++ & 0xffff;
          session = {
            id,
            device,
            sync: socket,
            async: null,
            input: [],
            clearing: false,
            generation: 0,
            clientMax: 1 << 20,
            chain: Promise.resolve(),
            closed: false,
          };
          sessions.set(id, session);
          role = 'sync';
          return send(socket, MSG.InitializeResponse, 0, ((PROTOCOL_1_0 << 16) | id) >>> 0);
        }
        if (m.type === MSG.AsyncInitialize) {
          const s = sessions.get(m.param & 0xffff);
          if (!s || s.async)
            return fatal(socket, 3, `no session ${m.param & 0xffff} waiting for its asynchronous channel`);
          s.async = socket;
          session = s;
          role = 'async';
          return send(socket, MSG.AsyncInitializeResponse, 0, SERVER_VENDOR);
        }
        return fatal(socket, 3, 'the first message must be Initialize or AsyncInitialize');
      }
      const s = session!;
      if (m.type === MSG.FatalError) return endSession(s);
      if (role === 'sync') onSyncMessage(s, m);
      else void onAsyncMessage(s, m);
    });
    socket.on('data', (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        fatal(socket, err instanceof HislipProtocolError ? err.fatalCode : 0, (err as Error).message);
        if (session) endSession(session);
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => {
      sockets.delete(socket);
      if (session) endSession(session);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(o.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  let closed: Promise<void> | undefined;
  return {
    host,
    port,
    get sessions() {
      return sessions.size;
    },
    dropClients() {
      for (const s of sockets) s.destroy();
    },
    close() {
      closed ??= (async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => server.close(() => r()));
      })();
      return closed;
    },
  };
}
