/**
 * A HiSLIP client session (IVI-6.1, synchronized mode): the synchronous channel (Initialize, Data/DataEnd with
 * MessageIDs, DeviceClearComplete) and the asynchronous channel (AsyncInitialize, AsyncMaximumMessageSize,
 * AsyncDeviceClear, AsyncLock, AsyncLockInfo, AsyncStatusQuery) to one sub-address (`hislip0`).
 * Replies are whole messages (Data... DataEnd) carrying the MessageID of the command they answer; a reply to an
 * older MessageID (a query that timed out) is dropped, as the protocol intends.
 */
import net from 'node:net';
import {
  ANY_MESSAGE_ID,
  ERROR_TEXT,
  encodeMessage,
  FATAL_ERROR_TEXT,
  FIRST_MESSAGE_ID,
  HEADER_BYTES,
  type HislipMessage,
  HislipProtocolError,
  LOCK_RESPONSE,
  MessageReader,
  MSG,
  MSG_NAME,
  PROTOCOL_1_0,
} from './protocol.ts';

export class HislipError extends Error {
  readonly reason: 'connect' | 'refused' | 'closed' | 'timeout' | 'aborted' | 'protocol' | 'locked' | 'too-large';
  constructor(reason: HislipError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'HislipError';
    this.reason = reason;
  }
}

export interface HislipConnectOptions {
  host: string;
  port: number;
  /** Sub-address: `hislip0`. */
  subAddress: string;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Largest reply accepted (payload bytes); announced to the server with AsyncMaximumMessageSize. */
  maxMessageBytes?: number;
  /** Two ASCII characters naming the client's vendor. */
  vendorId?: string;
}

/** What AsyncLockInfo says: whether some client holds the exclusive lock, and how many clients hold a lock. */
export interface LockInfo {
  exclusive: boolean;
  holders: number;
}

type Waiter = {
  types: number[];
  resolve: (m: HislipMessage) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
};

const DEFAULT_MAX_MESSAGE = 64 * 1024 * 1024;

export class HislipClient {
  readonly what: string;
  readonly sessionId: number;
  readonly serverVersion: number;
  readonly overlapped: boolean;
  /** The largest message payload the server takes; longer messages go as Data... DataEnd. */
  serverMaxMessage = 1 << 20;
  private readonly sync: net.Socket;
  private readonly async: net.Socket;
  private messageId = FIRST_MESSAGE_ID;
  /** The MessageID of the last Data/DataEnd sent: replies to it are accepted. */
  private lastSentId = -1;
  /** A complete reply was received since the last message sent (the RMT-delivered bit of the next one). */
  private rmtDelivered = false;
  private parts: Buffer[] = [];
  private partsBytes = 0;
  private readonly maxMessage: number;
  private readonly asyncWaiters: Waiter[] = [];
  private readonly syncWaiters: Waiter[] = [];
  /** While a device clear runs, outgoing Data waits here. */
  private clearing: Promise<void> | null = null;
  private held: Buffer[] = [];
  private closedWith: Error | undefined;
  private readonly closeListeners: ((err: Error) => void)[] = [];
  /** Receives whole replies. */
  onReply: (data: Buffer) => void = () => undefined;
  /** Receives Error messages from the server (the connection stays up). */
  onServerError: (err: Error) => void = () => undefined;

  private constructor(
    sync: net.Socket,
    async: net.Socket,
    init: { sessionId: number; serverVersion: number; overlapped: boolean },
    what: string,
    maxMessage: number,
  ) {
    this.sync = sync;
    this.async = async;
    this.sessionId = init.sessionId;
    this.serverVersion = init.serverVersion;
    this.overlapped = init.overlapped;
    this.what = what;
    this.maxMessage = maxMessage;
  }

