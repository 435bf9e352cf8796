/**
 * Instruments that announce themselves with multicast DNS service discovery (RFC 6762/6763), as LXI requires:
 * `_lxi._tcp` (an LXI instrument: VXI-11 at inst0), `_scpi-raw._tcp` (a raw SCPI socket) and `_hislip._tcp`.
 * One-shot queries from an ephemeral port (responders answer such "legacy unicast" queries directly), sent on
 * every IPv4 interface, answers collected for a window, then one round of follow-up queries for the SRV and A
 * records an answer left out. Multicast: only where the network carries it (a lab LAN, not across routers).
 */
import dgram from 'node:dgram';
import os from 'node:os';
import { formatHislipResource, formatTcpResource, formatVxi11Resource } from '../transport/resource.ts';
import { decodeMessage, encodeQuery, type Question, type Record, TYPE } from './dns.ts';

export const MDNS_SERVICES = ['_lxi._tcp.local', '_scpi-raw._tcp.local', '_hislip._tcp.local'] as const;
const MDNS_ADDRESS = '224.0.0.251';
const MDNS_PORT = 5353;

export interface MdnsService {
  /** `Keysight 33522B (MY53200001)._lxi._tcp.local` */
  instance: string;
  service: (typeof MDNS_SERVICES)[number];
  host: string;
  address: string;
  port: number;
  /** The VISA resource this service means. */
  resource: string;
}

export interface MdnsOptions {
  /** How long answers are collected, ms (default 1500), and again for follow-ups. */
  windowMs?: number;
  /** Where queries go (tests may use another port). */
  port?: number;
  signal?: AbortSignal;
}

/** Sends `questions` on every IPv4 interface and collects the records of every answer for `windowMs`. */
async function ask(questions: Question[], o: MdnsOptions): Promise<Record[]> {
  const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
  const records: Record[] = [];
  socket.on('message', (msg) => {
    try {
      const m = decodeMessage(msg);
      if (m.response) records.push(...m.records);
    } catch {
      /* a malformed answer is ignored */
    }
  });
  socket.on('error', () => undefined);
  await new Promise<void>((resolve) => socket.bind(0, () => resolve()));
  try {
    socket.setMulticastTTL(255);
    socket.setMulticastLoopback(true);
  } catch {
    /* not available: unicast answers still come */
  }
  const query = encodeQuery(questions);
  const addresses = Object.values(os.networkInterfaces())
    .flat()
    .filter((a): a is os.NetworkInterfaceInfo => !!a && a.family === 'IPv4')
    .map((a) => a.address);
  for (const address of addresses.length ? addresses : ['127.0.0.1']) {
    try {
      socket.setMulticastInterface(address);
      await new Promise<void>((resolve) => socket.send(query, o.port ?? MDNS_PORT, MDNS_ADDRESS, () => resolve()));
    } catch {
      /* an interface without multicast */
    }
  }
  await new Promise<void>((resolve) => {
    const t = setTimeout(resolve, o.windowMs ?? 1500);
    o.signal?.addEventListener(
      'abort',
      () => {
        clearTimeout(t);
        resolve();
      },
      { once: true },
    );
  });
  socket.close();
  return records;
}

/** The instruments announced on the local networks. */
export async function browseMdns(o: MdnsOptions = {}): Promise<MdnsService[]> {
  const records = await ask(
    MDNS_SERVICES.map((name) => ({ name, type: TYPE.PTR })),
    o,
  );
  const ptr = new Map<string, Set<string>>();
  const srv = new Map<string, { target: string; port: number }>();
  const a = new Map<string, string>();
  const take = (list: Record[]) => {
    for (const r of list) {
      const name = r.name.toLowerCase();
      if (r.type === TYPE.PTR && 'target' in r) {
        const set = ptr.get(name) ?? new Set();
        set.add(r.target);
        ptr.set(name, set);
      } else if (r.type === TYPE.SRV && 'port' in r) srv.set(name, { target: r.target, port: r.port });
      else if (r.type === TYPE.A && 'address' in r) a.set(name, r.address);
    }
  };
  take(records);
  const instances = MDNS_SERVICES.flatMap((service) =>
    [...(ptr.get(service) ?? [])].map((instance) => ({ service, instance })),
  );
  const missing: Question[] = [];
  for (const i of instances) {
    const s = srv.get(i.instance.toLowerCase());
    if (!s) missing.push({ name: i.instance, type: TYPE.SRV });
    else if (!a.has(s.target.toLowerCase())) missing.push({ name: s.target, type: TYPE.A });
  }
  if (missing.length > 0) {
    take(await ask(missing, o));
    for (const i of instances) {
      const s = srv.get(i.instance.toLowerCase());
      if (s && !a.has(s.target.toLowerCase())) take(await ask([{ name: s.target, type: TYPE.A }], o));
    }
  }
  const out: MdnsService[] = [];
  for (const { service, instance } of instances) {
    const s = srv.get(instance.toLowerCase());
    const address = s && a.get(s.target.toLowerCase());
    if (!s || !address) continue;
    const resource =
      service === '_scpi-raw._tcp.local'
        ? formatTcpResource(address, s.port)
        : service === '_hislip._tcp.local'
          ? formatHislipResource(address, 'hislip0', s.port)
          : formatVxi11Resource(address, 'inst0');
    out.push({ instance, service, host: s.target, address, port: s.port, resource });
  }
  return out;
}
