/**
 * The USBTMC host side over a bulk pipe (libusb, or the emulator in tests): a program message as DEV_DEP_MSG_OUT
 * transfers (at most `maxTransferBytes` of data each, EOM on the last), a reply asked for with
 * REQUEST_DEV_DEP_MSG_IN and read from bulk-IN until the device says EOM (or the term char), each transfer checked
 * (MsgID, bTag and its inverse, TransferSize). A transfer that times out, is aborted or comes back wrong is ended
 * with the spec's sequence: INITIATE_ABORT_BULK_IN / CHECK_ABORT_BULK_IN_STATUS (reading the FIFO empty), or
 * INITIATE_ABORT_BULK_OUT / CHECK_ABORT_BULK_OUT_STATUS and CLEAR_FEATURE(ENDPOINT_HALT); INITIATE_CLEAR /
 * CHECK_CLEAR_STATUS clears the device. One operation at a time: they queue.
 */
import { type ControlSetup, UsbTransferError, type UsbtmcPipe } from './pipe.ts';
import {
  ATTR,
  CLEAR_FEATURE,
  decodeHeader,
  ENDPOINT_HALT,
  encodeHeader,
  encodeTransfer,
  HEADER_BYTES,
  MSG_ID,
  REQUEST,
  REQUEST_TYPE,
  STATUS,
  statusText,
} from './protocol.ts';

/** A protocol failure: a reply that breaks the rules, or a request the device refused. */
export class UsbtmcError extends Error {
  readonly reason: 'timeout' | 'aborted' | 'protocol' | 'refused' | 'gone' | 'too-large';
  constructor(reason: UsbtmcError['reason'], message: string) {
    super(message);
    this.name = 'UsbtmcError';
    this.reason = reason;
  }
}

export interface UsbtmcClientOptions {
  /** Names the device in errors. */
  what: string;
  /** Data bytes per DEV_DEP_MSG_OUT and asked for per REQUEST_DEV_DEP_MSG_IN (default 1 MiB). */
  maxTransferBytes?: number;
  /** Largest reply accepted (default 64 MiB). */
  maxMessageBytes?: number;
  /** Bound of each control request and of the abort and clear sequences' bulk reads (ms, default 1000). */
  controlTimeoutMs?: number;
  /** Pause between CHECK_*_STATUS polls while the device says PENDING (ms, default 5). */
  pollMs?: number;
}

/** Everything a transport needs of a USBTMC device, whatever carries it (libusb here, the kernel driver there). */
export interface UsbtmcLink {
  write(message: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<void>;
  read(timeoutMs: number, signal?: AbortSignal, termChar?: number): Promise<Buffer>;
  /** Clears the device (its input and output); false when this link cannot (the kernel driver without ioctl). */
  clear(timeoutMs: number): Promise<boolean>;
  onGone(fn: (err: Error) => void): void;
  close(): Promise<void>;
}

export class UsbtmcClient implements UsbtmcLink {
  private readonly pipe: UsbtmcPipe;
  private readonly what: string;
  private readonly maxTransfer: number;
  private readonly maxMessage: number;
  private readonly controlTimeout: number;
  private readonly pollMs: number;
  private tag = 0;
  private queue: Promise<unknown> = Promise.resolve();
  /** Control requests and their outcomes, newest last (bounded): what the abort and clear sequences did. */
  readonly log: string[] = [];

  constructor(pipe: UsbtmcPipe, o: UsbtmcClientOptions) {
    this.pipe = pipe;
    this.what = o.what;
    this.maxTransfer = o.maxTransferBytes ?? 1024 * 1024;
    this.maxMessage = o.maxMessageBytes ?? 64 * 1024 * 1024;
    this.controlTimeout = o.controlTimeoutMs ?? 1000;
    this.pollMs = o.pollMs ?? 5;
  }

  onGone(fn: (err: Error) => void): void {
    this.pipe.onGone(fn);
  }

  close(): Promise<void> {
    return this.pipe.close();
  }

  /** The next bTag: 1..255, never 0. */
  private nextTag(): number {
    this.tag = (this.tag % 255) + 1;
    return this.tag;
  }

  private serial<T>(op: () => Promise<T>): Promise<T> {
    const run = this.queue.then(op, op);
    this.queue = run.catch(() => undefined);
    return run;
  }

