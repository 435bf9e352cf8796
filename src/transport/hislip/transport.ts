import type { Duplex } from 'node:stream';
import { AbortedError, ConnectionError, CpobenchError } from '../../core/errors.ts';
import { frameEndMessage } from '../framer.ts';
import { MessageStream } from '../message-stream.ts';
import { Transport, type TransportOptions } from '../transport.ts';
import { HislipClient, HislipError } from './client.ts';

export interface HislipOptions extends TransportOptions {
  /** Hold the instrument's exclusive HiSLIP lock while the link is open, waiting up to lockTimeoutMs for it. */
  lockDevice?: boolean;
  lockTimeoutMs?: number;
  /** Bound of the device clear after a failed read (ms, default 5000). */
  writeTimeoutMs?: number;
}

/**
 * `TCPIP[n]::host::hislipN[,port]::INSTR` over HiSLIP. Replies come on their own (DataEnd marks the end); one
 * that answers an older command is dropped by its MessageID. A read that times out or is aborted ends with a
 * device clear (asynchronous and synchronous channels), so the next query gets its own reply.
 */
export class HislipTransport extends Transport {
  readonly host: string;
  readonly port: number;
  readonly subAddress: string;
  private readonly hs: { lockDevice: boolean; lockTimeoutMs: number; writeTimeoutMs: number };
  private client: HislipClient | null = null;

  constructor(resource: string, host: string, port: number, subAddress: string, options: HislipOptions = {}) {
    super(resource, options);
    this.host = host;
    this.port = port;
    this.subAddress = subAddress;
    this.hs = {
      lockDevice: options.lockDevice ?? false,
      lockTimeoutMs: options.lockTimeoutMs ?? 0,
      writeTimeoutMs: options.writeTimeoutMs ?? 5000,
    };
  }

  override get clearsAfterFailedRead(): boolean {
    return true;
  }

  /** The session while open (lock, lock info, status byte), for callers that need more than messages. */
  get link(): HislipClient | null {
    return this.client;
  }

  protected async connectStream(timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
    let client: HislipClient;
    try {
      client = await HislipClient.connect({
        host: this.host,
        port: this.port,
        subAddress: this.subAddress,
        timeoutMs,
        maxMessageBytes: this.options.framer.maxBlockBytes ?? 64 * 1024 * 1024,
        ...(signal ? { signal } : {}),
      });
    } catch (err) {
      if (err instanceof HislipError && err.reason === 'aborted')
        throw new AbortedError(`${this.resource}: connect aborted`);
      throw new ConnectionError(this.resource, `${this.resource}: ${(err as Error).message}`, { cause: err });
    }
    if (this.hs.lockDevice) {
      let granted = false;
      try {
        granted = await client.lock(this.hs.lockTimeoutMs);
      } catch (err) {
        client.close();
        throw new ConnectionError(this.resource, `${this.resource}: AsyncLock failed: ${(err as Error).message}`);
      }
      if (!granted) {
        const info = await client.lockInfo(1000).catch(() => undefined);
        client.close();
        throw new CpobenchError('E_LOCKED', `${this.resource}: ${lockedText(info?.holders)}`);
      }
    }
    const stream: MessageStream = new MessageStream(
      (message) => client.send(message),
      async () => client.close(),
    );
    client.onReply = (data) => this.pushMessage(stream, frameEndMessage(data));
    client.onServerError = (err) =>
      this.linkError(stream, new ConnectionError(this.resource, `${this.resource}: ${err.message}`));
    client.onClose((err) => {
      if (this.client === client) this.client = null;
      stream.destroy(err);
    });
    this.client = client;
    return stream;
  }

  protected override onReadAbandoned(why: 'timeout' | 'abort'): void {
    const client = this.client;
    if (!client) return;
    client.deviceClear(this.hs.writeTimeoutMs).catch((err: unknown) => {
      if (!client.closed) this.emit('discard', 0, `device clear after a ${why} failed: ${(err as Error).message}`);
    });
  }
}

function lockedText(holders: number | undefined): string {
  const who =
    holders === undefined
      ? ''
      : ` (AsyncLockInfo: ${holders} client${holders === 1 ? '' : 's'} hold${holders === 1 ? 's' : ''} a lock)`;
  return `the instrument is locked by another client${who}; HiSLIP does not say which client`;
}
