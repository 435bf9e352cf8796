import type { Duplex } from 'node:stream';
import { AbortedError, ConnectionError, FramingError, TimeoutError } from '../../core/errors.ts';
import { frameEndMessage } from '../framer.ts';
import { MessageStream } from '../message-stream.ts';
import { Transport, type TransportOptions } from '../transport.ts';
import { UsbtmcClient, UsbtmcError, type UsbtmcLink } from './client.ts';
import { KernelUsbtmcLink } from './kernel.ts';
import { openLibusbPipe } from './libusb.ts';
import type { UsbtmcPipe } from './pipe.ts';
import { devNodeExists, findUsbtmcInterfaces } from './sysfs.ts';

export interface UsbtmcOptions extends TransportOptions {
  /**
   * `auto` (default): the kernel's usbtmc driver when it is bound (/dev/usbtmcN), libusb otherwise. The
   * environment variable CPOBENCH_USB_BACKEND sets it where no option can (a station file, the CLI).
   */
  usbBackend?: 'auto' | 'kernel' | 'libusb';
  /** End reads at this byte as well as at EOM (when the device supports a term char). */
  termChar?: number;
  /** Bound of a write and of the clear after a failed read (ms, default 5000). */
  writeTimeoutMs?: number;
  /** Data bytes per bulk transfer (default 1 MiB). */
  maxTransferBytes?: number;
  /** Where sysfs is (tests give a tree of their own). */
  sysRoot?: string;
  /** Opens the bulk pipe instead of libusb (tests: the bulk-endpoint emulator). */
  usbPipe?: () => Promise<UsbtmcPipe>;
}

type UsbResource = { vendorId: number; productId: number; serial: string; interfaceNumber: number | undefined };

/**
 * `USB[n]::vid::pid::serial[::ifc]::INSTR` over USBTMC: through the kernel's usbtmc driver when it is bound, over
 * libusb otherwise. A read asks for the reply (REQUEST_DEV_DEP_MSG_IN after the command's DEV_DEP_MSG_OUT). On
 * libusb a read that times out or is aborted is ended with INITIATE_ABORT_BULK_IN and the device is cleared
 * (INITIATE_CLEAR), so the next query gets its own reply; through the kernel driver neither can be asked for
 * from Node (they are ioctls), and the session waits out a late reply as on a raw socket.
 */
export class UsbtmcTransport extends Transport {
  readonly usb: UsbResource;
  private readonly o: Required<Pick<UsbtmcOptions, 'usbBackend' | 'writeTimeoutMs' | 'maxTransferBytes' | 'sysRoot'>> &
    Pick<UsbtmcOptions, 'termChar' | 'usbPipe'>;
  private link: UsbtmcLink | null = null;
  private canClear = true;
  private readToken = 0;
  private readAbort: AbortController | null = null;
  /** Which path the open link takes: `kernel /dev/usbtmc0` or `libusb`. */
  backend = '';

  constructor(resource: string, usb: UsbResource, options: UsbtmcOptions = {}) {
    super(resource, options);
    this.usb = usb;
    this.o = {
      usbBackend: options.usbBackend ?? backendFromEnv(resource),
      writeTimeoutMs: options.writeTimeoutMs ?? 5000,
      maxTransferBytes: options.maxTransferBytes ?? 1024 * 1024,
      sysRoot: options.sysRoot ?? '/sys',
      termChar: options.termChar,
      usbPipe: options.usbPipe,
    };
  }

  override get clearsAfterFailedRead(): boolean {
    return this.canClear;
  }

  protected async connectStream(_timeoutMs: number, _signal?: AbortSignal): Promise<Duplex> {
    let link: UsbtmcLink;
    try {
      link = await this.openLink();
    } catch (err) {
      throw new ConnectionError(this.resource, `${this.resource}: ${(err as Error).message}`, { cause: err });
    }
    const stream: MessageStream = new MessageStream(
      (message) => this.send(link, stream, message),
      () => link.close(),
    );
    link.onGone((err) => {
      if (this.link === link) this.link = null;
      stream.destroy(err);
    });
    this.link = link;
    return stream;
  }

