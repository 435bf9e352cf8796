import { type HislipOptions, HislipTransport } from './hislip/transport.ts';
import { PairTransport } from './pair.ts';
import { parseResource } from './resource.ts';
import { type SerialOptions, SerialTransport } from './serial.ts';
import { type TcpOptions, TcpTransport } from './tcp.ts';
import type { Transport } from './transport.ts';
import { type UsbtmcOptions, UsbtmcTransport } from './usbtmc/transport.ts';
import { type Vxi11Options, Vxi11Transport } from './vxi11/transport.ts';

export type OpenOptions = TcpOptions & SerialOptions & Vxi11Options & HislipOptions & UsbtmcOptions;

/**
 * Creates (but does not open) the transport for a VISA resource string. Throws ResourceError, naming the
 * accepted forms, for anything else; nothing is opened in that case.
 */
export function createTransport(resource: string, options: OpenOptions = {}): Transport {
  const r = parseResource(resource);
  switch (r.kind) {
    case 'tcp':
      return new TcpTransport(r.raw, r.host, r.port, options);
    case 'serial':
      return new SerialTransport(r.raw, r.path, options);
    case 'vxi11':
      return new Vxi11Transport(r.raw, r.host, r.device, options);
    case 'hislip':
      return new HislipTransport(r.raw, r.host, r.port, r.device, options);
    case 'usbtmc':
      return new UsbtmcTransport(r.raw, r, options);
  }
}

export { PairTransport };
