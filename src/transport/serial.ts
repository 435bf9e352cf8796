import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import { AbortedError, ConnectionError } from '../core/errors.ts';
import { openTty, type SerialSettings, type TtyLink, ttyPathAvailable } from './serial-tty.ts';
import { Transport, type TransportOptions } from './transport.ts';

export type { SerialSettings } from './serial-tty.ts';

export interface SerialOptions extends TransportOptions, SerialSettings {
  /** A serialport binding (e.g. `SerialPortMock.binding`): the port is then read through serialport's stream. */
  binding?: unknown;
}

/**
 * Serial link. Ports are opened by path (a pty path works: a pty ignores the baud rate) with the line settings
 * applied through termios; the bytes flow through a tty stream on the event loop (serial-tty.ts), or through
 * serialport's stream when a custom binding is given or on Windows. On open the OS buffers are flushed, and
 * input arriving during `settleMs` (default 150 ms) is discarded, so a boot banner never reaches the first
 * query.
 */
export class SerialTransport extends Transport {
  readonly path: string;
  private readonly settings: Required<SerialSettings>;
  private readonly binding: unknown;
  /** Ports opened as tty streams, by stream: how to release each. */
  private readonly links = new WeakMap<Duplex, TtyLink>();

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
    const opening = this.binding || !ttyPathAvailable ? this.openSerialport() : this.openTtyStream();
    return new Promise<Duplex>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | null, stream?: Duplex) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(err);
        else resolve(stream!);
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
      opening.then(
        (stream) => {
          // opened after the caller gave up: release the port again
          if (settled) void this.destroyStream(stream);
          else finish(null, stream);
        },
        (err: Error) =>
          finish(
            new ConnectionError(this.resource, `${this.resource}: cannot open ${this.path}: ${err.message}`, {
              cause: err,
            }),
          ),
      );
    });
  }

  protected override async destroyStream(stream: Duplex): Promise<void> {
    const link = this.links.get(stream);
    if (link) {
      this.links.delete(stream);
      await link.close();
      return;
    }
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

  private async openTtyStream(): Promise<Duplex> {
    const link = await openTty(this.path, this.settings);
    this.links.set(link.stream, link);
    return link.stream;
  }

  /** The port as serialport's stream, opened and flushed. */
  private openSerialport(): Promise<Duplex> {
    const port = new SerialPort({
      path: this.path,
      ...this.settings,
      autoOpen: false,
      ...(this.binding ? { binding: this.binding as never } : {}),
    } as never);
    return new Promise<Duplex>((resolve, reject) => {
      port.open((err) => {
        if (err) reject(err);
        else port.flush(() => resolve(port));
      });
    });
  }
}