  /** Sends a program message: DEV_DEP_MSG_OUT transfers, EOM with the last. */
  write(message: Buffer, timeoutMs: number, signal?: AbortSignal): Promise<void> {
    return this.serial(async () => {
      const deadline = Date.now() + timeoutMs;
      let off = 0;
      do {
        const end = Math.min(message.length, off + this.maxTransfer);
        const bTag = this.nextTag();
        const last = end === message.length;
        const transfer = encodeTransfer(
          { msgId: MSG_ID.DEV_DEP_MSG_OUT, bTag, attributes: last ? ATTR.EOM : 0, termChar: 0 },
          message.subarray(off, end),
        );
        try {
          await this.pipe.bulkOut(transfer, Math.max(1, deadline - Date.now()), signal);
        } catch (err) {
          const e = this.transferError(err, 'bulk-OUT (DEV_DEP_MSG_OUT)', timeoutMs);
          if (e.reason !== 'gone') await this.abortBulkOut(bTag).catch(() => undefined);
          throw e;
        }
        off = end;
      } while (off < message.length);
    });
  }

  /**
   * Reads one reply: REQUEST_DEV_DEP_MSG_IN, then the device's DEV_DEP_MSG_IN transfer(s), until EOM (or, with
   * `termChar`, the term char). Within `timeoutMs` in all.
   */
  read(timeoutMs: number, signal?: AbortSignal, termChar?: number): Promise<Buffer> {
    return this.serial(async () => {
      const deadline = Date.now() + timeoutMs;
      const left = () => Math.max(1, deadline - Date.now());
      const parts: Buffer[] = [];
      let total = 0;
      for (;;) {
        const bTag = this.nextTag();
        const ask = Math.min(this.maxTransfer, this.maxMessage - total + 1);
        const request = encodeHeader({
          msgId: MSG_ID.REQUEST_DEV_DEP_MSG_IN,
          bTag,
          transferSize: ask,
          attributes: termChar === undefined ? 0 : ATTR.TERM_CHAR,
          termChar: termChar ?? 0,
        });
        try {
          await this.pipe.bulkOut(request, left(), signal);
        } catch (err) {
          const e = this.transferError(err, 'bulk-OUT (REQUEST_DEV_DEP_MSG_IN)', timeoutMs);
          if (e.reason !== 'gone') await this.abortBulkOut(bTag).catch(() => undefined);
          throw e;
        }
        let transfer: { data: Buffer; eom: boolean; term: boolean };
        try {
          transfer = await this.readTransfer(bTag, ask, left, signal, timeoutMs);
        } catch (err) {
          const e = err instanceof UsbtmcError ? err : this.transferError(err, 'bulk-IN (DEV_DEP_MSG_IN)', timeoutMs);
          if (e.reason !== 'gone') await this.abortBulkIn(bTag).catch(() => undefined);
          throw e;
        }
        parts.push(transfer.data);
        total += transfer.data.length;
        if (total > this.maxMessage)
          throw new UsbtmcError('too-large', `${this.what}: reply longer than ${this.maxMessage} bytes`);
        if (transfer.eom || (termChar !== undefined && transfer.term))
          return parts.length === 1 ? parts[0]! : Buffer.concat(parts, total);
      }
    });
  }

  /** The DEV_DEP_MSG_IN transfer answering `bTag`: header checked, data cut to its TransferSize. */
  private async readTransfer(
    bTag: number,
    asked: number,
    left: () => number,
    signal: AbortSignal | undefined,
    timeoutMs: number,
  ): Promise<{ data: Buffer; eom: boolean; term: boolean }> {
    const mps = this.pipe.maxPacketSize;
    const want = Math.ceil((HEADER_BYTES + asked + 3) / mps) * mps;
    const first = await this.pipe.bulkIn(want, left(), signal);
    if (first.length < HEADER_BYTES)
      throw new UsbtmcError(
        'protocol',
        `${this.what}: the device answered with ${first.length} bytes, less than a USBTMC header`,
      );
    let h: ReturnType<typeof decodeHeader>;
    try {
      h = decodeHeader(first);
    } catch (err) {
      throw new UsbtmcError('protocol', `${this.what}: ${(err as Error).message}`);
    }
    if (h.msgId !== MSG_ID.DEV_DEP_MSG_IN)
      throw new UsbtmcError(
        'protocol',
        `${this.what}: the device answered MsgID ${h.msgId}, expected DEV_DEP_MSG_IN (2)`,
      );
    if (h.bTag !== bTag)
      throw new UsbtmcError(
        'protocol',
        `${this.what}: the device answered bTag ${h.bTag} to the request with bTag ${bTag} (a stale or misrouted transfer)`,
      );
    if (h.transferSize > asked)
      throw new UsbtmcError(
        'protocol',
        `${this.what}: the device sent ${h.transferSize} bytes where ${asked} were asked for`,
      );
    const need = HEADER_BYTES + h.transferSize;
    let buf = first;
    // a transfer is normally one bulk-IN read (it ends with a short packet); read on if the device split it
    while (buf.length < need) {
      let more: Buffer;
      try {
        more = await this.pipe.bulkIn(Math.ceil((need - buf.length + 3) / mps) * mps, left(), signal);
      } catch (err) {
        const e = this.transferError(err, 'bulk-IN (DEV_DEP_MSG_IN)', timeoutMs);
        throw new UsbtmcError(
          e.reason,
          `${e.message}: the device stopped after ${buf.length - HEADER_BYTES} of the ${h.transferSize} bytes it announced`,
        );
      }
      if (more.length === 0)
        throw new UsbtmcError(
          'protocol',
          `${this.what}: the transfer ended after ${buf.length - HEADER_BYTES} of the ${h.transferSize} bytes its header announced`,
        );
      buf = Buffer.concat([buf, more]);
    }
    return {
      data: buf.subarray(HEADER_BYTES, need),
      eom: (h.attributes & ATTR.EOM) !== 0,
      term: (h.attributes & ATTR.TERM_CHAR) !== 0,
    };
  }

