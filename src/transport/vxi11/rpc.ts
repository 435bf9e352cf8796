/**
 * ONC RPC version 2 (RFC 5531) as VXI-11 and the portmapper use it: AUTH_NONE calls and replies, record marking
 * over TCP (a 4-byte mark per fragment: last-fragment bit and 31-bit length), and a TCP client that matches
 * replies to calls by xid, so several calls may be in flight on one connection (the server runs them in order).
 * Every call has a deadline and may be cancelled with an AbortSignal; its reply, if it comes later, is dropped.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { XdrError, XdrReader, XdrWriter } from './xdr.ts';

export const RPC_VERSION = 2;
const MSG_CALL = 0;
const MSG_REPLY = 1;
const MSG_ACCEPTED = 0;
const MSG_DENIED = 1;
const AUTH_NONE = 0;
const LAST_FRAGMENT = 0x80000000;

export const ACCEPT_STAT = {
  SUCCESS: 0,
  PROG_UNAVAIL: 1,
  PROG_MISMATCH: 2,
  PROC_UNAVAIL: 3,
  GARBAGE_ARGS: 4,
  SYSTEM_ERR: 5,
} as const;
export type AcceptStat = (typeof ACCEPT_STAT)[keyof typeof ACCEPT_STAT];

const ACCEPT_TEXT: Record<number, string> = {
  1: 'program unavailable',
  2: 'program version mismatch',
  3: 'procedure unavailable',
  4: 'garbage arguments',
  5: 'system error',
};

/** Largest record accepted by default (a VXI-11 read reply carries at most the requested size plus ~40 bytes). */
export const DEFAULT_MAX_RECORD_BYTES = 16 * 1024 * 1024 + 4096;

