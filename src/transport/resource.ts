import { ResourceError } from '../core/errors.ts';

/** A parsed VISA resource string. */
export type Resource =
  | { kind: 'serial'; path: string; raw: string }
  | { kind: 'tcp'; host: string; port: number; board: number; raw: string };

export const ACCEPTED_FORMS =
  'ASRL<path>::INSTR (e.g. ASRL/dev/ttyUSB0::INSTR), ASRL<n>::INSTR (e.g. ASRL3::INSTR = /dev/ttyS3), ' +
  'TCPIP[n]::<host>::<port>::SOCKET (e.g. TCPIP0::192.168.1.20::5025::SOCKET)';

/**
 * Parses `ASRL/dev/ttyUSB0::INSTR`, `ASRL3::INSTR`, `TCPIP0::host::5025::SOCKET`. Anything else is refused
 * with an error that names the accepted forms. Keywords are case-insensitive, as in VISA.
 */
export function parseResource(input: string): Resource {
  const raw = input.trim();
  const refuse = (why: string): never => {
    throw new ResourceError(`invalid resource string "${input}": ${why}. Accepted forms: ${ACCEPTED_FORMS}`);
  };
  if (raw === '') refuse('it is empty');
  const asrl = /^ASRL(.+)::INSTR$/i.exec(raw);
  if (asrl) {
    const body = asrl[1]!;
    if (/^\d+$/.test(body)) return { kind: 'serial', path: `/dev/ttyS${Number(body)}`, raw };
    if (!body.startsWith('/')) refuse(`serial path "${body}" must be absolute or a port number`);
    if (body.includes('::')) refuse('a serial path cannot contain "::"');
    return { kind: 'serial', path: body, raw };
  }
  const tcp = /^TCPIP(\d*)::([^:]+|\[[0-9a-fA-F:.]+\])::(\d+)::SOCKET$/i.exec(raw);
  if (tcp) {
    const port = Number(tcp[3]);
    if (!Number.isInteger(port) || port < 1 || port > 65535) refuse(`port ${tcp[3]} is not in 1..65535`);
    const host = tcp[2]!.replace(/^\[(.*)\]$/, '$1');
    return { kind: 'tcp', host, port, board: tcp[1] === '' ? 0 : Number(tcp[1]), raw };
  }
  if (/^TCPIP\d*::.*::INSTR$/i.test(raw))
    refuse('VXI-11/HiSLIP (::INSTR over TCPIP) is not supported; use the raw socket port');
  if (/^(GPIB|USB|VXI|PXI)/i.test(raw)) refuse(`the ${raw.split(/[\d:]/)[0]} interface is not supported`);
  return refuse('it matches none of the accepted forms');
}

export function formatTcpResource(host: string, port: number): string {
  return `TCPIP0::${host}::${port}::SOCKET`;
}

export function formatSerialResource(path: string): string {
  return `ASRL${path}::INSTR`;
}
