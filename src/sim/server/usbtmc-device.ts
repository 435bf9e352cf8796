/**
 * A USBTMC device at the level of its endpoints, for the simulated bench's tests (no USB bus needed): it takes
 * bulk-OUT transfers (DEV_DEP_MSG_OUT, REQUEST_DEV_DEP_MSG_IN), answers on a bulk-IN FIFO of packets of
 * wMaxPacketSize (a transfer ends with a short packet, a zero-length one when it fills its last packet), and
 * answers the class control requests (abort bulk-IN/OUT and their status checks, clear, capabilities) and
 * CLEAR_FEATURE(ENDPOINT_HALT), as USBTMC 1.0 says a device does. Faults make it misbehave the ways real ones do:
 * a wrong bTag, a transfer limit that splits replies, a device that stops mid-transfer, a bulk-OUT it never takes.
 */
import { type ControlSetup, UsbTransferError, type UsbtmcPipe } from '../../transport/usbtmc/pipe.ts';
import {
  ATTR,
  CLEAR_FEATURE,
  decodeHeader,
  encodeTransfer,
  HEADER_BYTES,
  MSG_ID,
  REQUEST,
  REQUEST_TYPE,
  STATUS,
  statusText,
} from '../../transport/usbtmc/protocol.ts';
import { createMessageRunner, type ServeOptions } from './connection.ts';
import type { ScpiInstrument } from './instrument.ts';

export interface UsbtmcDeviceFaults {
  /** Answer the next REQUEST_DEV_DEP_MSG_IN with another bTag (once). */
  wrongTagOnce?: boolean;
  /** The device's own limit of data bytes per DEV_DEP_MSG_IN: longer replies go in several, EOM on the last. */
  maxTransferBytes?: number;
  /** Send only this many packets of the next reply transfer, then nothing until the host aborts it (once). */
  stopAfterPacketsOnce?: number;
  /** Take no part of the next bulk-OUT transfer (NAK it) until the host aborts it (once). */
  nakNextBulkOut?: boolean;
}

export interface UsbtmcDeviceOptions {
  maxPacketSize?: number;
  interfaceNumber?: number;
  faults?: UsbtmcDeviceFaults;
  serve?: ServeOptions;
}

type InWaiter = {
  length: number;
  got: Buffer[];
  bytes: number;
  resolve: (b: Buffer) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
};

export class UsbtmcDeviceEmulator implements UsbtmcPipe {
  readonly maxPacketSize: number;
  readonly bulkOutEndpoint = 0x02;
  readonly bulkInEndpoint = 0x81;
  readonly interfaceNumber: number;
  readonly faults: UsbtmcDeviceFaults;
  /** Every control request and what the device answered, in order. */
  readonly controlLog: string[] = [];
  private readonly run: ReturnType<typeof createMessageRunner>;
  private readonly fifo: Buffer[] = [];
  private waiter: InWaiter | null = null;
  private input: Buffer[] = [];
  private readonly output: Buffer[] = [];
  private offset = 0;
  private generation = 0;
  /** The REQUEST_DEV_DEP_MSG_IN waiting for a reply. */
  private request: { bTag: number; size: number; termChar: number | undefined } | null = null;
  /** The bulk-IN transfer the host has not read to its end yet. */
  private inFlight: { bTag: number; packetsLeft: number; terminated: boolean } | null = null;
  private lastTag = 0;
  private abortInPending = false;
  private clearPending = false;
  /** The bTag of a bulk-OUT transfer the device is NAKing. */
  private nakTag: number | null = null;
  private gone: Error | null = null;
  private readonly goneListeners: ((e: Error) => void)[] = [];

  constructor(instrument: ScpiInstrument, o: UsbtmcDeviceOptions = {}) {
    this.maxPacketSize = o.maxPacketSize ?? 64;
    this.interfaceNumber = o.interfaceNumber ?? 0;
    this.faults = { ...o.faults };
    this.run = createMessageRunner(instrument, o.serve);
  }

