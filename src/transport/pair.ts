import { Duplex } from 'node:stream';
import { ConnectionError } from '../core/errors.ts';
import { Transport, type TransportOptions } from './transport.ts';

/** Two connected in-memory duplex streams: what one writes, the other reads. */
export function duplexPair(): [Duplex, Duplex] {
  let a: Duplex;
  let b: Duplex;
  const make = (peer: () => Duplex) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        const p = peer();
        if (!p.destroyed) p.push(Buffer.from(chunk));
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
      destroy(err, cb) {
        const p = peer();
        if (!p.destroyed) p.destroy();
        cb(err);
      },
    });
  a = make(() => b);
  b = make(() => a);
  return [a, b];
}

/**
 * An in-process transport for unit tests. `accept` is called on each connect with the server end of a new
 * duplex pair (attach a simulated instrument or a scripted peer to it); returning false refuses the
 * connection.
 */
export class PairTransport extends Transport {
  private readonly accept: (serverEnd: Duplex) => boolean | undefined;

  constructor(resource: string, accept: (serverEnd: Duplex) => boolean | undefined, options: TransportOptions = {}) {
    super(resource, options);
    this.accept = accept;
  }

  protected async connectStream(): Promise<Duplex> {
    const [client, server] = duplexPair();
    if (this.accept(server) === false) {
      client.destroy();
      server.destroy();
      throw new ConnectionError(this.resource, `${this.resource}: connection refused by the in-process peer`);
    }
    return client;
  }
}