  private async openLink(): Promise<UsbtmcLink> {
    const what = `USBTMC ${hex(this.usb.vendorId)}:${hex(this.usb.productId)} ${this.usb.serial}`;
    if (this.o.usbPipe) {
      this.backend = 'pipe';
      this.canClear = true;
      return new UsbtmcClient(await this.o.usbPipe(), { what, maxTransferBytes: this.o.maxTransferBytes });
    }
    const bound = findUsbtmcInterfaces(this.usb, this.o.sysRoot).find((i) => i.devNode && devNodeExists(i.devNode));
    if (this.o.usbBackend === 'kernel' || (this.o.usbBackend === 'auto' && bound)) {
      if (!bound?.devNode)
        throw new Error(`${what}: no /dev/usbtmcN for it in sysfs (device absent, or the usbtmc driver not bound)`);
      this.backend = `kernel ${bound.devNode}`;
      this.canClear = false;
      return KernelUsbtmcLink.open(bound.devNode, what);
    }
    const pipe = await openLibusbPipe({ ...this.usb, what });
    this.backend = 'libusb';
    this.canClear = true;
    return new UsbtmcClient(pipe, { what, maxTransferBytes: this.o.maxTransferBytes });
  }

  private send(link: UsbtmcLink, stream: Duplex, message: Buffer): void {
    link.write(message, this.o.writeTimeoutMs).catch((err: unknown) => {
      if (err instanceof UsbtmcError && err.reason === 'gone') return;
      this.readToken++;
      this.readAbort?.abort();
      this.linkError(stream, this.describe(err, 'write'));
    });
  }

  protected override onReadWanted(timeoutMs: number): void {
    const link = this.link;
    const stream = this.currentStream;
    if (!link || !stream) return;
    const token = ++this.readToken;
    const ac = new AbortController();
    this.readAbort = ac;
    queueMicrotask(() => {
      if (token !== this.readToken || !this.readWaiting) return;
      // the transport's own timer ends the read (naming the command); the link's bound is a backstop
      link.read(timeoutMs + 1000, ac.signal, this.o.termChar).then(
        (data) => {
          if (token === this.readToken) this.pushMessage(stream, frameEndMessage(data));
        },
        (err: unknown) => {
          if (token !== this.readToken) return;
          if (err instanceof UsbtmcError && err.reason === 'gone') return;
          this.failWaitingRead(stream, this.describe(err, 'read'));
          // a reply that broke the rules (a wrong bTag, a short transfer): clear what the device still holds
          if (
            err instanceof UsbtmcError &&
            (err.reason === 'protocol' || err.reason === 'too-large') &&
            this.canClear
          ) {
            link.clear(this.o.writeTimeoutMs).catch((e: unknown) => {
              this.emit('discard', 0, `USBTMC clear after a bad transfer failed: ${(e as Error).message}`);
            });
          }
        },
      );
    });
  }

  protected override onReadAbandoned(why: 'timeout' | 'abort'): void {
    this.readToken++;
    this.readAbort?.abort();
    this.readAbort = null;
    const link = this.link;
    if (!link || !this.canClear) return;
    link.clear(this.o.writeTimeoutMs).catch((err: unknown) => {
      this.emit('discard', 0, `USBTMC clear after a ${why} failed: ${(err as Error).message}`);
    });
  }

  private describe(err: unknown, op: 'read' | 'write'): Error {
    if (err instanceof UsbtmcError) {
      const m = `${this.resource}: ${err.message}`;
      if (err.reason === 'timeout' && op === 'write')
        return new ConnectionError(this.resource, `${m} (the device took no data)`, { cause: err });
      if (err.reason === 'timeout') return new TimeoutError(this.resource, undefined, 0, err.message);
      if (err.reason === 'aborted') return new AbortedError(m);
      if (err.reason === 'protocol' || err.reason === 'too-large') return new FramingError(m);
      return new ConnectionError(this.resource, m, { cause: err });
    }
    return new ConnectionError(this.resource, `${this.resource}: ${(err as Error).message}`, { cause: err });
  }
}

function backendFromEnv(resource: string): 'auto' | 'kernel' | 'libusb' {
  const v = process.env.CPOBENCH_USB_BACKEND;
  if (v === undefined || v === '') return 'auto';
  if (v === 'auto' || v === 'kernel' || v === 'libusb') return v;
  throw new ConnectionError(resource, `${resource}: CPOBENCH_USB_BACKEND must be auto, kernel or libusb, got "${v}"`);
}

function hex(n: number): string {
  return `0x${n.toString(16).toUpperCase().padStart(4, '0')}`;
}
