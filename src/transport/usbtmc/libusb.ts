/**
 * The USBTMC bulk pipe over libusb, through the npm package `usb` (2.x: libusb bundled, prebuilt N-API binaries
 * for Linux, macOS and Windows). It is an optional dependency loaded on first use: without it (or when its
 * binary does not load), opening a USB resource without a bound kernel driver fails saying so. The device is
 * found by vendor and product id and its serial number string; its USBTMC interface (class 0xFE, subclass 3) is
 * claimed, the kernel driver detached from it first if one is bound.
 */
import { type ControlSetup, UsbTransferError, type UsbtmcPipe } from './pipe.ts';
import { USBTMC_CLASS, USBTMC_SUBCLASS } from './protocol.ts';

/** The parts of the `usb` 2.x API used here (declared here so type-checking never needs the package). */
interface LibusbException extends Error {
  errno: number;
}
interface LibusbTransfer {
  submit(buffer: Buffer): LibusbTransfer;
  cancel(): boolean;
}
interface LibusbEndpoint {
  address: number;
  direction: 'in' | 'out';
  transferType: number;
  descriptor: { wMaxPacketSize: number };
  makeTransfer(
    timeout: number,
    cb: (error: LibusbException | undefined, buffer: Buffer, actual: number) => void,
  ): LibusbTransfer;
}
interface LibusbInterface {
  interfaceNumber: number;
  descriptor: { bInterfaceClass: number; bInterfaceSubClass: number };
  endpoints: LibusbEndpoint[];
  claim(): void;
  release(closeEndpoints: boolean, cb: (err?: Error) => void): void;
  isKernelDriverActive(): boolean;
  detachKernelDriver(): void;
  attachKernelDriver(): void;
}
interface LibusbDevice {
  deviceDescriptor: { idVendor: number; idProduct: number; iSerialNumber: number };
  interfaces: LibusbInterface[] | undefined;
  timeout: number;
  open(defaultConfig?: boolean): void;
  close(): void;
  getStringDescriptor(index: number, cb: (error?: LibusbException, value?: string) => void): void;
  controlTransfer(
    bmRequestType: number,
    bRequest: number,
    wValue: number,
    wIndex: number,
    dataOrLength: number | Buffer,
    cb: (error: LibusbException | undefined, buffer: Buffer | number | undefined) => void,
  ): void;
}
interface LibusbModule {
  getDeviceList(): LibusbDevice[];
  usb: {
    on(event: 'detach', fn: (d: LibusbDevice) => void): void;
    off(event: 'detach', fn: (d: LibusbDevice) => void): void;
  };
  LIBUSB_TRANSFER_TYPE_BULK: number;
  LIBUSB_TRANSFER_TIMED_OUT: number;
  LIBUSB_TRANSFER_CANCELLED: number;
  LIBUSB_TRANSFER_STALL: number;
  LIBUSB_TRANSFER_NO_DEVICE: number;
  LIBUSB_TRANSFER_OVERFLOW: number;
  LIBUSB_ERROR_TIMEOUT: number;
  LIBUSB_ERROR_PIPE: number;
  LIBUSB_ERROR_NO_DEVICE: number;
}

/** Loads `usb`, or explains why the libusb path is not available. */
export async function loadLibusb(): Promise<LibusbModule> {
  const name = 'usb';
  try {
    const mod = (await import(name)) as LibusbModule & { default?: LibusbModule };
    return typeof mod.getDeviceList === 'function' ? mod : (mod.default as LibusbModule);
  } catch (err) {
    throw new Error(
      `the libusb path needs the npm package "usb" (an optional dependency of cpobench: npm install usb@2.18.0), ` +
        `which did not load (${(err as Error).message.split('\n')[0]}); or let the kernel's usbtmc driver bind the device`,
    );
  }
}

function serialOf(d: LibusbDevice): Promise<string | undefined> {
  const i = d.deviceDescriptor.iSerialNumber;
  if (!i) return Promise.resolve(undefined);
  return new Promise((resolve) => d.getStringDescriptor(i, (err, v) => resolve(err ? undefined : v)));
}

/** Opens the device's USBTMC interface as a bulk pipe; the error lists what it found when nothing matches. */
export async function openLibusbPipe(r: {
  vendorId: number;
  productId: number;
  serial: string;
  interfaceNumber: number | undefined;
  what: string;
}): Promise<UsbtmcPipe> {
  const usb = await loadLibusb();
  const hex = (n: number) => `0x${n.toString(16).padStart(4, '0')}`;
  const candidates = usb
    .getDeviceList()
    .filter((d) => d.deviceDescriptor.idVendor === r.vendorId && d.deviceDescriptor.idProduct === r.productId);
  const seen: string[] = [];
  for (const d of candidates) {
    try {
      d.open();
    } catch (err) {
      seen.push(`one that cannot be opened (${(err as Error).message}: permissions? a udev rule gives them)`);
      continue;
    }
    const serial = await serialOf(d);
    if (serial !== r.serial) {
      seen.push(`serial ${serial ?? '(none)'}`);
      d.close();
      continue;
    }
    const iface = (d.interfaces ?? []).find((i) =>
      r.interfaceNumber === undefined
        ? i.descriptor.bInterfaceClass === USBTMC_CLASS && i.descriptor.bInterfaceSubClass === USBTMC_SUBCLASS
        : i.interfaceNumber === r.interfaceNumber,
    );
    if (!iface) {
      d.close();
      throw new Error(
        `${r.what}: the device has no USBTMC interface${r.interfaceNumber === undefined ? '' : ` ${r.interfaceNumber}`}`,
      );
    }
    let detached = false;
    try {
      if (iface.isKernelDriverActive()) {
        iface.detachKernelDriver();
        detached = true;
      }
      iface.claim();
    } catch (err) {
      d.close();
      throw new Error(`${r.what}: cannot claim interface ${iface.interfaceNumber}: ${(err as Error).message}`);
    }
    const bulk = iface.endpoints.filter((e) => e.transferType === usb.LIBUSB_TRANSFER_TYPE_BULK);
    const inEp = bulk.find((e) => e.direction === 'in');
    const outEp = bulk.find((e) => e.direction === 'out');
    if (!inEp || !outEp) {
      d.close();
      throw new Error(`${r.what}: interface ${iface.interfaceNumber} lacks a bulk-IN or bulk-OUT endpoint`);
    }
    return new LibusbPipe(usb, d, iface, inEp, outEp, detached);
  }
  const found = seen.length ? `; found ${hex(r.vendorId)}:${hex(r.productId)} with ${seen.join(', ')}` : '';
  throw new Error(`${r.what}: no USB device ${hex(r.vendorId)}:${hex(r.productId)} with serial ${r.serial}${found}`);
}

