/**
 * A portmapper of the simulated bench's own, for a machine without rpcbind: PMAP version 2 (NULL, SET, UNSET,
 * GETPORT, DUMP) and RPCBIND versions 3/4 (NULL, SET, UNSET, GETADDR, DUMP, GETVERSADDR) over TCP and UDP, so
 * pyvisa-py (PMAP v2 over TCP), libtirpc clients such as lxi-tools (RPCBIND GETADDR) and rpcinfo find what it maps.
 * It serves what it is told to map (`set`) and its own program; it accepts SET/UNSET calls from loopback only.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import {
  IPPROTO_TCP,
  IPPROTO_UDP,
  type Mapping,
  PMAP_PROC,
  PMAP_PROG,
  PMAP_V2,
  portOfUniversalAddress,
  RPCB_PROC,
  readMapping,
  readRpcb,
  universalAddress,
  writeMapping,
  writeRpcb,
} from '../../transport/vxi11/portmapper.ts';
import { ACCEPT_STAT, decodeCall, type RpcCall } from '../../transport/vxi11/rpc.ts';
import type { XdrWriter } from '../../transport/vxi11/xdr.ts';
import { replyMessage, serveRpcConnection } from './rpc-server.ts';

export interface PortmapperServer {
  host: string;
  port: number;
  /** Maps (prog, vers, prot) to a port; false when it is mapped already. */
  set(m: Mapping): boolean;
  unset(prog: number, vers: number): void;
  mappings(): Mapping[];
  close(): Promise<void>;
}

const NETID: Record<number, string> = { [IPPROTO_TCP]: 'tcp', [IPPROTO_UDP]: 'udp' };
const PROT: Record<string, number> = { tcp: IPPROTO_TCP, udp: IPPROTO_UDP };

function isLoopback(address: string | undefined): boolean {
  return !!address && (address.startsWith('127.') || address === '::1' || address.startsWith('::ffff:127.'));
}

/**
 * Listens on `host:port` (TCP and UDP; port 111 needs root or CAP_NET_BIND_SERVICE). Rejects with the listen error
 * (EACCES, EADDRINUSE) and nothing left open.
 */
