/**
 * The portmapper (program 100000): version 2 (RFC 1833 PMAP: SET, UNSET, GETPORT, DUMP by program, version and
 * IP protocol) and versions 3/4 (RPCBIND: SET, UNSET, GETADDR by netid and universal address). VXI-11 clients
 * find the core channel's port with GETPORT on port 111 of the instrument; servers register with SET.
 */
import { RpcError, RpcTcpClient } from './rpc.ts';
import type { XdrReader, XdrWriter } from './xdr.ts';

export const PMAP_PROG = 100000;
export const PMAP_PORT = 111;
export const PMAP_V2 = 2;
export const RPCB_V3 = 3;
export const RPCB_V4 = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;

export const PMAP_PROC = { NULL: 0, SET: 1, UNSET: 2, GETPORT: 3, DUMP: 4 } as const;
export const RPCB_PROC = { NULL: 0, SET: 1, UNSET: 2, GETADDR: 3, DUMP: 4, GETVERSADDR: 9 } as const;

/** A PMAP v2 mapping. */
export interface Mapping {
  prog: number;
  vers: number;
  /** IPPROTO_TCP (6) or IPPROTO_UDP (17). */
  prot: number;
  port: number;
}

/** An RPCBIND v3/v4 entry. */
export interface RpcbEntry {
  prog: number;
  vers: number;
  /** `tcp`, `udp`, `tcp6`, `udp6`, `local`. */
  netid: string;
  /** Universal address: `h1.h2.h3.h4.p1.p2` for IPv4. */
  addr: string;
  owner: string;
}

export function writeMapping(w: XdrWriter, m: Mapping): void {
  w.uint(m.prog).uint(m.vers).uint(m.prot).uint(m.port);
}

export function readMapping(r: XdrReader): Mapping {
  return { prog: r.uint('prog'), vers: r.uint('vers'), prot: r.uint('prot'), port: r.uint('port') };
}

export function writeRpcb(w: XdrWriter, e: RpcbEntry): void {
  w.uint(e.prog).uint(e.vers).string(e.netid).string(e.addr).string(e.owner);
}

export function readRpcb(r: XdrReader): RpcbEntry {
  return {
    prog: r.uint('prog'),
    vers: r.uint('vers'),
    netid: r.string('netid', 64),
    addr: r.string('addr', 128),
    owner: r.string('owner', 256),
  };
}

/** `h1.h2.h3.h4.p1.p2` (or `<ipv6>.p1.p2`) for an address and port. */
export function universalAddress(address: string, port: number): string {
  return `${address}.${port >> 8}.${port & 0xff}`;
}

/** The port of a universal address, or undefined when it has none (an empty string: not registered). */
export function portOfUniversalAddress(uaddr: string): number | undefined {
  const m = /\.(\d{1,3})\.(\d{1,3})$/.exec(uaddr);
  if (!m) return undefined;
  return Number(m[1]) * 256 + Number(m[2]);
}

export interface PortmapperOptions {
  /** The portmapper's port (111; a test may run one elsewhere). */
  port?: number;
  timeoutMs: number;
  signal?: AbortSignal;
  /** Bind this local port (a reserved one, < 1024, for SET/UNSET that rpcbind takes from root only). */
  localPort?: number;
}

async function withPortmapper<T>(
  host: string,
  o: PortmapperOptions,
  fn: (c: RpcTcpClient, what: string) => Promise<T>,
): Promise<T> {
  const port = o.port ?? PMAP_PORT;
  const what = `portmapper at ${host.includes(':') ? `[${host}]` : host}:${port}`;
  const client = await RpcTcpClient.connect(host, port, {
    timeoutMs: o.timeoutMs,
    what,
    ...(o.signal ? { signal: o.signal } : {}),
    ...(o.localPort ? { localPort: o.localPort } : {}),
    maxRecordBytes: 1024 * 1024,
  });
  try {
    return await fn(client, what);
  } finally {
    client.close();
  }
}

/** GETPORT (PMAP v2 over TCP): the port of (prog, vers, prot) on `host`, 0 when it is not registered. */
export function getPort(host: string, prog: number, vers: number, prot: number, o: PortmapperOptions): Promise<number> {
  return withPortmapper(host, o, async (c, what) => {
    const r = await c.call(
      PMAP_PROG,
      PMAP_V2,
      PMAP_PROC.GETPORT,
      (w) => writeMapping(w, { prog, vers, prot, port: 0 }),
      o.timeoutMs,
      `${what} GETPORT`,
      o.signal,
    );
    return r.uint('port');
  });
}

/** DUMP (PMAP v2): every mapping the portmapper holds. */
export function dump(host: string, o: PortmapperOptions): Promise<Mapping[]> {
  return withPortmapper(host, o, async (c, what) => {
    const r = await c.call(PMAP_PROG, PMAP_V2, PMAP_PROC.DUMP, undefined, o.timeoutMs, `${what} DUMP`, o.signal);
    const out: Mapping[] = [];
    while (r.bool('more') && out.length < 10_000) out.push(readMapping(r));
    return out;
  });
}

/** SET or UNSET (PMAP v2 over TCP); resolves with the portmapper's answer (false: refused, or already mapped). */
export function pmapSet(host: string, m: Mapping, set: boolean, o: PortmapperOptions): Promise<boolean> {
  return withPortmapper(host, o, async (c, what) => {
    const r = await c.call(
      PMAP_PROG,
      PMAP_V2,
      set ? PMAP_PROC.SET : PMAP_PROC.UNSET,
      (w) => writeMapping(w, m),
      o.timeoutMs,
      `${what} ${set ? 'SET' : 'UNSET'}`,
      o.signal,
    );
    return r.bool('result');
  });
}

export { RpcError };
