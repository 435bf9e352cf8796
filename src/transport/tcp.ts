import net from 'node:net';
import type { Duplex } from 'node:stream';
import { AbortedError, ConnectionError } from '../core/errors.ts';
import { Transport, type TransportOptions } from './transport.ts';

export interface TcpOptions extends TransportOptions {
  /** TCP keep-alive initial delay in ms (0 disables). */
  keepAliveMs?: number;
}

/** Raw TCP socket to an instrument (LXI port 5025 convention): Nagle off, keep-alive on. */
export class TcpTransport extends Transport {
  readonly host: string;
  readonly port: number;
  private readonly keepAliveMs: number;

  constructor(resource: string, host: string, port: number, options: TcpOptions = {}) {
    super(resource, options);
    this.host = host;
    this.port = port;
    this.keepAliveMs = options.keepAliveMs ?? 10_000;
  }

  protected connectStream(timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      const where = `${this.host}:${this.port}`;
      const socket = net.connect({ host: this.host, port: this.port });
      const fail = (err: Error) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.destroy();
        reject(err);
      };
      const onAbort = () => fail(new AbortedError(`${this.resource}: connect aborted`));
      const timer = setTimeout(
        () =>
          fail(
            new ConnectionError(this.resource, `${this.resource}: connect to ${where} timed out after ${timeoutMs} ms`),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', (err: NodeJS.ErrnoException) => {
        const why =
          err.code === 'ECONNREFUSED'
            ? `connection refused by ${where}: is the instrument on and listening?`
            : err.code === 'ENOTFOUND'
              ? `host ${this.host} not found`
              : `cannot connect to ${where}: ${err.message}`;
        fail(new ConnectionError(this.resource, `${this.resource}: ${why}`, { cause: err }));
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeAllListeners('error');
        socket.setNoDelay(true);
        if (this.keepAliveMs > 0) socket.setKeepAlive(true, this.keepAliveMs);
        resolve(socket);
      });
    });
  }
}
