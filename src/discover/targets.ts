/**
 * What `cpobench discover --hosts LIST|CIDR --ports LIST` means: hosts as names, IPv4 addresses and CIDR blocks
 * (at most MAX_HOSTS addresses in all; a /24 is 254 hosts), ports as numbers and ranges. Bad input is refused with
 * a message naming the item.
 */
import net from 'node:net';

export const MAX_HOSTS = 4096;
export const MAX_PORTS = 256;

export class TargetError extends Error {}

function ipv4ToInt(ip: string): number {
  return ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
}

function intToIpv4(n: number): string {
  return [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');
}

/** `10.0.0.5,bench-psu.lab,192.168.1.0/28` -> the hosts, in order, without duplicates. */
export function parseHosts(text: string): string[] {
  const out: string[] = [];
  const seen = new Set<string>();
  const add = (h: string) => {
    if (seen.has(h)) return;
    seen.add(h);
    out.push(h);
    if (out.length > MAX_HOSTS) throw new TargetError(`--hosts names more than ${MAX_HOSTS} hosts`);
  };
  for (const raw of text.split(/[,\s]+/).filter(Boolean)) {
    const cidr = /^(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})$/.exec(raw);
    if (cidr) {
      const bits = Number(cidr[2]);
      if (!net.isIPv4(cidr[1]!) || bits > 32) throw new TargetError(`--hosts: "${raw}" is not an IPv4 CIDR block`);
      if (bits < 32 - 12) throw new TargetError(`--hosts: "${raw}" is larger than a /20 (${MAX_HOSTS} addresses)`);
      const size = 2 ** (32 - bits);
      const base = Math.floor(ipv4ToInt(cidr[1]!) / size) * size;
      // a /31 and a /32 have no network or broadcast address to leave out
      const [first, last] = size <= 2 ? [base, base + size - 1] : [base + 1, base + size - 2];
      for (let n = first; n <= last; n++) add(intToIpv4(n));
      continue;
    }
    if (net.isIP(raw) || /^[A-Za-z0-9]([A-Za-z0-9.-]*[A-Za-z0-9])?$/.test(raw)) {
      add(raw);
      continue;
    }
    throw new TargetError(`--hosts: "${raw}" is neither a host name, an IP address nor an IPv4 CIDR block`);
  }
  if (out.length === 0) throw new TargetError('--hosts names no host');
  return out;
}

/** `5025,5030-5033` -> [5025, 5030, 5031, 5032, 5033]. */
export function parsePorts(text: string): number[] {
  const out = new Set<number>();
  for (const raw of text.split(/[,\s]+/).filter(Boolean)) {
    const m = /^(\d{1,5})(?:-(\d{1,5}))?$/.exec(raw);
    const a = m ? Number(m[1]) : Number.NaN;
    const b = m?.[2] !== undefined ? Number(m[2]) : a;
    if (!(a >= 1 && b <= 65535 && a <= b))
      throw new TargetError(`--ports: "${raw}" is not a port or a range a-b in 1..65535`);
    for (let p = a; p <= b; p++) out.add(p);
    if (out.size > MAX_PORTS) throw new TargetError(`--ports names more than ${MAX_PORTS} ports`);
  }
  if (out.size === 0) throw new TargetError('--ports names no port');
  return [...out];
}
