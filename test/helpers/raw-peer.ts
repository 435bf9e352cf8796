import net from 'node:net';

/** A scripted TCP peer: `onLine` decides what to do with each line the client sends. */
export async function rawPeer(
  onLine: (line: string, socket: net.Socket) => void,
): Promise<{ port: number; close: () => Promise<void>; sockets: Set<net.Socket> }> {
  const sockets = new Set<net.Socket>();
  const server = net.createServer((s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
    s.on('error', () => undefined);
    let buf = '';
    s.on('data', (d) => {
      buf += d.toString('latin1');
      let i = buf.indexOf('\n');
      while (i >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        onLine(line, s);
        i = buf.indexOf('\n');
      }
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  return {
    port,
    sockets,
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

/**
 * A port on 127.0.0.1 that refuses connections for as long as it is held, so "nothing listens there" cannot race
 * with another test binding it. The port is the local end of a TCP connection to a private listener: the kernel
 * bound it when connecting (no SO_REUSEADDR), so no other socket can bind it until `close()`, and with nobody
 * listening on it a connection attempt gets a RST (ECONNREFUSED).
 */
export async function refusingPort(): Promise<{ port: number; close: () => Promise<void> }> {
  const accepted = new Set<net.Socket>();
  const holder = net.createServer((s) => {
    accepted.add(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => holder.listen(0, '127.0.0.1', r));
  const { port: holderPort } = holder.address() as net.AddressInfo;
  const client = net.connect(holderPort, '127.0.0.1');
  client.on('error', () => undefined);
  await new Promise<void>((resolve, reject) => {
    client.once('connect', resolve);
    client.once('error', reject);
  });
  return {
    port: client.localPort!,
    close: () =>
      new Promise<void>((r) => {
        client.destroy();
        for (const s of accepted) s.destroy();
        holder.close(() => r());
      }),
  };
}
