import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { AbortedError, ConnectionError } from '../core/errors.ts';
import { Transport, type TransportOptions } from './transport.ts';

export interface SerialSettings {
  baudRate?: number;
  dataBits?: 5 | 6 | 7 | 8;
  parity?: 'none' | 'even' | 'odd' | 'mark' | 'space';
  stopBits?: 1 | 1.5 | 2;
  rtscts?: boolean;
}

export interface SerialOptions extends TransportOptions, SerialSettings {
  /** A serialport binding; tests may pass `SerialPortMock.binding`. */
  binding?: unknown;
}

/**
 * Serial link through serialport. Ports are opened by path (a pty path works: a pty ignores the baud rate).
 * On open the OS buffers are flushed, and input arriving during `settleMs` (default 150 ms) is discarded,
 * so a boot banner never reaches the first query.
 */
export class SerialTransport extends Transport {
  readonly path: string;
  private readonly settings: SerialSettings;
  private readonly binding: unknown;

  constructor(resource: string, path: string, options: SerialOptions = {}) {
    super(resource, { settleMs: 150, ...options });
    this.path = path;
    this.settings = {
      baudRate: options.baudRate ?? 9600,
      dataBits: options.dataBits ?? 8,
      parity: options.parity ?? 'none',
      stopBits: options.stopBits ?? 1,
      rtscts: options.rtscts ?? false,
    };
    this.binding = options.binding;
  }

  protected connectStream(timeoutMs: number, signal?: AbortSignal): Promise<Duplex> {
    return new Promise<Duplex>((resolve, reject) => {
      const port = new SerialPort({
        path: this.path,
        baudRate: this.settings.baudRate!,
        dataBits: this.settings.dataBits,
        parity: this.settings.parity,
        stopBits: this.settings.stopBits,
        rtscts: this.settings.rtscts,
        autoOpen: false,
        ...(this.binding ? { binding: this.binding as never } : {}),
      });
      let settled = false;
      const finish = (err: Error | null) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) {
          if (port.isOpen) port.close(() => undefined);
          reject(err);
        } else resolve(port);
      };
      const onAbort = () => finish(new AbortedError(`${this.resource}: open aborted`));
      const timer = setTimeout(
        () =>
          finish(
            new ConnectionError(
              this.resource,
              `${this.resource}: opening ${this.path} timed out after ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      signal?.addEventListener('abort', onAbort, { once: true });
      port.open((err) => {
        if (err) {
          finish(
            new ConnectionError(this.resource, `${this.resource}: cannot open ${this.path}: ${err.message}`, {
              cause: err,
            }),
          );
          return;
        }
        port.flush(() => finish(null));
      });
    });
  }

  protected override async destroyStream(stream: Duplex): Promise<void> {
    const port = stream as SerialPort;
    await new Promise<void>((resolve) => {
      if (!port.isOpen) {
        port.destroy();
        return resolve();
      }
      port.close(() => resolve());
      setTimeout(resolve, 500).unref();
    });
  }
}