class LibusbPipe implements UsbtmcPipe {
  readonly maxPacketSize: number;
  readonly bulkOutEndpoint: number;
  readonly bulkInEndpoint: number;
  readonly interfaceNumber: number;
  private readonly goneListeners: ((e: Error) => void)[] = [];
  private gone: Error | null = null;
  private readonly onDetach: (d: LibusbDevice) => void;

  constructor(
    private readonly usb: LibusbModule,
    private readonly device: LibusbDevice,
    private readonly iface: LibusbInterface,
    private readonly inEp: LibusbEndpoint,
    private readonly outEp: LibusbEndpoint,
    private readonly detached: boolean,
  ) {
    this.maxPacketSize = inEp.descriptor.wMaxPacketSize || 64;
    this.bulkInEndpoint = inEp.address;
    this.bulkOutEndpoint = outEp.address;
    this.interfaceNumber = iface.interfaceNumber;
    this.onDetach = (d) => {
      if (d === this.device) this.markGone(new Error('device unplugged'));
    };
    usb.usb.on('detach', this.onDetach);
  }

  private markGone(err: Error): void {
    if (this.gone) return;
    this.gone = err;
    for (const fn of this.goneListeners.splice(0)) fn(err);
  }

  private errorOf(err: LibusbException, data?: Buffer): UsbTransferError {
    const u = this.usb;
    const e = err.errno;
    if (e === u.LIBUSB_TRANSFER_TIMED_OUT || e === u.LIBUSB_ERROR_TIMEOUT)
      return new UsbTransferError('timeout', err.message, data);
    if (e === u.LIBUSB_TRANSFER_CANCELLED) return new UsbTransferError('cancelled', err.message, data);
    if (e === u.LIBUSB_TRANSFER_STALL || e === u.LIBUSB_ERROR_PIPE)
      return new UsbTransferError('stall', err.message, data);
    if (e === u.LIBUSB_TRANSFER_NO_DEVICE || e === u.LIBUSB_ERROR_NO_DEVICE) {
      this.markGone(new Error(err.message));
      return new UsbTransferError('gone', err.message, data);
    }
    if (e === u.LIBUSB_TRANSFER_OVERFLOW) return new UsbTransferError('overflow', err.message, data);
    return new UsbTransferError('io', err.message, data);
  }

  private transfer(ep: LibusbEndpoint, buf: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.gone) return Promise.reject(new UsbTransferError('gone', this.gone.message));
    return new Promise<Buffer>((resolve, reject) => {
      const onAbort = () => t.cancel();
      const t = ep.makeTransfer(Math.max(1, timeoutMs), (err, buffer, actual) => {
        signal?.removeEventListener('abort', onAbort);
        if (err) reject(this.errorOf(err, buffer.subarray(0, actual)));
        else resolve(buffer.subarray(0, actual));
      });
      if (signal?.aborted) return reject(new UsbTransferError('cancelled', 'cancelled'));
      signal?.addEventListener('abort', onAbort, { once: true });
      t.submit(buf);
    });
  }

  async bulkOut(data: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    await this.transfer(this.outEp, data, timeoutMs, signal);
  }

  bulkIn(length: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    return this.transfer(this.inEp, Buffer.alloc(length), timeoutMs, signal);
  }

  control(s: ControlSetup, length: number, timeoutMs: number): Promise<Buffer> {
    if (this.gone) return Promise.reject(new UsbTransferError('gone', this.gone.message));
    this.device.timeout = timeoutMs;
    return new Promise<Buffer>((resolve, reject) => {
      this.device.controlTransfer(
        s.requestType,
        s.request,
        s.value,
        s.index,
        length > 0 ? length : Buffer.alloc(0),
        (err, buf) => {
          if (err) reject(this.errorOf(err));
          else resolve(Buffer.isBuffer(buf) ? buf : Buffer.alloc(0));
        },
      );
    });
  }

  onGone(fn: (err: Error) => void): void {
    if (this.gone) fn(this.gone);
    else this.goneListeners.push(fn);
  }

  async close(): Promise<void> {
    this.usb.usb.off('detach', this.onDetach);
    if (this.gone) return;
    await new Promise<void>((resolve) => this.iface.release(true, () => resolve()));
    if (this.detached) {
      try {
        this.iface.attachKernelDriver();
      } catch {
        /* the driver may not come back: nothing more to do */
      }
    }
    try {
      this.device.close();
    } catch {
      /* already closed */
    }
  }
}