/** An RPC-level failure: the peer refused the call, a timeout, a lost connection, a malformed record. */
export class RpcError extends Error {
  readonly kind: 'timeout' | 'aborted' | 'closed' | 'refused' | 'protocol' | 'connect';
  constructor(kind: RpcError['kind'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'RpcError';
    this.kind = kind;
  }
}

/** Starts an RPC message; with `recordMark`, room for the TCP record mark that finishMessage() fills in. */
export function beginMessage(recordMark: boolean, size = 128): XdrWriter {
  const w = new XdrWriter(size);
  if (recordMark) w.uint(0);
  return w;
}

/** Ends an RPC message: fills in the record mark (one fragment, the last). */
export function finishMessage(w: XdrWriter, recordMark: boolean): Buffer {
  if (recordMark) w.patchUint(0, LAST_FRAGMENT | (w.length - 4));
  return w.bytes();
}

/** Writes a call header (AUTH_NONE credentials and verifier); the arguments follow. */
export function writeCallHeader(w: XdrWriter, xid: number, prog: number, vers: number, proc: number): XdrWriter {
  return w
    .uint(xid)
    .uint(MSG_CALL)
    .uint(RPC_VERSION)
    .uint(prog)
    .uint(vers)
    .uint(proc)
    .uint(AUTH_NONE)
    .uint(0)
    .uint(AUTH_NONE)
    .uint(0);
}

/** Writes an accepted reply header with `stat`; for SUCCESS the results follow. */
export function writeReplyHeader(w: XdrWriter, xid: number, stat: AcceptStat): XdrWriter {
  return w.uint(xid).uint(MSG_REPLY).uint(MSG_ACCEPTED).uint(AUTH_NONE).uint(0).uint(stat);
}

/** A decoded call, for servers. */
export interface RpcCall {
  xid: number;
  prog: number;
  vers: number;
  proc: number;
  /** Positioned at the first argument. */
  args: XdrReader;
}

/** Decodes a call message (servers); throws XdrError or RpcError('protocol') on anything else. */
export function decodeCall(msg: Buffer): RpcCall {
  const r = new XdrReader(msg);
  const xid = r.uint('xid');
  const type = r.uint('message type');
  if (type !== MSG_CALL) throw new RpcError('protocol', `RPC: message type ${type} where a call was expected`);
  const rpcvers = r.uint('rpc version');
  if (rpcvers !== RPC_VERSION) throw new RpcError('protocol', `RPC: version ${rpcvers}, expected ${RPC_VERSION}`);
  const prog = r.uint('program');
  const vers = r.uint('version');
  const proc = r.uint('procedure');
  r.uint('credential flavor');
  r.opaque('credential', 400);
  r.uint('verifier flavor');
  r.opaque('verifier', 400);
  return { xid, prog, vers, proc, args: r };
}

/** Decodes a reply (clients): the results on success, else an RpcError that says why. */
export function decodeReply(msg: Buffer, what: string): { xid: number; results: XdrReader } {
  const r = new XdrReader(msg);
  const xid = r.uint('xid');
  const type = r.uint('message type');
  if (type !== MSG_REPLY)
    throw new RpcError('protocol', `${what}: RPC message type ${type} where a reply was expected`);
  const stat = r.uint('reply status');
  if (stat === MSG_DENIED) {
    const reject = r.uint('reject status');
    const why =
      reject === 0
        ? `RPC version mismatch (server speaks ${r.uint()}..${r.uint()})`
        : `authentication error ${r.uint()}`;
    throw new RpcError('refused', `${what}: call denied: ${why}`);
  }
  if (stat !== MSG_ACCEPTED)
    throw new RpcError('protocol', `${what}: reply status ${stat} is neither accepted nor denied`);
  r.uint('verifier flavor');
  r.opaque('verifier', 400);
  const accept = r.uint('accept status');
  if (accept !== ACCEPT_STAT.SUCCESS) {
    const extra = accept === ACCEPT_STAT.PROG_MISMATCH ? ` (server has versions ${r.uint()}..${r.uint()})` : '';
    throw new RpcError('refused', `${what}: ${ACCEPT_TEXT[accept] ?? `accept status ${accept}`}${extra}`);
  }
  return { xid, results: r };
}

/**
 * Reassembles RPC records from a TCP byte stream (record marking). A record inside one chunk is handed on as a
 * view of the chunk. A record larger than `maxBytes` is a protocol error (the connection should be closed).
 */
export class RecordReader {
  private header = Buffer.alloc(4);
  private headerFilled = 0;
  private fragmentLeft = -1;
  private last = false;
  private parts: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly maxBytes: number,
    private readonly onRecord: (record: Buffer) => void,
  ) {}

  /** Feeds bytes; throws RpcError('protocol') for an oversize record. */
  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      if (this.fragmentLeft < 0) {
        if (this.headerFilled === 0 && n - i >= 4) {
          const mark = chunk.readUInt32BE(i);
          i += 4;
          this.startFragment(mark);
          // fast path: a whole single-fragment record inside this chunk
          if (this.last && this.parts.length === 0 && n - i >= this.fragmentLeft) {
            const len = this.fragmentLeft;
            this.fragmentLeft = -1;
            this.size = 0;
            this.onRecord(chunk.subarray(i, i + len));
            i += len;
          }
          continue;
        }
        const take = Math.min(4 - this.headerFilled, n - i);
        chunk.copy(this.header, this.headerFilled, i, i + take);
        this.headerFilled += take;
        i += take;
        if (this.headerFilled === 4) {
          this.headerFilled = 0;
          this.startFragment(this.header.readUInt32BE(0));
        }
        continue;
      }
      const take = Math.min(this.fragmentLeft, n - i);
      if (take > 0) this.parts.push(chunk.subarray(i, i + take));
      this.fragmentLeft -= take;
      i += take;
      if (this.fragmentLeft === 0) this.endFragment();
    }
  }

  private startFragment(mark: number): void {
    this.last = (mark & LAST_FRAGMENT) !== 0;
    const len = mark & 0x7fffffff;
    this.size += len;
    if (this.size > this.maxBytes)
      throw new RpcError(
        'protocol',
        `RPC record of ${this.size}+ bytes is larger than the ${this.maxBytes}-byte limit`,
      );
    this.fragmentLeft = len;
    if (len === 0) this.endFragment();
  }

  private endFragment(): void {
    this.fragmentLeft = -1;
    if (!this.last) return;
    const record = this.parts.length === 1 ? this.parts[0]! : Buffer.concat(this.parts, this.size);
    this.parts = [];
    this.size = 0;
    this.onRecord(record);
  }
}