  /** INITIATE_CLEAR, CHECK_CLEAR_STATUS until done (reading bulk-IN empty when it says so), then clears the bulk-OUT halt. */
  clear(timeoutMs: number): Promise<boolean> {
    return this.serial(async () => {
      const deadline = Date.now() + timeoutMs;
      const s = await this.classRequest(REQUEST.INITIATE_CLEAR, 'interface', 0, 1);
      if (s[0] !== STATUS.SUCCESS)
        throw new UsbtmcError('refused', `${this.what}: INITIATE_CLEAR answered ${statusText(s[0])}`);
      for (;;) {
        const c = await this.classRequest(REQUEST.CHECK_CLEAR_STATUS, 'interface', 0, 2);
        if (c[0] !== STATUS.PENDING) {
          if (c[0] !== STATUS.SUCCESS)
            throw new UsbtmcError('refused', `${this.what}: CHECK_CLEAR_STATUS answered ${statusText(c[0])}`);
          break;
        }
        if (Date.now() > deadline)
          throw new UsbtmcError('timeout', `${this.what}: the device was still clearing after ${timeoutMs} ms`);
        if ((c[1]! & 1) === 1) await this.drainBulkIn();
        else await sleep(this.pollMs);
      }
      await this.clearHalt(this.pipe.bulkOutEndpoint);
      return true;
    });
  }

  /** INITIATE_ABORT_BULK_IN for `bTag`, then reads the FIFO empty and polls CHECK_ABORT_BULK_IN_STATUS. */
  private async abortBulkIn(bTag: number): Promise<void> {
    const r = await this.classRequest(REQUEST.INITIATE_ABORT_BULK_IN, 'in', bTag, 2);
    if (r[0] === STATUS.FAILED || r[0] === STATUS.TRANSFER_NOT_IN_PROGRESS) {
      // FAILED: nothing in flight. TRANSFER_NOT_IN_PROGRESS: another transfer is; its bytes may be queued
      this.note(`INITIATE_ABORT_BULK_IN bTag ${bTag}: ${statusText(r[0])}`);
      if (r[0] === STATUS.TRANSFER_NOT_IN_PROGRESS) await this.drainBulkIn(50);
      return;
    }
    if (r[0] !== STATUS.SUCCESS)
      throw new UsbtmcError('refused', `${this.what}: INITIATE_ABORT_BULK_IN answered ${statusText(r[0])}`);
    this.note(`INITIATE_ABORT_BULK_IN bTag ${bTag}: STATUS_SUCCESS`);
    await this.drainBulkIn();
    for (let i = 0; i < 200; i++) {
      const c = await this.classRequest(REQUEST.CHECK_ABORT_BULK_IN_STATUS, 'in', 0, 8);
      this.note(`CHECK_ABORT_BULK_IN_STATUS: ${statusText(c[0])}${c[1]! & 1 ? ', FIFO not empty' : ''}`);
      if (c[0] !== STATUS.PENDING) return;
      if ((c[1]! & 1) === 1) await this.drainBulkIn();
      else await sleep(this.pollMs);
    }
    throw new UsbtmcError('timeout', `${this.what}: the device did not finish aborting its bulk-IN transfer`);
  }

