/**
 * HiSLIP (IVI-6.1, High-Speed LAN Instrument Protocol): message types, the 16-byte header ("HS", type, control
 * code, 32-bit message parameter, 64-bit payload length, big-endian) and a reader that cuts a TCP byte stream
 * into messages, with a bound on payload size. Shared by the client (transport) and the simulated server.
 */

export const MSG = {
  Initialize: 0,
  InitializeResponse: 1,
  FatalError: 2,
  Error: 3,
  AsyncLock: 4,
  AsyncLockResponse: 5,
  Data: 6,
  DataEnd: 7,
  DeviceClearComplete: 8,
  DeviceClearAcknowledge: 9,
  AsyncRemoteLocalControl: 10,
  AsyncRemoteLocalResponse: 11,
  Trigger: 12,
  Interrupted: 13,
  AsyncInterrupted: 14,
  AsyncMaximumMessageSize: 15,
  AsyncMaximumMessageSizeResponse: 16,
  AsyncInitialize: 17,
  AsyncInitializeResponse: 18,
  AsyncDeviceClear: 19,
  AsyncServiceRequest: 20,
  AsyncStatusQuery: 21,
  AsyncStatusResponse: 22,
  AsyncDeviceClearAcknowledge: 23,
  AsyncLockInfo: 24,
  AsyncLockInfoResponse: 25,
} as const;

export const MSG_NAME: Record<number, string> = Object.fromEntries(Object.entries(MSG).map(([k, v]) => [v, k]));

export const HEADER_BYTES = 16;
/** The first MessageID a client uses, after Initialize and after every device clear; it goes up by 2. */
export const FIRST_MESSAGE_ID = 0xffffff00;
/** A server's MessageID that matches any request (it could not tell which). */
export const ANY_MESSAGE_ID = 0xffffffff;
/** Protocol version 1.0 (major in the high byte). */
export const PROTOCOL_1_0 = 0x0100;

export const FATAL_ERROR_TEXT: Record<number, string> = {
  0: 'unidentified error',
  1: 'poorly formed message header',
  2: 'attempt to use the connection without both channels established',
  3: 'invalid initialization sequence',
  4: 'server refused the connection: maximum number of clients exceeded',
  5: 'secure connection failed',
};

export const ERROR_TEXT: Record<number, string> = {
  0: 'unidentified error',
  1: 'unrecognized message type',
  2: 'unrecognized control code',
  3: 'unrecognized vendor-defined message',
  4: 'message too large',
  5: 'authentication failed',
};

/** AsyncLockResponse control codes. */
export const LOCK_RESPONSE = { FAILURE: 0, SUCCESS: 1, SUCCESS_SHARED: 2, ERROR: 3 } as const;

export interface HislipMessage {
  type: number;
  control: number;
  param: number;
  payload: Buffer;
}

/** One message, header and payload, in one buffer. */
export function encodeMessage(type: number, control: number, param: number, payload?: Uint8Array): Buffer {
  const len = payload?.length ?? 0;
  const buf = Buffer.allocUnsafe(HEADER_BYTES + len);
  buf[0] = 0x48; // 'H'
  buf[1] = 0x53; // 'S'
  buf[2] = type;
  buf[3] = control;
  buf.writeUInt32BE(param >>> 0, 4);
  buf.writeUInt32BE(Math.floor(len / 0x100000000), 8);
  buf.writeUInt32BE(len >>> 0, 12);
  if (payload && len > 0) buf.set(payload, HEADER_BYTES);
  return buf;
}

export class HislipProtocolError extends Error {
  /** The FatalError code to send the peer before closing. */
  readonly fatalCode: number;
  constructor(message: string, fatalCode = 1) {
    super(message);
    this.name = 'HislipProtocolError';
    this.fatalCode = fatalCode;
  }
}

/**
 * Cuts a byte stream into HiSLIP messages. A payload larger than `maxPayload` or a header without "HS" throws
 * HislipProtocolError (the connection is then unusable: the peer gets a FatalError and is closed).
 */
export class MessageReader {
  private header = Buffer.alloc(HEADER_BYTES);
  private headerFilled = 0;
  private current: { type: number; control: number; param: number; payload: Buffer; filled: number } | null = null;

  constructor(
    private readonly maxPayload: number,
    private readonly onMessage: (m: HislipMessage) => void,
  ) {}

  push(chunk: Buffer): void {
    let i = 0;
    const n = chunk.length;
    while (i < n) {
      const cur = this.current;
      if (!cur) {
        if (this.headerFilled === 0 && n - i >= HEADER_BYTES) {
          const start = i;
          i += HEADER_BYTES;
          const len = this.begin(chunk, start);
          // fast path: the whole payload is in this chunk
          if (len <= n - i) {
            this.current = null;
            this.onMessage({
              type: chunk[start + 2]!,
              control: chunk[start + 3]!,
              param: chunk.readUInt32BE(start + 4),
              payload: chunk.subarray(i, i + len),
            });
            i += len;
          } else {
            this.current = {
              type: chunk[start + 2]!,
              control: chunk[start + 3]!,
              param: chunk.readUInt32BE(start + 4),
              payload: Buffer.allocUnsafe(len),
              filled: 0,
            };
          }
          continue;
        }
        const take = Math.min(HEADER_BYTES - this.headerFilled, n - i);
        chunk.copy(this.header, this.headerFilled, i, i + take);
        this.headerFilled += take;
        i += take;
        if (this.headerFilled < HEADER_BYTES) continue;
        this.headerFilled = 0;
        const len = this.begin(this.header, 0);
        this.current = {
          type: this.header[2]!,
          control: this.header[3]!,
          param: this.header.readUInt32BE(4),
          payload: Buffer.allocUnsafe(len),
          filled: 0,
        };
        if (len === 0) this.finish();
        continue;
      }
      const take = Math.min(cur.payload.length - cur.filled, n - i);
      chunk.copy(cur.payload, cur.filled, i, i + take);
      cur.filled += take;
      i += take;
      if (cur.filled === cur.payload.length) this.finish();
    }
  }

  /** Checks a header at `at`; returns its payload length. */
  private begin(buf: Buffer, at: number): number {
    if (buf[at] !== 0x48 || buf[at + 1] !== 0x53)
      throw new HislipProtocolError(
        `HiSLIP: message header does not start with "HS" (0x${buf.subarray(at, at + 2).toString('hex')})`,
      );
    const high = buf.readUInt32BE(at + 8);
    const low = buf.readUInt32BE(at + 12);
    const len = high * 0x100000000 + low;
    if (len > this.maxPayload)
      throw new HislipProtocolError(
        `HiSLIP: a ${len}-byte payload is larger than the ${this.maxPayload}-byte limit`,
        0,
      );
    return len;
  }

  private finish(): void {
    const cur = this.current!;
    this.current = null;
    this.onMessage({ type: cur.type, control: cur.control, param: cur.param, payload: cur.payload });
  }
}
