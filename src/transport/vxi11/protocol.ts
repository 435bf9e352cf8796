/**
 * VXI-11 (TCP/IP Instrument Protocol, VXIbus Consortium VXI-11 rev 1.0, 1995): program numbers, procedures,
 * flags, read reasons and error codes, shared by the client (transport) and the simulated instruments' server.
 */

/** The core channel: links, reads, writes, clear, lock. */
export const DEVICE_CORE = 0x0607af;
/** The abort channel: device_abort, on a port create_link names. */
export const DEVICE_ASYNC = 0x0607b0;
/** The interrupt channel (service requests), served by the client: not used here. */
export const DEVICE_INTR = 0x0607b1;
export const VXI11_VERSION = 1;

export const CORE_PROC = {
  CREATE_LINK: 10,
  DEVICE_WRITE: 11,
  DEVICE_READ: 12,
  DEVICE_READSTB: 13,
  DEVICE_TRIGGER: 14,
  DEVICE_CLEAR: 15,
  DEVICE_REMOTE: 16,
  DEVICE_LOCAL: 17,
  DEVICE_LOCK: 18,
  DEVICE_UNLOCK: 19,
  DEVICE_ENABLE_SRQ: 20,
  DEVICE_DOCMD: 22,
  DESTROY_LINK: 23,
  CREATE_INTR_CHAN: 25,
  DESTROY_INTR_CHAN: 26,
} as const;

export const ASYNC_PROC = { DEVICE_ABORT: 1 } as const;

/** Device_Flags bits. */
export const FLAG = { WAITLOCK: 1, END: 8, TERMCHRSET: 128 } as const;

/** Device_ReadResp reason bits: why a read returned. */
export const REASON = { REQCNT: 1, CHR: 2, END: 4 } as const;

export const VXI11_ERROR = {
  NO_ERROR: 0,
  SYNTAX_ERROR: 1,
  DEVICE_NOT_ACCESSIBLE: 3,
  INVALID_LINK_IDENTIFIER: 4,
  PARAMETER_ERROR: 5,
  CHANNEL_NOT_ESTABLISHED: 6,
  OPERATION_NOT_SUPPORTED: 8,
  OUT_OF_RESOURCES: 9,
  DEVICE_LOCKED_BY_ANOTHER_LINK: 11,
  NO_LOCK_HELD_BY_THIS_LINK: 12,
  IO_TIMEOUT: 15,
  IO_ERROR: 17,
  INVALID_ADDRESS: 21,
  ABORT: 23,
  CHANNEL_ALREADY_ESTABLISHED: 29,
} as const;

const ERROR_TEXT: Record<number, string> = {
  0: 'no error',
  1: 'syntax error',
  3: 'device not accessible',
  4: 'invalid link identifier',
  5: 'parameter error',
  6: 'channel not established',
  8: 'operation not supported',
  9: 'out of resources',
  11: 'device locked by another link',
  12: 'no lock held by this link',
  15: 'I/O timeout',
  17: 'I/O error',
  21: 'invalid address',
  23: 'abort',
  29: 'channel already established',
};

/** `device locked by another link (VXI-11 error 11)`. */
export function vxi11ErrorText(code: number): string {
  return `${ERROR_TEXT[code] ?? 'unknown error'} (VXI-11 error ${code})`;
}
