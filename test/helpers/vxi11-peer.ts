/**
 * VXI-11 peers for tests over real sockets on 127.0.0.1: the simulated instruments' VXI-11 server with a
 * portmapper of its own on a free port (the client is told that port: tests need no root and never touch port
 * 111), and a TCP port whose connections hang (a full accept queue) for bounded-connect tests.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import type { ScpiInstrument } from '../../src/sim/server/instrument.ts';
import { type PortmapperServer, servePortmapper } from '../../src/sim/server/portmapper-server.ts';
import { serveVxi11, type Vxi11ServerHandle, type Vxi11ServerOptions } from '../../src/sim/server/vxi11-server.ts';
import { IPPROTO_TCP } from '../../src/transport/vxi11/portmapper.ts';
import { DEVICE_CORE } from '../../src/transport/vxi11/protocol.ts';
import { SYSTEM_PYTHON } from './python.ts';

export interface Vxi11Peer {
  server: Vxi11ServerHandle;
  portmapper: PortmapperServer;
  /** `TCPIP0::127.0.0.1::<device>::INSTR` */
  resource(device?: string): string;
  /** Transport options that point the client at this portmapper. */
  options: { portmapperPort: number };
  close(): Promise<void>;
}

export async function startVxi11Peer(
  devices: { names: string[]; instrument: ScpiInstrument }[],
  o: Vxi11ServerOptions = {},
): Promise<Vxi11Peer> {
  const server = await serveVxi11(devices, o);
  const portmapper = await servePortmapper({ host: '127.0.0.1', port: 0 });
  portmapper.set({ prog: DEVICE_CORE, vers: 1, prot: IPPROTO_TCP, port: server.corePort });
  return {
    server,
    portmapper,
    resource: (device = 'inst0') => `TCPIP0::127.0.0.1::${device}::INSTR`,
    options: { portmapperPort: portmapper.port },
    async close() {
      await server.close();
      await portmapper.close();
    },
  };
}

/**
 * A port on 127.0.0.1 that takes no connection: a listening socket (backlog 0) that never accepts, its queue
 * filled by one connection, so a further connect's SYN is dropped and the connect hangs until the client's own
 * timeout. Held by Debian's python3 (Node accepts every connection by itself).
 */
export async function hangingPort(): Promise<{ port: number; close(): void }> {
  const code = `
import socket, sys, time
s = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen(0)
fill = [socket.create_connection(s.getsockname()) for _ in range(1)]
print(s.getsockname()[1], flush=True)
sys.stdin.read()
`;
  const p: ChildProcess = spawn(SYSTEM_PYTHON, ['-c', code], { stdio: ['pipe', 'pipe', 'inherit'] });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    p.stdout!.on('data', (d) => {
      out += d;
      if (out.includes('\n')) resolve(Number(out.trim()));
    });
    p.once('exit', (c) => reject(new Error(`python exited ${c}`)));
  });
  return {
    port,
    close() {
      p.stdin!.end();
      p.kill();
    },
  };
}
