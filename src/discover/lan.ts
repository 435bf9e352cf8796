/**
 * Instruments on one host, by what LXI instruments and gateways serve: VXI-11 (the portmapper on port 111 maps
 * the core program; device names inst0, inst1, ... are tried until one is refused), raw SCPI sockets (5025, and
 * the other ports asked for) and HiSLIP (4880, or the port asked for; sub-addresses hislip0, hislip1, ...). Every
 * open port and every device is asked for `*IDN?`.
 */
import net from 'node:net';
import { formatHislipResource, formatTcpResource, formatVxi11Resource } from '../transport/resource.ts';
import { getPort, IPPROTO_TCP, PMAP_PORT } from '../transport/vxi11/portmapper.ts';
import { DEVICE_CORE } from '../transport/vxi11/protocol.ts';
import type { Found } from './found.ts';
import { probeIdn } from './probe.ts';

export interface LanProbeOptions {
  timeoutMs: number;
  /** Raw SCPI ports to try (default 5025). */
  ports?: readonly number[];
  /** HiSLIP port (default 4880). */
  hislipPort?: number;
  /** Device names tried per protocol at most (inst0.., hislip0..). */
  maxDevices?: number;
  /** The portmapper's port (111; tests may use another). */
  portmapperPort?: number;
  signal?: AbortSignal;
}

/** True when `host:port` takes a TCP connection within `timeoutMs`. */
export function tcpOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = net.connect({ host, port });
    const done = (ok: boolean) => {
      clearTimeout(t);
      s.destroy();
      resolve(ok);
    };
    const t = setTimeout(() => done(false), timeoutMs);
    s.once('connect', () => done(true));
    s.once('error', () => done(false));
  });
}

export async function probeHost(host: string, o: LanProbeOptions): Promise<Found[]> {
  const found: Found[] = [];
  const max = o.maxDevices ?? 16;
  const pmPort = o.portmapperPort ?? PMAP_PORT;
  const base = { timeoutMs: o.timeoutMs, ...(o.signal ? { signal: o.signal } : {}) };

  let corePort = 0;
  try {
    corePort = await getPort(host, DEVICE_CORE, 1, IPPROTO_TCP, { port: pmPort, ...base });
  } catch {
    /* no portmapper: not a VXI-11 host */
  }
  if (corePort > 0) {
    for (let k = 0; k < max; k++) {
      const resource = formatVxi11Resource(host, `inst${k}`);
      const r = await probeIdn(resource, { ...base, transport: { portmapperPort: pmPort } });
      const refused = r.note !== undefined && /create_link .* refused/.test(r.note);
      if (refused && k > 0) break;
      found.push({ resource, via: `portmapper (VXI-11 core on port ${corePort})`, ...r });
      if (refused) break;
    }
  }

  for (const port of o.ports ?? [5025]) {
    if (!(await tcpOpen(host, port, o.timeoutMs))) continue;
    const resource = formatTcpResource(host, port);
    found.push({ resource, via: `port ${port}`, ...(await probeIdn(resource, base)) });
  }

  const hp = o.hislipPort ?? 4880;
  if (await tcpOpen(host, hp, o.timeoutMs)) {
    for (let k = 0; k < max; k++) {
      const resource = formatHislipResource(host, `hislip${k}`, hp);
      const r = await probeIdn(resource, base);
      const refused = r.note !== undefined && /fatal error|closed the connection before/.test(r.note);
      if (refused && k > 0) break;
      found.push({ resource, via: `HiSLIP port ${hp}`, ...r });
      if (refused) break;
    }
  }
  return found;
}