  // ------------------------------------------------------------------ the host's side of the pipe

  bulkOut(data: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    if (this.gone) return Promise.reject(new UsbTransferError('gone', this.gone.message));
    let h: ReturnType<typeof decodeHeader>;
    try {
      h = decodeHeader(data);
    } catch (err) {
      return Promise.reject(new UsbTransferError('stall', (err as Error).message));
    }
    if (this.faults.nakNextBulkOut) {
      this.faults.nakNextBulkOut = false;
      this.nakTag = h.bTag;
      return this.never(timeoutMs, signal, 'bulk-OUT');
    }
    if (this.nakTag !== null) return Promise.reject(new UsbTransferError('stall', 'bulk-OUT endpoint halted'));
    this.lastTag = h.bTag;
    if (h.msgId === MSG_ID.DEV_DEP_MSG_OUT) {
      if (HEADER_BYTES + h.transferSize > data.length)
        return Promise.reject(new UsbTransferError('stall', 'DEV_DEP_MSG_OUT shorter than its TransferSize'));
      this.input.push(Buffer.from(data.subarray(HEADER_BYTES, HEADER_BYTES + h.transferSize)));
      if (h.attributes & ATTR.EOM) this.execute();
      return Promise.resolve();
    }
    if (h.msgId === MSG_ID.REQUEST_DEV_DEP_MSG_IN) {
      this.request = {
        bTag: h.bTag,
        size: h.transferSize,
        termChar: h.attributes & ATTR.TERM_CHAR ? h.termChar : undefined,
      };
      this.respond();
      return Promise.resolve();
    }
    return Promise.reject(new UsbTransferError('stall', `MsgID ${h.msgId} not supported`));
  }

  bulkIn(length: number, timeoutMs: number, signal?: AbortSignal): Promise<Buffer> {
    if (this.gone) return Promise.reject(new UsbTransferError('gone', this.gone.message));
    if (this.waiter) return Promise.reject(new UsbTransferError('io', 'a bulk-IN transfer is already pending'));
    if (signal?.aborted) return Promise.reject(new UsbTransferError('cancelled', 'bulk-IN cancelled'));
    return new Promise<Buffer>((resolve, reject) => {
      const w: InWaiter = {
        length,
        got: [],
        bytes: 0,
        resolve,
        reject,
        signal,
        onAbort: undefined,
        timer: setTimeout(
          () => this.endWaiter(new UsbTransferError('timeout', 'bulk-IN timed out', Buffer.concat(w.got))),
          timeoutMs,
        ),
      };
      if (signal) {
        w.onAbort = () => this.endWaiter(new UsbTransferError('cancelled', 'bulk-IN cancelled', Buffer.concat(w.got)));
        signal.addEventListener('abort', w.onAbort, { once: true });
      }
      this.waiter = w;
      this.feed();
    });
  }

  async control(setup: ControlSetup, length: number, _timeoutMs: number): Promise<Buffer> {
    if (this.gone) throw new UsbTransferError('gone', this.gone.message);
    const answer = this.controlAnswer(setup);
    const name =
      setup.requestType === REQUEST_TYPE.STANDARD_ENDPOINT_OUT
        ? `CLEAR_FEATURE(ENDPOINT_HALT) 0x${setup.index.toString(16)}`
        : `${REQUEST_NAME[setup.request] ?? setup.request}${setup.value ? ` bTag ${setup.value}` : ''}`;
    this.controlLog.push(answer.length ? `${name} -> ${statusText(answer[0])}` : name);
    return answer.subarray(0, length || answer.length);
  }

  onGone(fn: (err: Error) => void): void {
    if (this.gone) fn(this.gone);
    else this.goneListeners.push(fn);
  }

  async close(): Promise<void> {
    if (this.waiter) this.endWaiter(new UsbTransferError('cancelled', 'device closed'));
  }

