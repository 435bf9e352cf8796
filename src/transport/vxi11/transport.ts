import type { Duplex } from 'node:stream';
import { AbortedError, ConnectionError, CpobenchError, TimeoutError } from '../../core/errors.ts';
import { frameEndMessage } from '../framer.ts';
import { MessageStream } from '../message-stream.ts';
import { Transport, type TransportOptions } from '../transport.ts';
import { Vxi11Client, Vxi11ConnectError, Vxi11DeviceError } from './client.ts';
import { VXI11_ERROR } from './protocol.ts';
import { RpcError } from './rpc.ts';

export interface Vxi11Options extends TransportOptions {
  /** The portmapper's port (111). Only a test serving its own portmapper elsewhere changes it. */
  portmapperPort?: number;
  /**
   * Hold the device's VXI-11 lock for as long as the link is open (create_link lockDevice): no other client can
   * write or read it meanwhile, on any host.
   */
  lockDevice?: boolean;
  /** How long an operation waits for another link's lock to go before failing with error 11 (ms, default 0). */
  lockTimeoutMs?: number;
  /** End reads at this byte as well as at END (VXI-11 termchrset); default: END only. */
  termChar?: number;
  /** io_timeout of device_write and of the clear after a failed read (ms, default 5000). */
  writeTimeoutMs?: number;
}

/**
 * `TCPIP[n]::host[::device]::INSTR` over VXI-11. A read asks the device for its reply (device_read, pipelined
 * behind the command's device_write: one round trip per query). A read that times out or is aborted ends with
 * device_abort (on the abort channel, for an abort) and device_clear, so the next query gets its own reply.
 */
export class Vxi11Transport extends Transport {
  readonly host: string;
  readonly device: string;
  private readonly vxi: Required<Omit<Vxi11Options, keyof TransportOptions | 'termChar'>> & { termChar?: number };
  private client: Vxi11Client | null = null;
  /** Bumped whenever the read in flight stops being wanted: its reply, if it comes, is dropped. */
  private readToken = 0;

  constructor(resource: string, host: string, device: string, options: Vxi11Options = {}) {
    super(resource, options);
    this.host = host;
    this.device = device;
    this.vxi = {
      portmapperPort: options.portmapperPort ?? 111,
      lockDevice: options.lockDevice ?? false,
      lockTimeoutMs: options.lockTimeoutMs ?? 0,
      writeTimeoutMs: options.writeTimeoutMs ?? 5000,
      ...(options.termChar === undefined ? {} : { termChar: options.termChar }),
    };
  }

  override get clearsAfterFailedRead(): boolean {
    return true;
  }

  /** The link's client while open (status byte, clear, lock), for callers that need more than messages. */
  get link(): Vxi11Client | null {
    return this.client;
  }