  /** Opens both channels and initializes the session, all within `timeoutMs`. */
  static async connect(o: HislipConnectOptions): Promise<HislipClient> {
    const what = `HiSLIP ${o.subAddress} at ${o.host.includes(':') ? `[${o.host}]` : o.host}:${o.port}`;
    const deadline = Date.now() + o.timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const maxMessage = o.maxMessageBytes ?? DEFAULT_MAX_MESSAGE;
    const vendor = (o.vendorId ?? 'CB').padEnd(2, ' ');
    const vendorCode = (vendor.charCodeAt(0) << 8) | vendor.charCodeAt(1);
    const sync = await connectSocket(o.host, o.port, left(), what, o.signal);
    let async: net.Socket | undefined;
    try {
      sync.write(
        encodeMessage(
          MSG.Initialize,
          0,
          ((PROTOCOL_1_0 << 16) | vendorCode) >>> 0,
          Buffer.from(o.subAddress, 'latin1'),
        ),
      );
      const initResp = await firstMessage(sync, left(), what, 'InitializeResponse', o.signal);
      expectType(initResp, MSG.InitializeResponse, what);
      const init = {
        overlapped: (initResp.control & 1) === 1,
        serverVersion: initResp.param >>> 16,
        sessionId: initResp.param & 0xffff,
      };
      async = await connectSocket(o.host, o.port, left(), `${what} (asynchronous channel)`, o.signal);
      async.write(encodeMessage(MSG.AsyncInitialize, 0, init.sessionId));
      const asyncResp = await firstMessage(async, left(), what, 'AsyncInitializeResponse', o.signal);
      expectType(asyncResp, MSG.AsyncInitializeResponse, what);
      const client = new HislipClient(sync, async, init, what, maxMessage);
      client.attach();
      const size = Buffer.alloc(8);
      size.writeUInt32BE(Math.floor(maxMessage / 0x100000000), 0);
      size.writeUInt32BE(maxMessage >>> 0, 4);
      const sizeResp = await client.asyncRequest(
        MSG.AsyncMaximumMessageSize,
        0,
        0,
        size,
        [MSG.AsyncMaximumMessageSizeResponse],
        left(),
      );
      if (sizeResp.payload.length >= 8) {
        const server = sizeResp.payload.readUInt32BE(0) * 0x100000000 + sizeResp.payload.readUInt32BE(4);
        if (server > HEADER_BYTES) client.serverMaxMessage = server;
      }
      return client;
    } catch (err) {
      sync.destroy();
      async?.destroy();
      throw err;
    }
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  onClose(fn: (err: Error) => void): void {
    if (this.closedWith) fn(this.closedWith);
    else this.closeListeners.push(fn);
  }

  /** Sends one program message: Data parts and a DataEnd, each a new MessageID. Waits behind a device clear. */
  send(data: Buffer): void {
    if (this.closedWith) throw this.closedWith;
    const max = Math.max(1, this.serverMaxMessage - HEADER_BYTES);
    const messages: Buffer[] = [];
    for (let off = 0; ; off += max) {
      const end = Math.min(data.length, off + max);
      const last = end === data.length;
      const id = this.messageId;
      this.messageId = (this.messageId + 2) >>> 0;
      messages.push(
        encodeMessage(last ? MSG.DataEnd : MSG.Data, this.rmtDelivered ? 1 : 0, id, data.subarray(off, end)),
      );
      this.rmtDelivered = false;
      if (last) {
        this.lastSentId = id;
        break;
      }
    }
    if (this.clearing) this.held.push(...messages);
    else for (const m of messages) this.sync.write(m);
  }

  /**
   * Device clear: AsyncDeviceClear, its acknowledgement, DeviceClearComplete on the synchronous channel and its
   * acknowledgement. The server drops its pending input and output; replies not yet read are discarded here,
   * MessageIDs start again. Messages sent meanwhile go out after it.
   */
  deviceClear(timeoutMs: number): Promise<void> {
    this.clearing ??= (async () => {
      try {
        const ack = await this.asyncRequest(
          MSG.AsyncDeviceClear,
          0,
          0,
          undefined,
          [MSG.AsyncDeviceClearAcknowledge],
          timeoutMs,
        );
        this.parts = [];
        this.partsBytes = 0;
        this.lastSentId = -1;
        const done = this.waitSync([MSG.DeviceClearAcknowledge], timeoutMs);
        this.sync.write(encodeMessage(MSG.DeviceClearComplete, ack.control & 1, 0));
        await done;
        this.messageId = FIRST_MESSAGE_ID;
        this.rmtDelivered = false;
      } finally {
        this.clearing = null;
        const held = this.held;
        this.held = [];
        // the held messages were numbered before the clear: renumber them from the first MessageID
        for (const m of held) this.resend(m);
      }
    })();
    return this.clearing;
  }

  private resend(m: Buffer): void {
    if (this.closedWith) return;
    const id = this.messageId;
    this.messageId = (this.messageId + 2) >>> 0;
    m.writeUInt32BE(id, 4);
    if (m[2] === MSG.DataEnd) this.lastSentId = id;
    this.sync.write(m);
  }

  /**
   * AsyncLock: an exclusive lock (or a shared one named `shared`), waiting up to `timeoutMs` on the server.
   * Resolves true when granted, false when another client held it past the timeout.
   */
  async lock(timeoutMs: number, shared?: string, signal?: AbortSignal): Promise<boolean> {
    const granted = (m: HislipMessage) =>
      m.control === LOCK_RESPONSE.SUCCESS || m.control === LOCK_RESPONSE.SUCCESS_SHARED;
    const reply = this.asyncRequest(
      MSG.AsyncLock,
      1,
      timeoutMs,
      shared ? Buffer.from(shared, 'latin1') : undefined,
      [MSG.AsyncLockResponse],
      timeoutMs + 2000,
    );
    let r: HislipMessage;
    try {
      r = await this.abortable(reply, signal);
    } catch (err) {
      // given up while the server still waits: a lock it grants later is released at once
      if (err instanceof HislipError && err.reason === 'aborted')
        reply.then((m) => (granted(m) ? this.unlock(2000).catch(() => undefined) : undefined)).catch(() => undefined);
      throw err;
    }
    if (r.control === LOCK_RESPONSE.ERROR)
      throw new HislipError('protocol', `${this.what}: the server answered AsyncLock with an error`);
    return granted(r);
  }

  async unlock(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    const r = await this.asyncRequest(
      MSG.AsyncLock,
      0,
      this.lastSentId >>> 0,
      undefined,
      [MSG.AsyncLockResponse],
      timeoutMs,
      signal,
    );
    if (r.control === LOCK_RESPONSE.ERROR) throw new HislipError('protocol', `${this.what}: no lock held to release`);
  }

  /** AsyncLockInfo: whether a client holds the exclusive lock and how many hold a lock (the protocol names none). */
  async lockInfo(timeoutMs: number, signal?: AbortSignal): Promise<LockInfo> {
    const r = await this.asyncRequest(
      MSG.AsyncLockInfo,
      0,
      0,
      undefined,
      [MSG.AsyncLockInfoResponse],
      timeoutMs,
      signal,
    );
    return { exclusive: (r.control & 1) === 1, holders: r.param };
  }

  /** AsyncStatusQuery: the status byte. */
  async statusByte(timeoutMs: number, signal?: AbortSignal): Promise<number> {
    const r = await this.asyncRequest(
      MSG.AsyncStatusQuery,
      this.rmtDelivered ? 1 : 0,
      this.lastSentId >>> 0,
      undefined,
      [MSG.AsyncStatusResponse],
      timeoutMs,
      signal,
    );
    return r.control;
  }

  close(): void {
    this.shutdown(new HislipError('closed', `${this.what}: connection closed`));
  }

  private attach(): void {
    const syncReader = new MessageReader(this.maxMessage, (m) => this.onSync(m));
    const asyncReader = new MessageReader(64 * 1024, (m) => this.onAsync(m));
    const feed = (reader: MessageReader, socket: net.Socket) => (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        const code = err instanceof HislipProtocolError ? err.fatalCode : 0;
        socket.write(encodeMessage(MSG.FatalError, code, 0, Buffer.from((err as Error).message, 'latin1')));
        this.shutdown(new HislipError('protocol', `${this.what}: ${(err as Error).message}`));
      }
    };
    this.sync.on('data', feed(syncReader, this.sync));
    this.async.on('data', feed(asyncReader, this.async));
    for (const [s, name] of [
      [this.sync, 'synchronous'],
      [this.async, 'asynchronous'],
    ] as const) {
      s.on('error', (err) =>
        this.shutdown(new HislipError('closed', `${this.what}: ${name} channel failed: ${err.message}`)),
      );
      s.on('close', () =>
        this.shutdown(new HislipError('closed', `${this.what}: the server closed the ${name} channel`)),
      );
    }
  }