  /** The device is unplugged: transfers fail, listeners hear of it. */
  unplug(): void {
    this.gone = new Error('device unplugged');
    if (this.waiter) this.endWaiter(new UsbTransferError('gone', 'device unplugged'));
    for (const fn of this.goneListeners.splice(0)) fn(this.gone);
  }

  // ------------------------------------------------------------------ the device

  private execute(): void {
    const message = Buffer.concat(this.input).toString('latin1');
    this.input = [];
    const generation = this.generation;
    for (const line of message.split('\n')) {
      const l = line.replace(/\r$/, '');
      if (l.trim() === '') continue;
      this.run(l, {
        reply: (out) => {
          if (this.generation !== generation || this.gone) return;
          this.output.push(out);
          this.respond();
        },
        drop: () => this.unplug(),
        get closed() {
          return false;
        },
      });
    }
  }

  /** Answers a waiting REQUEST_DEV_DEP_MSG_IN when a reply is there: one transfer into the FIFO. */
  private respond(): void {
    const req = this.request;
    if (!req || this.output.length === 0) return;
    this.request = null;
    const head = this.output[0]!;
    let n = Math.min(req.size, head.length - this.offset, this.faults.maxTransferBytes ?? Number.POSITIVE_INFINITY);
    let attributes = 0;
    if (req.termChar !== undefined) {
      const at = head.indexOf(req.termChar, this.offset);
      if (at !== -1 && at < this.offset + n) {
        n = at + 1 - this.offset;
        attributes |= ATTR.TERM_CHAR;
      }
    }
    const data = head.subarray(this.offset, this.offset + n);
    this.offset += n;
    if (this.offset === head.length) {
      attributes |= ATTR.EOM;
      this.output.shift();
      this.offset = 0;
    }
    let bTag = req.bTag;
    if (this.faults.wrongTagOnce) {
      this.faults.wrongTagOnce = false;
      bTag = (req.bTag % 255) + 1;
    }
    const transfer = encodeTransfer({ msgId: MSG_ID.DEV_DEP_MSG_IN, bTag, attributes, termChar: 0 }, data);
    const packets: Buffer[] = [];
    for (let off = 0; off < transfer.length; off += this.maxPacketSize)
      packets.push(transfer.subarray(off, off + this.maxPacketSize));
    if (transfer.length % this.maxPacketSize === 0) packets.push(Buffer.alloc(0)); // ZLP ends a full transfer
    let sent = packets;
    if (this.faults.stopAfterPacketsOnce !== undefined) {
      sent = packets.slice(0, this.faults.stopAfterPacketsOnce);
      this.faults.stopAfterPacketsOnce = undefined;
    }
    this.inFlight = { bTag: req.bTag, packetsLeft: packets.length, terminated: sent.length === packets.length };
    this.fifo.push(...sent);
    this.feed();
  }

  /** Moves FIFO packets into the waiting bulk-IN transfer; it ends at a short packet or when full. */
  private feed(): void {
    const w = this.waiter;
    if (!w) return;
    while (this.fifo.length > 0) {
      const p = this.fifo[0]!;
      if (w.bytes + p.length > w.length) {
        this.endWaiter(
          new UsbTransferError('overflow', `a ${p.length}-byte packet overflows the ${w.length}-byte transfer`),
        );
        return;
      }
      this.fifo.shift();
      if (this.inFlight && --this.inFlight.packetsLeft <= 0) this.inFlight = null;
      w.got.push(p);
      w.bytes += p.length;
      if (p.length < this.maxPacketSize || w.bytes === w.length) {
        this.endWaiter(null);
        return;
      }
    }
  }

  private endWaiter(err: Error | null): void {
    const w = this.waiter;
    if (!w) return;
    this.waiter = null;
    clearTimeout(w.timer);
    if (w.onAbort) w.signal?.removeEventListener('abort', w.onAbort);
    if (err) w.reject(err);
    else w.resolve(Buffer.concat(w.got, w.bytes));
  }

