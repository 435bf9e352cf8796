import { PairTransport } from './pair.ts';
import { parseResource } from './resource.ts';
import { type SerialOptions, SerialTransport } from './serial.ts';
import { type TcpOptions, TcpTransport } from './tcp.ts';
import type { Transport } from './transport.ts';

export type OpenOptions = TcpOptions & SerialOptions;

/**
 * Creates (but does not open) the transport for a VISA resource string. Throws ResourceError, naming the
 * accepted forms, for anything else; nothing is opened in that case.
 */
export function createTransport(resource: string, options: OpenOptions = {}): Transport {
  const r = parseResource(resource);
  if (r.kind === 'tcp') return new TcpTransport(r.raw, r.host, r.port, options);
  return new SerialTransport(r.raw, r.path, options);
}

export { PairTransport };
