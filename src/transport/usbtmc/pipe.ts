/**
 * What the USBTMC protocol needs of a USB device: one interface's bulk-OUT and bulk-IN endpoints and the default
 * control pipe. libusb provides it (libusb.ts), and so does the bulk-endpoint emulator the tests use.
 */

export class UsbTransferError extends Error {
  /** timeout: nothing (or not all) came in time; stall: the endpoint halted; cancelled: our AbortSignal; gone: unplugged. */
  readonly kind: 'timeout' | 'stall' | 'cancelled' | 'gone' | 'overflow' | 'io';
  /** Bytes a bulk-IN transfer had received when it ended. */
  readonly data: Buffer | undefined;
  constructor(kind: UsbTransferError['kind'], message: string, data?: Buffer) {
    super(message);
    this.name = 'UsbTransferError';
    this.kind = kind;
    this.data = data;
  }
}

export interface ControlSetup {
  requestType: number;
  request: number;
  value: number;
  index: number;
}

export interface UsbtmcPipe {
  /** wMaxPacketSize of the bulk-IN endpoint (64 at full speed, 512 at high speed). */
  readonly maxPacketSize: number;
  readonly bulkOutEndpoint: number;
  readonly bulkInEndpoint: number;
  readonly interfaceNumber: number;
  /** One bulk-OUT transfer. Rejects with UsbTransferError. */
  bulkOut(data: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  /**
   * One bulk-IN transfer of at most `length` bytes (a multiple of maxPacketSize): it ends at a short packet
   * (a zero-length one too) or when `length` bytes came. Rejects with UsbTransferError (a timeout carries what
   * had come).
   */
  bulkIn(length: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer>;
  /** A control transfer: device-to-host when `length` > 0 (resolves with the data), else host-to-device. */
  control(setup: ControlSetup, length: number, timeoutMs: number): Promise<Buffer>;
  /** Calls `fn` once when the device goes away (unplugged). */
  onGone(fn: (err: Error) => void): void;
  close(): Promise<void>;
}