  protected async connectStream(timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
    let client: Vxi11Client;
    try {
      client = await Vxi11Client.connect({
        host: this.host,
        device: this.device,
        portmapperPort: this.vxi.portmapperPort,
        timeoutMs,
        lockDevice: this.vxi.lockDevice,
        lockTimeoutMs: this.vxi.lockTimeoutMs,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (err instanceof Vxi11ConnectError && err.reason === 'aborted')
        throw new AbortedError(`${this.resource}: connect aborted`);
      throw new ConnectionError(this.resource, `${this.resource}: ${(err as Error).message}`, { cause: err });
    }
    const stream: MessageStream = new MessageStream(
      (message) => this.send(client, stream, message),
      () => client.close(),
    );
    client.onClose((err) => {
      if (this.client === client) this.client = null;
      stream.destroy(err);
    });
    this.client = client;
    return stream;
  }

  /** A read that is waiting for its command: the command's write takes it along (one TCP write for both). */
  private wanted: { token: number; timeoutMs: number } | null = null;

  private send(client: Vxi11Client, stream: Duplex, message: Buffer): void {
    const wanted = this.wanted;
    this.wanted = null;
    const onWriteError = (err: unknown) => {
      if (this.isLinkLoss(err)) return;
      this.readToken++; // the read behind this write belongs to a command the device never took
      this.linkError(stream, this.describe(err, 'write'));
    };
    if (wanted && wanted.token === this.readToken && this.readWaiting) {
      const { written, reply } = client.writeThenRead(
        message,
        this.vxi.writeTimeoutMs,
        wanted.timeoutMs,
        this.readOptions(),
      );
      written.catch(onWriteError);
      this.handleReply(reply, wanted.token, stream);
      return;
    }
    client.write(message, this.vxi.writeTimeoutMs, this.vxi.lockTimeoutMs).catch(onWriteError);
  }

  private readOptions() {
    return {
      lockTimeoutMs: this.vxi.lockTimeoutMs,
      ...(this.vxi.termChar === undefined ? {} : { termChar: this.vxi.termChar }),
      maxBytes: this.options.framer.maxBlockBytes ?? 64 * 1024 * 1024,
    };
  }

  private handleReply(reply: Promise<Buffer>, token: number, stream: Duplex): void {
    reply.then(
      (data) => {
        if (token === this.readToken) this.pushMessage(stream, frameEndMessage(data));
      },
      (err: unknown) => {
        if (token !== this.readToken || this.isLinkLoss(err)) return;
        // the device's own io_timeout: the transport's timer says so too, naming the command
        if (err instanceof Vxi11DeviceError && err.code === VXI11_ERROR.IO_TIMEOUT) return;
        this.failWaitingRead(stream, this.describe(err, 'read'));
      },
    );
  }

  protected override onReadWanted(timeoutMs: number): void {
    const client = this.client;
    const stream = this.currentStream;
    if (!client || !stream) return;
    const token = ++this.readToken;
    // The session writes the command right after it starts the read: that write sends the read along. A read
    // with no command behind it (a reply read on its own) goes out after this tick.
    this.wanted = { token, timeoutMs };
    queueMicrotask(() => {
      if (this.wanted?.token !== token) return;
      this.wanted = null;
      if (token !== this.readToken || !this.readWaiting) return;
      this.handleReply(client.read(timeoutMs, this.readOptions()), token, stream);
    });
  }

  protected override onReadAbandoned(why: 'timeout' | 'abort'): void {
    this.readToken++;
    const client = this.client;
    if (!client) return;
    const clear = () =>
      client.clear(this.vxi.writeTimeoutMs).catch((err: unknown) => {
        if (!this.isLinkLoss(err))
          this.emit('discard', 0, `device_clear after a ${why} failed: ${(err as Error).message}`);
      });
    if (why === 'abort') {
      // device_abort ends the device_read in progress; the clear queues behind it on the core channel
      client.abort(1000).catch(() => undefined);
    }
    void clear();
  }

  private isLinkLoss(err: unknown): boolean {
    return err instanceof RpcError && err.kind === 'closed';
  }

  /** An error naming the resource and what the device said. */
  private describe(err: unknown, op: 'read' | 'write'): Error {
    if (err instanceof Vxi11DeviceError) {
      if (err.code === VXI11_ERROR.DEVICE_LOCKED_BY_ANOTHER_LINK) {
        return new CpobenchError(
          'E_LOCKED',
          `${this.resource}: the device is locked by another client (VXI-11 error 11, device_locked_by_another_link; ` +
            'the protocol does not say which client holds it)',
        );
      }
      if (err.code === VXI11_ERROR.IO_TIMEOUT)
        return new TimeoutError(this.resource, undefined, 0, `device ${op} timed out`);
      if (err.code === VXI11_ERROR.ABORT) return new AbortedError(`${this.resource}: ${op} aborted by device_abort`);
      return new ConnectionError(this.resource, `${this.resource}: ${err.message}`, { cause: err });
    }
    if (err instanceof RpcError && err.kind === 'timeout')
      return new ConnectionError(this.resource, `${this.resource}: ${err.message} (the device stopped answering RPC)`);
    return new ConnectionError(this.resource, `${this.resource}: ${(err as Error).message}`, { cause: err });
  }
}
