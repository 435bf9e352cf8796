/**
 * USBTMC 1.0 (USB Test and Measurement Class): the 12-byte bulk header (MsgID, bTag, its inverse, then a
 * TransferSize and attributes), the message ids, the class control requests and their status codes. Shared by
 * the host side (client.ts) and the bulk-endpoint emulator of the simulated bench.
 */

export const MSG_ID = {
  DEV_DEP_MSG_OUT: 1,
  REQUEST_DEV_DEP_MSG_IN: 2,
  DEV_DEP_MSG_IN: 2,
  VENDOR_SPECIFIC_OUT: 126,
  REQUEST_VENDOR_SPECIFIC_IN: 127,
} as const;

export const HEADER_BYTES = 12;

/** bmTransferAttributes bits. */
export const ATTR = { EOM: 1, TERM_CHAR: 2 } as const;

/** Class-specific bRequest values. */
export const REQUEST = {
  INITIATE_ABORT_BULK_OUT: 1,
  CHECK_ABORT_BULK_OUT_STATUS: 2,
  INITIATE_ABORT_BULK_IN: 3,
  CHECK_ABORT_BULK_IN_STATUS: 4,
  INITIATE_CLEAR: 5,
  CHECK_CLEAR_STATUS: 6,
  GET_CAPABILITIES: 7,
  INDICATOR_PULSE: 64,
} as const;

/** bmRequestType: device-to-host, class, to the interface / to an endpoint; host-to-device standard endpoint. */
export const REQUEST_TYPE = { CLASS_INTERFACE_IN: 0xa1, CLASS_ENDPOINT_IN: 0xa2, STANDARD_ENDPOINT_OUT: 0x02 } as const;
export const CLEAR_FEATURE = 1;
export const ENDPOINT_HALT = 0;

export const STATUS = {
  SUCCESS: 0x01,
  PENDING: 0x02,
  FAILED: 0x80,
  TRANSFER_NOT_IN_PROGRESS: 0x81,
  SPLIT_NOT_IN_PROGRESS: 0x82,
  SPLIT_IN_PROGRESS: 0x83,
} as const;

const STATUS_TEXT: Record<number, string> = {
  1: 'STATUS_SUCCESS',
  2: 'STATUS_PENDING',
  128: 'STATUS_FAILED',
  129: 'STATUS_TRANSFER_NOT_IN_PROGRESS',
  130: 'STATUS_SPLIT_NOT_IN_PROGRESS',
  131: 'STATUS_SPLIT_IN_PROGRESS',
};

export function statusText(s: number | undefined): string {
  return s === undefined ? 'no status' : (STATUS_TEXT[s] ?? `status 0x${s.toString(16)}`);
}

/** USB interface class/subclass of a USBTMC interface (protocol 0: USBTMC, 1: USB488). */
export const USBTMC_CLASS = 0xfe;
export const USBTMC_SUBCLASS = 0x03;

export interface BulkHeader {
  msgId: number;
  bTag: number;
  transferSize: number;
  attributes: number;
  termChar: number;
}

/** The header of a bulk transfer. */
export function encodeHeader(h: BulkHeader): Buffer {
  const b = Buffer.alloc(HEADER_BYTES);
  b[0] = h.msgId;
  b[1] = h.bTag;
  b[2] = ~h.bTag & 0xff;
  b.writeUInt32LE(h.transferSize >>> 0, 4);
  b[8] = h.attributes;
  b[9] = h.termChar;
  return b;
}

/** A whole bulk transfer: header, data, and 0-3 alignment bytes to a multiple of 4. */
export function encodeTransfer(h: Omit<BulkHeader, 'transferSize'>, data: Uint8Array): Buffer {
  const pad = (4 - ((HEADER_BYTES + data.length) & 3)) & 3;
  const b = Buffer.alloc(HEADER_BYTES + data.length + pad);
  encodeHeader({ ...h, transferSize: data.length }).copy(b, 0);
  b.set(data, HEADER_BYTES);
  return b;
}

/** Decodes a header; throws when bTag and its inverse disagree (a corrupt or misaligned transfer). */
export function decodeHeader(b: Buffer): BulkHeader {
  if (b.length < HEADER_BYTES)
    throw new Error(`USBTMC: a ${b.length}-byte transfer is shorter than the 12-byte header`);
  if ((b[1]! ^ b[2]!) !== 0xff)
    throw new Error(`USBTMC: bTag 0x${b[1]!.toString(16)} and its inverse 0x${b[2]!.toString(16)} disagree`);
  return { msgId: b[0]!, bTag: b[1]!, transferSize: b.readUInt32LE(4), attributes: b[8]!, termChar: b[9]! };
}
