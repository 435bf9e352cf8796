/**
 * `cpobench discover`: what this machine can reach. Serial ports and USBTMC devices attached here; VXI-11, raw
 * SCPI and HiSLIP instruments on the hosts named (this machine, 127.0.0.1, when none is); with mDNS, the
 * instruments that announce themselves. Each as a VISA resource with its `*IDN?` and the registered driver whose
 * identity pattern matches it.
 */
import type { DriverDescriptor } from '../instruments/descriptor.ts';
import { type Found, matchDrivers } from './found.ts';
import { probeHost } from './lan.ts';
import { probeSerialPorts, probeUsbtmc } from './local.ts';
import { browseMdns } from './mdns.ts';
import { mapLimit, probeIdn } from './probe.ts';

export interface DiscoverOptions {
  registry: ReadonlyMap<string, DriverDescriptor>;
  /** Hosts to look at over the LAN (default: 127.0.0.1). */
  hosts?: readonly string[];
  /** Raw SCPI ports (default 5025). */
  ports?: readonly number[];
  hislipPort?: number;
  mdns?: boolean;
  /** Ask serial ports for `*IDN?` at this baud rate (default: list them only). */
  serialBaud?: number;
  /** Connect and reply bound per probe, ms. */
  timeoutMs: number;
  /** Hosts probed at once. */
  concurrency?: number;
  portmapperPort?: number;
  sysRoot?: string;
  devRoot?: string;
  mdnsPort?: number;
  mdnsWindowMs?: number;
  signal?: AbortSignal;
  /** Called as each group finishes (for progress lines). */
  onProgress?: (what: string) => void;
}

export async function discover(o: DiscoverOptions): Promise<Found[]> {
  const sig = o.signal ? { signal: o.signal } : {};
  const local = {
    timeoutMs: o.timeoutMs,
    ...(o.serialBaud !== undefined ? { serialBaud: o.serialBaud } : {}),
    ...(o.sysRoot ? { sysRoot: o.sysRoot } : {}),
    ...(o.devRoot ? { devRoot: o.devRoot } : {}),
    ...sig,
  };
  const found: Found[] = [];
  found.push(...(await probeSerialPorts(local)));
  found.push(...(await probeUsbtmc(local)));
  o.onProgress?.('serial ports and USBTMC devices');
  const hosts = o.hosts ?? ['127.0.0.1'];
  const perHost = await mapLimit(hosts, o.concurrency ?? 32, (host) =>
    probeHost(host, {
      timeoutMs: o.timeoutMs,
      ...(o.ports ? { ports: o.ports } : {}),
      ...(o.hislipPort !== undefined ? { hislipPort: o.hislipPort } : {}),
      ...(o.portmapperPort !== undefined ? { portmapperPort: o.portmapperPort } : {}),
      ...sig,
    }),
  );
  found.push(...perHost.flat());
  o.onProgress?.(`${hosts.length} host${hosts.length === 1 ? '' : 's'}`);
  if (o.mdns) {
    const services = await browseMdns({
      ...(o.mdnsPort ? { port: o.mdnsPort } : {}),
      ...(o.mdnsWindowMs ? { windowMs: o.mdnsWindowMs } : {}),
      ...sig,
    });
    for (const s of services) {
      const known = found.find((f) => f.resource === s.resource);
      const via = `mDNS ${s.service.replace(/\.local$/, '')}`;
      if (known) {
        known.service = s.instance;
        known.via += `, ${via}`;
        continue;
      }
      found.push({
        resource: s.resource,
        via,
        service: s.instance,
        ...(await probeIdn(s.resource, { timeoutMs: o.timeoutMs, ...sig })),
      });
    }
    o.onProgress?.('mDNS');
  }
  for (const f of found) {
    if (f.idn === undefined) continue;
    const drivers = matchDrivers(f.idn, o.registry);
    if (drivers.length > 0) f.driver = drivers[0]!;
  }
  return found;
}