  private never(timeoutMs: number, signal: AbortSignal | undefined, what: string): Promise<void> {
    return new Promise<void>((_, reject) => {
      const t = setTimeout(() => reject(new UsbTransferError('timeout', `${what} timed out (NAKed)`)), timeoutMs);
      signal?.addEventListener(
        'abort',
        () => {
          clearTimeout(t);
          reject(new UsbTransferError('cancelled', `${what} cancelled`));
        },
        { once: true },
      );
    });
  }

  private controlAnswer(s: ControlSetup): Buffer {
    if (s.requestType === REQUEST_TYPE.STANDARD_ENDPOINT_OUT && s.request === CLEAR_FEATURE) {
      if (s.index === this.bulkOutEndpoint) this.nakTag = null;
      return Buffer.alloc(0);
    }
    switch (s.request) {
      case REQUEST.INITIATE_ABORT_BULK_IN: {
        const current = this.inFlight?.bTag ?? this.request?.bTag;
        if (current === undefined) return Buffer.from([STATUS.FAILED, this.lastTag]);
        if (current !== s.value) return Buffer.from([STATUS.TRANSFER_NOT_IN_PROGRESS, current]);
        // the transfer ends with a short packet: a zero-length one unless its last packet was short already
        if (this.request || (this.inFlight && !this.inFlight.terminated)) this.fifo.push(Buffer.alloc(0));
        this.request = null;
        this.inFlight = null;
        this.abortInPending = true;
        this.feed();
        return Buffer.from([STATUS.SUCCESS, s.value]);
      }
      case REQUEST.CHECK_ABORT_BULK_IN_STATUS: {
        const b = Buffer.alloc(8);
        if (this.abortInPending && this.fifo.length > 0) {
          b[0] = STATUS.PENDING;
          b[1] = 1; // the FIFO still holds data: the host reads it
          return b;
        }
        this.abortInPending = false;
        b[0] = STATUS.SUCCESS;
        return b;
      }
      case REQUEST.INITIATE_ABORT_BULK_OUT: {
        if (this.nakTag === null) return Buffer.from([STATUS.FAILED, this.lastTag]);
        if (this.nakTag !== s.value) return Buffer.from([STATUS.TRANSFER_NOT_IN_PROGRESS, this.nakTag]);
        return Buffer.from([STATUS.SUCCESS, s.value]);
      }
      case REQUEST.CHECK_ABORT_BULK_OUT_STATUS: {
        const b = Buffer.alloc(8);
        b[0] = STATUS.SUCCESS;
        return b; // NBYTES_RXD 0: none of the aborted transfer was taken
      }
      case REQUEST.INITIATE_CLEAR:
        this.generation++;
        this.input = [];
        this.output.length = 0;
        this.offset = 0;
        this.request = null;
        this.inFlight = null;
        this.fifo.length = 0;
        this.clearPending = true;
        return Buffer.from([STATUS.SUCCESS]);
      case REQUEST.CHECK_CLEAR_STATUS:
        if (this.clearPending) {
          this.clearPending = false;
          return Buffer.from([STATUS.PENDING, 0]); // one poll later it is done
        }
        return Buffer.from([STATUS.SUCCESS, 0]);
      case REQUEST.GET_CAPABILITIES: {
        const b = Buffer.alloc(0x18);
        b[0] = STATUS.SUCCESS;
        b.writeUInt16LE(0x0100, 2); // bcdUSBTMC 1.00
        b[4] = 0; // interface capabilities
        b[5] = 1; // device capabilities: TermChar supported
        return b;
      }
      default:
        throw new UsbTransferError('stall', `control request ${s.request} not supported`);
    }
  }
}

const REQUEST_NAME: Record<number, string> = Object.fromEntries(Object.entries(REQUEST).map(([k, v]) => [v, k]));