export interface RpcConnectOptions {
  timeoutMs: number;
  signal?: AbortSignal;
  /** Names the peer in errors: "portmapper at 10.0.0.5:111". */
  what: string;
  /** Bind this local port (a reserved port < 1024 for calls a portmapper only takes from root). */
  localPort?: number;
  maxRecordBytes?: number;
}

interface Pending {
  resolve: (r: XdrReader) => void;
  reject: (e: Error) => void;
  deadline: number;
  what: string;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

/** An ONC RPC client on one TCP connection. */
export class RpcTcpClient {
  readonly what: string;
  private readonly socket: net.Socket;
  private readonly pending = new Map<number, Pending>();
  private xid = (Math.random() * 0x7fffffff) >>> 0;
  private timer: NodeJS.Timeout | null = null;
  private timerDue = Number.POSITIVE_INFINITY;
  private closedWith: Error | undefined;
  private readonly closeListeners: ((err: Error) => void)[] = [];

  private constructor(socket: net.Socket, what: string, maxRecordBytes: number) {
    this.socket = socket;
    this.what = what;
    const records = new RecordReader(maxRecordBytes, (rec) => this.onRecord(rec));
    socket.on('data', (chunk: Buffer) => {
      try {
        records.push(chunk);
      } catch (err) {
        this.shutdown(err as Error);
      }
    });
    socket.on('error', (err) => this.shutdown(new RpcError('closed', `${what}: connection failed: ${err.message}`)));
    socket.on('close', () => this.shutdown(new RpcError('closed', `${what}: connection closed by the peer`)));
  }

  /**
   * Connects within `timeoutMs` to `host:port`, or to a Unix socket when `host` is a path and `port` is 0;
   * rejects with RpcError('connect'), saying why, or RpcError('aborted').
   */
  static connect(host: string, port: number, o: RpcConnectOptions): Promise<RpcTcpClient> {
    return new Promise((resolve, reject) => {
      const socket =
        port === 0 && host.startsWith('/')
          ? net.connect({ path: host })
          : net.connect({ host, port, ...(o.localPort ? { localPort: o.localPort } : {}) });
      const fail = (err: Error) => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(new RpcError('aborted', `${o.what}: connect aborted`));
      const timer = setTimeout(
        () =>
          fail(new RpcError('connect', `${o.what}: no connection within ${o.timeoutMs} ms (host down or filtered?)`)),
        o.timeoutMs,
      );
      if (o.signal?.aborted) return onAbort();
      o.signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'ECONNREFUSED'
            ? 'connection refused'
            : err.code === 'ENOTFOUND' || err.code === 'EAI_AGAIN'
              ? `host ${host} not found`
              : err.code === 'EHOSTUNREACH' || err.code === 'ENETUNREACH'
                ? 'host unreachable'
                : err.message;
        fail(Object.assign(new RpcError('connect', `${o.what}: ${why}`, { cause: err }), { code: err.code }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        o.signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        if (port !== 0) {
          socket.setNoDelay(true);
          socket.setKeepAlive(true, 10_000);
        }
        resolve(new RpcTcpClient(socket, o.what, o.maxRecordBytes ?? DEFAULT_MAX_RECORD_BYTES));
      });
    });
  }

  get closed(): boolean {
    return this.closedWith !== undefined;
  }

  /** The local address and port of the connection. */
  get localAddress(): { address: string; port: number } {
    return { address: this.socket.localAddress ?? '', port: this.socket.localPort ?? 0 };
  }

  onClose(fn: (err: Error) => void): void {
    if (this.closedWith) fn(this.closedWith);
    else this.closeListeners.push(fn);
  }

