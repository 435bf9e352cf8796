/**
 * A VXI-11 client for one device: the portmapper lookup of the core channel, create_link, device_write (split at
 * the device's max_recv_size, END on the last part), device_read until END (or the term char), device_clear,
 * device_readstb, device_lock/unlock, device_abort on the abort channel, destroy_link. Calls are pipelined on
 * the core connection (the device runs them in order), so a query costs one round trip, not two.
 */
import { getPort, IPPROTO_TCP, PMAP_PORT } from './portmapper.ts';
import {
  ASYNC_PROC,
  CORE_PROC,
  DEVICE_ASYNC,
  DEVICE_CORE,
  FLAG,
  REASON,
  VXI11_ERROR,
  VXI11_VERSION,
  vxi11ErrorText,
} from './protocol.ts';
import { RpcError, RpcTcpClient } from './rpc.ts';
import type { XdrReader } from './xdr.ts';

/** A device error: a non-zero Device_ErrorCode in a reply. */
export class Vxi11DeviceError extends Error {
  readonly code: number;
  constructor(what: string, code: number) {
    super(`${what}: ${vxi11ErrorText(code)}`);
    this.name = 'Vxi11DeviceError';
    this.code = code;
  }
}

/** Why the link could not be made: no portmapper, no VXI-11 program, refused link. Names the host and device. */
export class Vxi11ConnectError extends Error {
  readonly reason: 'unreachable' | 'no-portmapper' | 'no-core-program' | 'link-refused' | 'aborted';
  constructor(reason: Vxi11ConnectError['reason'], message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'Vxi11ConnectError';
    this.reason = reason;
  }
}

export interface Vxi11ConnectOptions {
  host: string;
  /** LAN device name: inst0, gpib0,7, ... */
  device: string;
  /** The portmapper's port, 111 (a test may serve one elsewhere). */
  portmapperPort?: number;
  /** Bounds the whole connect: portmapper lookup, core connection, create_link. */
  timeoutMs: number;
  signal?: AbortSignal;
  /** Lock the device as the link is made (create_link lockDevice), waiting up to lockTimeoutMs for it. */
  lockDevice?: boolean;
  lockTimeoutMs?: number;
  clientId?: number;
}

/** Extra time given to an RPC beyond the io_timeout the device applies itself. */
const RPC_MARGIN_MS = 2000;
/** Largest chunk asked for per device_read. */
const READ_CHUNK = 8 * 1024 * 1024;

export class Vxi11Client {
  readonly host: string;
  readonly device: string;
  readonly corePort: number;
  readonly lid: number;
  readonly abortPort: number;
  /** The largest device_write the device takes; longer messages are split. */
  readonly maxRecvSize: number;
  private readonly core: RpcTcpClient;
  private abortChannel: Promise<RpcTcpClient> | null = null;
  private closing: Promise<void> | null = null;
  private readonly what: string;

  private constructor(
    core: RpcTcpClient,
    host: string,
    device: string,
    corePort: number,
    link: { lid: number; abortPort: number; maxRecvSize: number },
  ) {
    this.core = core;
    this.host = host;
    this.device = device;
    this.corePort = corePort;
    this.lid = link.lid;
    this.abortPort = link.abortPort;
    this.maxRecvSize = link.maxRecvSize;
    this.what = `VXI-11 ${device} at ${hostPort(host, corePort)}`;
  }