  private onSync(m: HislipMessage): void {
    switch (m.type) {
      case MSG.Data:
      case MSG.DataEnd: {
        if (m.param !== this.lastSentId && m.param !== ANY_MESSAGE_ID) return; // a reply to an older command
        if (this.partsBytes + m.payload.length > this.maxMessage) {
          this.parts = [];
          this.partsBytes = 0;
          this.onServerError(new HislipError('too-large', `${this.what}: reply longer than ${this.maxMessage} bytes`));
          return;
        }
        this.parts.push(m.payload);
        this.partsBytes += m.payload.length;
        if (m.type === MSG.DataEnd) {
          const data = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.partsBytes);
          this.parts = [];
          this.partsBytes = 0;
          this.rmtDelivered = true;
          this.onReply(data);
        }
        return;
      }
      case MSG.Interrupted:
        this.parts = [];
        this.partsBytes = 0;
        return;
      case MSG.Error:
        this.onServerError(
          new HislipError(
            'protocol',
            `${this.what}: server error: ${ERROR_TEXT[m.control] ?? `code ${m.control}`}: ${m.payload.toString('latin1')}`,
          ),
        );
        return;
      case MSG.FatalError:
        this.shutdown(fatal(this.what, m));
        return;
      default:
        this.wake(this.syncWaiters, m);
    }
  }

  private onAsync(m: HislipMessage): void {
    if (m.type === MSG.FatalError) {
      this.shutdown(fatal(this.what, m));
      return;
    }
    if (m.type === MSG.AsyncServiceRequest || m.type === MSG.AsyncInterrupted) return;
    this.wake(this.asyncWaiters, m);
  }

  private wake(list: Waiter[], m: HislipMessage): void {
    const i = list.findIndex((w) => w.types.includes(m.type));
    if (i < 0) return;
    const [w] = list.splice(i, 1);
    clearTimeout(w!.timer);
    w!.resolve(m);
  }

  private waitSync(types: number[], timeoutMs: number): Promise<HislipMessage> {
    return this.waitOn(this.syncWaiters, types, timeoutMs);
  }

  private waitOn(list: Waiter[], types: number[], timeoutMs: number): Promise<HislipMessage> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    return new Promise<HislipMessage>((resolve, reject) => {
      const w: Waiter = {
        types,
        resolve,
        reject,
        timer: setTimeout(() => {
          const i = list.indexOf(w);
          if (i >= 0) list.splice(i, 1);
          const names = types.map((t) => MSG_NAME[t]).join('/');
          reject(new HislipError('timeout', `${this.what}: no ${names} within ${timeoutMs} ms`));
        }, timeoutMs),
      };
      list.push(w);
    });
  }

  /** `p`, or a rejection when `signal` aborts first (`p`'s outcome then goes nowhere). */
  private abortable<T>(p: Promise<T>, signal: AbortSignal | undefined): Promise<T> {
    if (!signal) return p;
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => reject(new HislipError('aborted', `${this.what}: aborted`));
      if (signal.aborted) return onAbort();
      signal.addEventListener('abort', onAbort, { once: true });
      p.then(
        (v) => {
          signal.removeEventListener('abort', onAbort);
          resolve(v);
        },
        (e) => {
          signal.removeEventListener('abort', onAbort);
          reject(e);
        },
      );
    });
  }

  /** Sends an asynchronous-channel request and waits for its response (one at a time, in order). */
  private asyncRequest(
    type: number,
    control: number,
    param: number,
    payload: Buffer | undefined,
    expect: number[],
    timeoutMs: number,
    signal?: AbortSignal,
  ): Promise<HislipMessage> {
    // the request keeps its place among the responses whatever happens: an abort only stops the waiting
    const reply = this.waitOn(this.asyncWaiters, expect, timeoutMs);
    if (!this.closedWith) this.async.write(encodeMessage(type, control, param, payload));
    if (signal) reply.catch(() => undefined);
    return this.abortable(reply, signal);
  }

  private shutdown(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    this.sync.destroy();
    this.async.destroy();
    for (const list of [this.asyncWaiters, this.syncWaiters]) {
      for (const w of list.splice(0)) {
        clearTimeout(w.timer);
        w.reject(err);
      }
    }
    for (const fn of this.closeListeners.splice(0)) fn(err);
  }
}