  /**
   * Calls `proc`; `args` writes the arguments. Resolves with the results; rejects with RpcError: refused (with
   * the server's reason), timeout after `timeoutMs`, aborted, closed.
   */
  call(
    prog: number,
    vers: number,
    proc: number,
    args: ((w: XdrWriter) => void) | undefined,
    timeoutMs: number,
    what: string,
    signal?: AbortSignal,
  ): Promise<XdrReader> {
    if (this.closedWith) return Promise.reject(this.closedWith);
    if (signal?.aborted) return Promise.reject(new RpcError('aborted', `${what}: aborted`));
    const xid = this.xid;
    this.xid = (this.xid + 1) >>> 0;
    const w = beginMessage(true);
    writeCallHeader(w, xid, prog, vers, proc);
    args?.(w);
    const message = finishMessage(w, true);
    return new Promise<XdrReader>((resolve, reject) => {
      const p: Pending = {
        resolve,
        reject,
        deadline: performance.now() + timeoutMs,
        what,
        signal,
        onAbort: undefined,
      };
      if (signal) {
        p.onAbort = () => {
          if (this.pending.get(xid) !== p) return;
          this.pending.delete(xid);
          reject(new RpcError('aborted', `${what}: aborted`));
        };
        signal.addEventListener('abort', p.onAbort, { once: true });
      }
      this.pending.set(xid, p);
      this.arm(p.deadline);
      this.socket.write(message);
    });
  }

  /** Runs `fn` with the socket corked: the calls it makes leave in one write (one system call, one segment). */
  batch<T>(fn: () => T): T {
    this.socket.cork();
    try {
      return fn();
    } finally {
      this.socket.uncork();
    }
  }

  /** Closes the connection; pending calls fail with RpcError('closed'). */
  close(): void {
    this.shutdown(new RpcError('closed', `${this.what}: connection closed`));
  }

  private onRecord(record: Buffer): void {
    const xid = record.length >= 4 ? record.readUInt32BE(0) : -1;
    const p = this.pending.get(xid);
    let results: XdrReader;
    try {
      results = decodeReply(record, p?.what ?? this.what).results;
    } catch (err) {
      // a refused call fails that call, not the connection
      if (err instanceof RpcError && err.kind === 'refused') {
        if (p) this.settle(xid, p, undefined, err);
        return;
      }
      this.shutdown(
        err instanceof XdrError
          ? new RpcError('protocol', `${this.what}: malformed reply: ${err.message}`)
          : (err as Error),
      );
      return;
    }
    // no pending call: a reply to a call that timed out or was cancelled
    if (p) this.settle(xid, p, results, undefined);
  }

  private settle(xid: number, p: Pending, results: XdrReader | undefined, err: Error | undefined): void {
    this.pending.delete(xid);
    if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
    if (err) p.reject(err);
    else p.resolve(results!);
  }

  private arm(deadline: number): void {
    if (this.timer && this.timerDue <= deadline) return;
    if (this.timer) clearTimeout(this.timer);
    this.timerDue = deadline;
    this.timer = setTimeout(this.onTimer, Math.max(0, Math.ceil(deadline - performance.now())));
  }

  private readonly onTimer = (): void => {
    this.timer = null;
    this.timerDue = Number.POSITIVE_INFINITY;
    const now = performance.now();
    let next = Number.POSITIVE_INFINITY;
    for (const [xid, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(xid);
        if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
        p.reject(new RpcError('timeout', `${p.what}: no RPC reply in time`));
      } else if (p.deadline < next) {
        next = p.deadline;
      }
    }
    if (next < Number.POSITIVE_INFINITY) this.arm(next);
  };

  private shutdown(err: Error): void {
    if (this.closedWith) return;
    this.closedWith = err;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.socket.destroy();
    const pending = [...this.pending.values()];
    this.pending.clear();
    for (const p of pending) {
      if (p.onAbort) p.signal?.removeEventListener('abort', p.onAbort);
      p.reject(err);
    }
    for (const fn of this.closeListeners.splice(0)) fn(err);
  }
}
