import net from 'node:net';
import { formatTcpResource } from '../../transport/resource.ts';
import { type ServeOptions, serveStream } from './connection.ts';
import type { ScpiInstrument } from './instrument.ts';

export interface TcpServerHandle {
  host: string;
  port: number;
  resource: string;
  /** Open client connections. */
  readonly connections: number;
  /** Drops every client connection (the "drop the connection" fault, or a reboot). */
  dropClients(): void;
  close(): Promise<void>;
}

/**
 * Serves an instrument over raw TCP (the LXI 5025 convention) on 127.0.0.1 by default. Port 0 picks a free
 * port. Several clients may connect; their messages run one at a time on the one instrument state.
 */
export async function serveTcp(
  instrument: ScpiInstrument,
  options: ServeOptions & { host?: string; port?: number } = {},
): Promise<TcpServerHandle> {
  const host = options.host ?? '127.0.0.1';
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveStream(instrument, socket, options);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as net.AddressInfo).port;
  return {
    host,
    port,
    resource: formatTcpResource(host, port),
    get connections() {
      return sockets.size;
    },
    dropClients() {
      for (const s of sockets) s.destroy();
    },
    close() {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