export async function servePortmapper(o: { host: string; port?: number }): Promise<PortmapperServer> {
  const port0 = o.port ?? 111;
  const table: Mapping[] = [];
  const set = (m: Mapping): boolean => {
    if (table.some((x) => x.prog === m.prog && x.vers === m.vers && x.prot === m.prot)) return false;
    table.push({ ...m });
    return true;
  };
  const unset = (prog: number, vers: number): void => {
    for (let i = table.length - 1; i >= 0; i--)
      if (table[i]!.prog === prog && table[i]!.vers === vers) table.splice(i, 1);
  };
  const find = (prog: number, vers: number, prot: number) =>
    table.find((x) => x.prog === prog && x.vers === vers && x.prot === prot);

  const handle = (call: RpcCall, local: string | undefined, peer: string | undefined, rm: boolean): Buffer => {
    const ok = (results?: (w: XdrWriter) => void) => replyMessage(call.xid, ACCEPT_STAT.SUCCESS, rm, results);
    if (call.prog !== PMAP_PROG) return replyMessage(call.xid, ACCEPT_STAT.PROG_UNAVAIL, rm);
    if (call.vers < 2 || call.vers > 4) return replyMessage(call.xid, ACCEPT_STAT.PROG_MISMATCH, rm, undefined, [2, 4]);
    const trusted = isLoopback(peer);
    if (call.vers === PMAP_V2) {
      switch (call.proc) {
        case PMAP_PROC.NULL:
          return ok();
        case PMAP_PROC.SET: {
          const m = readMapping(call.args);
          return ok((w) => w.bool(trusted && set(m)));
        }
        case PMAP_PROC.UNSET: {
          const m = readMapping(call.args);
          if (trusted) unset(m.prog, m.vers);
          return ok((w) => w.bool(trusted));
        }
        case PMAP_PROC.GETPORT: {
          const m = readMapping(call.args);
          return ok((w) => w.uint(find(m.prog, m.vers, m.prot)?.port ?? 0));
        }
        case PMAP_PROC.DUMP:
          return ok((w) => {
            for (const m of table) {
              w.bool(true);
              writeMapping(w, m);
            }
            w.bool(false);
          });
        default:
          return replyMessage(call.xid, ACCEPT_STAT.PROC_UNAVAIL, rm);
      }
    }
    // RPCBIND versions 3 and 4
    switch (call.proc) {
      case RPCB_PROC.NULL:
        return ok();
      case RPCB_PROC.SET: {
        const e = readRpcb(call.args);
        const p = portOfUniversalAddress(e.addr);
        const prot = PROT[e.netid];
        const done =
          trusted && p !== undefined && prot !== undefined && set({ prog: e.prog, vers: e.vers, prot, port: p });
        return ok((w) => w.bool(done));
      }
      case RPCB_PROC.UNSET: {
        const e = readRpcb(call.args);
        if (trusted) unset(e.prog, e.vers);
        return ok((w) => w.bool(trusted));
      }
      case RPCB_PROC.GETADDR:
      case RPCB_PROC.GETVERSADDR: {
        const e = readRpcb(call.args);
        const prot = PROT[e.netid] ?? IPPROTO_TCP;
        const m = find(e.prog, e.vers, prot);
        return ok((w) => w.string(m ? universalAddress(local ?? o.host, m.port) : ''));
      }
      case RPCB_PROC.DUMP:
        return ok((w) => {
          for (const m of table) {
            w.bool(true);
            writeRpcb(w, {
              prog: m.prog,
              vers: m.vers,
              netid: NETID[m.prot] ?? 'tcp',
              addr: universalAddress(local ?? o.host, m.port),
              owner: 'cpobench',
            });
          }
          w.bool(false);
        });
      default:
        return replyMessage(call.xid, ACCEPT_STAT.PROC_UNAVAIL, rm);
    }
  };

  const sockets = new Set<net.Socket>();
  const tcp = net.createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    serveRpcConnection(socket, (call) => handle(call, socket.localAddress, socket.remoteAddress, true), {
      sequential: false,
      maxRecordBytes: 64 * 1024,
    });
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once('error', reject);
    tcp.listen(port0, o.host, () => {
      tcp.off('error', reject);
      resolve();
    });
  });
  const port = (tcp.address() as net.AddressInfo).port;
  const udp = dgram.createSocket(net.isIPv6(o.host) ? 'udp6' : 'udp4');
  try {
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, o.host, () => {
        udp.off('error', reject);
        resolve();
      });
    });
  } catch (err) {
    await new Promise<void>((r) => tcp.close(() => r()));
    throw err;
  }
  udp.on('message', (msg, rinfo) => {
    let call: RpcCall;
    try {
      call = decodeCall(msg);
    } catch {
      return;
    }
    let reply: Buffer;
    try {
      reply = handle(call, o.host === '0.0.0.0' ? undefined : o.host, rinfo.address, false);
    } catch {
      reply = replyMessage(call.xid, ACCEPT_STAT.GARBAGE_ARGS, false);
    }
    udp.send(reply, rinfo.port, rinfo.address);
  });
  for (const vers of [2, 3, 4]) {
    set({ prog: PMAP_PROG, vers, prot: IPPROTO_TCP, port });
    set({ prog: PMAP_PROG, vers, prot: IPPROTO_UDP, port });
  }
  let closed: Promise<void> | undefined;
  return {
    host: o.host,
    port,
    set,
    unset,
    mappings: () => table.map((m) => ({ ...m })),
    close() {
      closed ??= (async () => {
        for (const s of sockets) s.destroy();
        await new Promise<void>((r) => tcp.close(() => r()));
        await new Promise<void>((r) => udp.close(() => r()));
      })();
      return closed;
    },
  };
}