  /** INITIATE_ABORT_BULK_OUT for `bTag`, CHECK_ABORT_BULK_OUT_STATUS until done, then CLEAR_FEATURE(ENDPOINT_HALT). */
  private async abortBulkOut(bTag: number): Promise<void> {
    const r = await this.classRequest(REQUEST.INITIATE_ABORT_BULK_OUT, 'out', bTag, 2);
    this.note(`INITIATE_ABORT_BULK_OUT bTag ${bTag}: ${statusText(r[0])}`);
    if (r[0] === STATUS.SUCCESS) {
      for (let i = 0; ; i++) {
        const c = await this.classRequest(REQUEST.CHECK_ABORT_BULK_OUT_STATUS, 'out', 0, 8);
        this.note(`CHECK_ABORT_BULK_OUT_STATUS: ${statusText(c[0])}`);
        if (c[0] !== STATUS.PENDING) break;
        if (i > 200)
          throw new UsbtmcError('timeout', `${this.what}: the device did not finish aborting its bulk-OUT transfer`);
        await sleep(this.pollMs);
      }
    }
    await this.clearHalt(this.pipe.bulkOutEndpoint);
  }

  /**
   * Reads bulk-IN until a short packet (the end of whatever transfer was queued), each read within `timeoutMs`
   * (the control timeout): the device sends that short packet at once after an abort it accepted.
   */
  private async drainBulkIn(timeoutMs = this.controlTimeout): Promise<void> {
    const mps = this.pipe.maxPacketSize;
    for (let i = 0; i < 1024; i++) {
      let got: Buffer;
      try {
        got = await this.pipe.bulkIn(mps * 16, timeoutMs);
      } catch (err) {
        if (err instanceof UsbTransferError && err.kind === 'timeout') return; // nothing more queued
        throw err;
      }
      if (got.length % mps !== 0 || got.length < mps * 16) return;
    }
  }

  private async clearHalt(endpoint: number): Promise<void> {
    await this.pipe.control(
      {
        requestType: REQUEST_TYPE.STANDARD_ENDPOINT_OUT,
        request: CLEAR_FEATURE,
        value: ENDPOINT_HALT,
        index: endpoint,
      },
      0,
      this.controlTimeout,
    );
    this.note(`CLEAR_FEATURE(ENDPOINT_HALT) endpoint 0x${endpoint.toString(16)}`);
  }

  private classRequest(
    request: number,
    to: 'interface' | 'in' | 'out',
    value: number,
    length: number,
  ): Promise<Buffer> {
    const setup: ControlSetup = {
      requestType: to === 'interface' ? REQUEST_TYPE.CLASS_INTERFACE_IN : REQUEST_TYPE.CLASS_ENDPOINT_IN,
      request,
      value,
      index:
        to === 'interface'
          ? this.pipe.interfaceNumber
          : to === 'in'
            ? this.pipe.bulkInEndpoint
            : this.pipe.bulkOutEndpoint,
    };
    return this.pipe.control(setup, length, this.controlTimeout).then((b) => {
      if (b.length < 1) throw new UsbtmcError('protocol', `${this.what}: empty answer to control request ${request}`);
      return b;
    });
  }

  /** GET_CAPABILITIES: the bcdUSBTMC version and whether the device supports a term char. */
  capabilities(): Promise<{ bcdUsbtmc: number; termChar: boolean; indicatorPulse: boolean }> {
    return this.serial(async () => {
      const b = await this.classRequest(REQUEST.GET_CAPABILITIES, 'interface', 0, 0x18);
      if (b[0] !== STATUS.SUCCESS)
        throw new UsbtmcError('refused', `${this.what}: GET_CAPABILITIES answered ${statusText(b[0])}`);
      return { bcdUsbtmc: b.readUInt16LE(2), indicatorPulse: (b[4]! & 4) !== 0, termChar: (b[5]! & 1) !== 0 };
    });
  }

  private note(line: string): void {
    this.log.push(line);
    if (this.log.length > 200) this.log.shift();
  }

  private transferError(err: unknown, what: string, timeoutMs: number): UsbtmcError {
    if (err instanceof UsbtmcError) return err;
    if (err instanceof UsbTransferError) {
      if (err.kind === 'timeout')
        return new UsbtmcError('timeout', `${this.what}: ${what} timed out after ${timeoutMs} ms`);
      if (err.kind === 'cancelled') return new UsbtmcError('aborted', `${this.what}: ${what} aborted`);
      if (err.kind === 'gone') return new UsbtmcError('gone', `${this.what}: the device is gone (${err.message})`);
      return new UsbtmcError('protocol', `${this.what}: ${what} failed: ${err.message}`);
    }
    return new UsbtmcError('protocol', `${this.what}: ${what} failed: ${(err as Error).message}`);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