function fatal(what: string, m: HislipMessage): HislipError {
  const text = FATAL_ERROR_TEXT[m.control] ?? `code ${m.control}`;
  const detail = m.payload.length ? `: ${m.payload.toString('latin1')}` : '';
  return new HislipError('refused', `${what}: the server sent a fatal error: ${text}${detail}`);
}

function expectType(m: HislipMessage, type: number, what: string): void {
  if (m.type === type) return;
  if (m.type === MSG.FatalError) throw fatal(what, m);
  throw new HislipError('protocol', `${what}: expected ${MSG_NAME[type]}, got ${MSG_NAME[m.type] ?? `type ${m.type}`}`);
}

function connectSocket(
  host: string,
  port: number,
  timeoutMs: number,
  what: string,
  signal?: AbortSignal,
): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host, port });
    const fail = (err: Error) => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(err);
    };
    const onAbort = () => fail(new HislipError('aborted', `${what}: connect aborted`));
    const timer = setTimeout(
      () => fail(new HislipError('connect', `${what}: no connection within ${timeoutMs} ms (host down or filtered?)`)),
      timeoutMs,
    );
    if (signal?.aborted) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('error', (err: NodeJS.ErrnoException) => {
      const why =
        err.code === 'ECONNREFUSED'
          ? 'connection refused (no HiSLIP server on that port)'
          : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
            ? `host ${host} not found`
            : err.message;
      fail(new HislipError('connect', `${what}: ${why}`, { cause: err }));
    });
    socket.once('connect', () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.removeAllListeners('error');
      socket.setNoDelay(true);
      socket.setKeepAlive(true, 10_000);
      resolve(socket);
    });
  });
}

/** The first message on a fresh channel (before the client's readers are attached). */
function firstMessage(
  socket: net.Socket,
  timeoutMs: number,
  what: string,
  expected: string,
  signal?: AbortSignal,
): Promise<HislipMessage> {
  return new Promise((resolve, reject) => {
    let settled = false;
    const finish = (err: Error | null, m?: HislipMessage) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('close', onClose);
      signal?.removeEventListener('abort', onAbort);
      if (err) reject(err);
      else resolve(m!);
    };
    const reader = new MessageReader(64 * 1024, (m) => finish(null, m));
    const onData = (chunk: Buffer) => {
      try {
        reader.push(chunk);
      } catch (err) {
        finish(new HislipError('protocol', `${what}: ${(err as Error).message}`));
      }
    };
    const onClose = () =>
      finish(new HislipError('refused', `${what}: the server closed the connection before ${expected}`));
    const onAbort = () => finish(new HislipError('aborted', `${what}: connect aborted`));
    const timer = setTimeout(
      () => finish(new HislipError('timeout', `${what}: no ${expected} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.on('data', onData);
    socket.once('close', onClose);
  });
}