  /** Looks up the core channel, connects and creates the link, all within `timeoutMs`. */
  static async connect(o: Vxi11ConnectOptions): Promise<Vxi11Client> {
    const deadline = Date.now() + o.timeoutMs;
    const left = () => Math.max(1, deadline - Date.now());
    const pmPort = o.portmapperPort ?? PMAP_PORT;
    let corePort: number;
    try {
      corePort = await getPort(o.host, DEVICE_CORE, VXI11_VERSION, IPPROTO_TCP, {
        port: pmPort,
        timeoutMs: o.timeoutMs,
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      throw connectError(err, o.host, pmPort);
    }
    if (corePort === 0) {
      throw new Vxi11ConnectError(
        'no-core-program',
        `the portmapper at ${hostPort(o.host, pmPort)} has no VXI-11 core program (0x0607AF version 1) registered: ` +
          'the host is up but serves no VXI-11 instrument (try its raw socket, ::5025::SOCKET, or HiSLIP, ::hislip0::INSTR)',
      );
    }
    let core: RpcTcpClient;
    try {
      core = await RpcTcpClient.connect(o.host, corePort, {
        timeoutMs: left(),
        what: `VXI-11 core channel at ${hostPort(o.host, corePort)}`,
        ...(o.signal ? { signal: o.signal } : {}),
      });
    } catch (err) {
      throw connectError(err, o.host, corePort);
    }
    try {
      const lockTimeout = o.lockTimeoutMs ?? 0;
      const r = await core.call(
        DEVICE_CORE,
        VXI11_VERSION,
        CORE_PROC.CREATE_LINK,
        (w) =>
          w
            .int(o.clientId ?? (Math.random() * 0x7fffffff) | 0)
            .bool(o.lockDevice ?? false)
            .uint(lockTimeout)
            .string(o.device),
        left() + lockTimeout,
        `VXI-11 create_link ${o.device}`,
        o.signal,
      );
      const error = r.uint('error');
      const lid = r.uint('lid');
      const abortPort = r.uint('abortPort') & 0xffff;
      const maxRecvSize = r.uint('maxRecvSize');
      if (error !== 0) {
        const hint =
          error === VXI11_ERROR.DEVICE_LOCKED_BY_ANOTHER_LINK
            ? ': another client holds its lock (VXI-11 does not say which)'
            : error === VXI11_ERROR.DEVICE_NOT_ACCESSIBLE || error === VXI11_ERROR.INVALID_ADDRESS
              ? `: is "${o.device}" a device name this host serves (inst0, gpib0,N, ...)?`
              : '';
        throw new Vxi11ConnectError(
          'link-refused',
          `create_link to device "${o.device}" at ${hostPort(o.host, corePort)} refused: ${vxi11ErrorText(error)}${hint}`,
        );
      }
      return new Vxi11Client(core, o.host, o.device, corePort, {
        lid,
        abortPort,
        maxRecvSize: maxRecvSize > 0 ? maxRecvSize : 1024,
      });
    } catch (err) {
      core.close();
      if (err instanceof Vxi11ConnectError) throw err;
      throw connectError(err, o.host, corePort);
    }
  }

  get closed(): boolean {
    return this.core.closed;
  }

  onClose(fn: (err: Error) => void): void {
    this.core.onClose(fn);
  }

  /**
   * device_write: the message in parts of at most maxRecvSize bytes, END with the last. All parts are sent at once
   * (the device takes them in order). Resolves with the bytes the device took; rejects with Vxi11DeviceError.
   */
  write(data: Buffer, ioTimeoutMs: number, lockTimeoutMs = 0, signal?: AbortSignal): Promise<number> {
    const max = this.maxRecvSize;
    if (data.length <= max) return this.writePart(data, true, ioTimeoutMs, lockTimeoutMs, signal);
    const parts: Promise<number>[] = [];
    for (let off = 0; off < data.length; off += max) {
      const end = Math.min(data.length, off + max);
      parts.push(this.writePart(data.subarray(off, end), end === data.length, ioTimeoutMs, lockTimeoutMs, signal));
    }
    return Promise.all(parts).then((sizes) => sizes.reduce((a, b) => a + b, 0));
  }

  /**
   * A query's two calls in one TCP write: device_write of `data` (END), then the first device_read of its reply.
   * Both promises are the same as write() and read() would give.
   */
  writeThenRead(
    data: Buffer,
    writeIoMs: number,
    readIoMs: number,
    o: { termChar?: number; lockTimeoutMs?: number; signal?: AbortSignal; maxBytes?: number } = {},
  ): { written: Promise<number>; reply: Promise<Buffer> } {
    return this.core.batch(() => ({
      written: this.write(data, writeIoMs, o.lockTimeoutMs ?? 0),
      reply: this.read(readIoMs, o),
    }));
  }

  private writePart(
    data: Buffer,
    end: boolean,
    ioTimeoutMs: number,
    lockTimeoutMs: number,
    signal?: AbortSignal,
  ): Promise<number> {
    return this.core
      .call(
        DEVICE_CORE,
        VXI11_VERSION,
        CORE_PROC.DEVICE_WRITE,
        (w) =>
          w
            .uint(this.lid)
            .uint(ioTimeoutMs)
            .uint(lockTimeoutMs)
            .uint(end ? FLAG.END : 0)
            .opaque(data),
        ioTimeoutMs + lockTimeoutMs + RPC_MARGIN_MS,
        `${this.what}: device_write`,
        signal,
      )
      .then((r) => {
        const error = r.uint('error');
        const size = r.uint('size');
        if (error !== 0) throw new Vxi11DeviceError(`${this.what}: device_write`, error);
        return size;
      });
  }

  /**
   * device_read until the device says END (or, with `termChar`, that it sent the term char), within `ioTimeoutMs`
   * in all. Rejects with Vxi11DeviceError (15: I/O timeout, 23: aborted, 11: locked), RpcError, or an Error
   * when the reply grows past `maxBytes`.
   */
  async read(
    ioTimeoutMs: number,
    o: { termChar?: number; lockTimeoutMs?: number; signal?: AbortSignal; maxBytes?: number; chunkBytes?: number } = {},
  ): Promise<Buffer> {
    const deadline = Date.now() + ioTimeoutMs;
    const maxBytes = o.maxBytes ?? 64 * 1024 * 1024;
    const chunk = o.chunkBytes ?? READ_CHUNK;
    const parts: Buffer[] = [];
    let total = 0;
    for (;;) {
      const left = Math.max(0, deadline - Date.now());
      const r = await this.readOnce(Math.min(chunk, maxBytes - total + 1), left, o);
      const error = r.uint('error');
      const reason = r.int('reason');
      const data = r.opaque('data');
      if (error !== 0) throw new Vxi11DeviceError(`${this.what}: device_read`, error);
      if (data.length > 0) {
        parts.push(data);
        total += data.length;
      }
      if (total > maxBytes) throw new Error(`${this.what}: reply longer than ${maxBytes} bytes`);
      if (reason & REASON.END || (o.termChar !== undefined && reason & REASON.CHR)) {
        return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
      }
      if (Date.now() >= deadline) throw new Vxi11DeviceError(`${this.what}: device_read`, VXI11_ERROR.IO_TIMEOUT);
    }
  }

  private readOnce(
    requestSize: number,
    ioTimeoutMs: number,
    o: { termChar?: number; lockTimeoutMs?: number; signal?: AbortSignal },
  ): Promise<XdrReader> {
    const lockTimeout = o.lockTimeoutMs ?? 0;
    return this.core.call(
      DEVICE_CORE,
      VXI11_VERSION,
      CORE_PROC.DEVICE_READ,
      (w) =>
        w
          .uint(this.lid)
          .uint(requestSize)
          .uint(ioTimeoutMs)
          .uint(lockTimeout)
          .uint(o.termChar === undefined ? 0 : FLAG.TERMCHRSET)
          .uint(o.termChar ?? 0),
      ioTimeoutMs + lockTimeout + RPC_MARGIN_MS,
      `${this.what}: device_read`,
      o.signal,
    );
  }

  /** device_readstb: the status byte. */
  async readStb(ioTimeoutMs: number, signal?: AbortSignal): Promise<number> {
    const r = await this.generic(CORE_PROC.DEVICE_READSTB, 'device_readstb', ioTimeoutMs, 0, signal);
    const error = r.uint('error');
    const stb = r.uint('stb') & 0xff;
    if (error !== 0) throw new Vxi11DeviceError(`${this.what}: device_readstb`, error);
    return stb;
  }

  /** device_clear: the device empties its input and output buffers (a pending query's reply is gone). */
  clear(ioTimeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.errorOnly(this.generic(CORE_PROC.DEVICE_CLEAR, 'device_clear', ioTimeoutMs, 0, signal), 'device_clear');
  }

  trigger(ioTimeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.errorOnly(
      this.generic(CORE_PROC.DEVICE_TRIGGER, 'device_trigger', ioTimeoutMs, 0, signal),
      'device_trigger',
    );
  }

  /** device_lock, waiting up to `lockTimeoutMs` for another link's lock to go. */
  lock(lockTimeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.errorOnly(
      this.core.call(
        DEVICE_CORE,
        VXI11_VERSION,
        CORE_PROC.DEVICE_LOCK,
        (w) =>
          w
            .uint(this.lid)
            .uint(lockTimeoutMs > 0 ? FLAG.WAITLOCK : 0)
            .uint(lockTimeoutMs),
        lockTimeoutMs + RPC_MARGIN_MS,
        `${this.what}: device_lock`,
        signal,
      ),
      'device_lock',
    );
  }

  unlock(timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.errorOnly(
      this.core.call(
        DEVICE_CORE,
        VXI11_VERSION,
        CORE_PROC.DEVICE_UNLOCK,
        (w) => w.uint(this.lid),
        timeoutMs,
        `${this.what}: device_unlock`,
        signal,
      ),
      'device_unlock',
    );
  }

  /**
   * device_abort on the abort channel (its own connection, made on first use): a device_read or device_write in
   * progress on this link ends with error 23.
   */
  async abort(timeoutMs: number): Promise<void> {
    this.abortChannel ??= RpcTcpClient.connect(this.host, this.abortPort, {
      timeoutMs,
      what: `VXI-11 abort channel at ${hostPort(this.host, this.abortPort)}`,
    });
    const channel = this.abortChannel;
    let c: RpcTcpClient;
    try {
      c = await channel;
    } catch (err) {
      if (this.abortChannel === channel) this.abortChannel = null;
      throw err;
    }
    if (c.closed) {
      this.abortChannel = null;
      return this.abort(timeoutMs);
    }
    const r = await c.call(
      DEVICE_ASYNC,
      VXI11_VERSION,
      ASYNC_PROC.DEVICE_ABORT,
      (w) => w.uint(this.lid),
      timeoutMs,
      `${this.what}: device_abort`,
    );
    const error = r.uint('error');
    if (error !== 0) throw new Vxi11DeviceError(`${this.what}: device_abort`, error);
  }

  /** destroy_link (bounded by `timeoutMs`, its outcome ignored), then both connections close. Idempotent. */
  close(timeoutMs = 500): Promise<void> {
    this.closing ??= (async () => {
      if (!this.core.closed) {
        await this.core
          .call(DEVICE_CORE, VXI11_VERSION, CORE_PROC.DESTROY_LINK, (w) => w.uint(this.lid), timeoutMs, 'destroy_link')
          .catch(() => undefined);
      }
      this.core.close();
      const abort = this.abortChannel;
      this.abortChannel = null;
      if (abort) await abort.then((c) => c.close()).catch(() => undefined);
    })();
    return this.closing;
  }

  private generic(proc: number, name: string, ioTimeoutMs: number, lockTimeoutMs: number, signal?: AbortSignal) {
    return this.core.call(
      DEVICE_CORE,
      VXI11_VERSION,
      proc,
      (w) => w.uint(this.lid).uint(0).uint(lockTimeoutMs).uint(ioTimeoutMs),
      ioTimeoutMs + lockTimeoutMs + RPC_MARGIN_MS,
      `${this.what}: ${name}`,
      signal,
    );
  }

  private async errorOnly(call: Promise<XdrReader>, name: string): Promise<void> {
    const error = (await call).uint('error');
    if (error !== 0) throw new Vxi11DeviceError(`${this.what}: ${name}`, error);
  }
}

function hostPort(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** Turns a failure to reach the portmapper or the core channel into a Vxi11ConnectError that says what to check. */
function connectError(err: unknown, host: string, port: number): Error {
  if (!(err instanceof RpcError)) return err as Error;
  if (err.kind === 'aborted') return new Vxi11ConnectError('aborted', err.message, { cause: err });
  const code = (err as { code?: string }).code;
  if (code === 'ECONNREFUSED' && port === PMAP_PORT) {
    return new Vxi11ConnectError(
      'no-portmapper',
      `${err.message}: nothing answers on ${hostPort(host, port)}, so no VXI-11 server is registered there ` +
        '(a VXI-11 instrument runs a portmapper on port 111; is it a raw-socket or HiSLIP instrument?)',
      { cause: err },
    );
  }
  if (err.kind === 'refused')
    return new Vxi11ConnectError('no-portmapper', `${err.message} (not a portmapper?)`, { cause: err });
  return new Vxi11ConnectError('unreachable', err.message, { cause: err });
}
