/**
 * `cpobench discover [--hosts LIST|CIDR] [--ports LIST] [--hislip-port N] [--mdns] [--probe-serial [BAUD]]
 * [--timeout MS] [--station-out FILE] [--json]`: lists what this machine can reach (see src/discover/discover.ts),
 * one line per resource: the VISA resource, its `*IDN?`, the matching driver, how it was found. Exit 0 (also when
 * nothing is found), 2 for bad input or an output file that cannot be written.
 */
import type { Command } from 'commander';
import { errorMessage } from '../../core/errors.ts';
import { escapeControl } from '../../core/printable.ts';
import { writeFileAtomic } from '../../core/write-file.ts';
import { type DiscoverOptions, discover } from '../../discover/discover.ts';
import type { Found } from '../../discover/found.ts';
import { draftStation } from '../../discover/station-draft.ts';
import { parseHosts, parsePorts } from '../../discover/targets.ts';
import { createDriverRegistry } from '../../instruments/registry.ts';
import { EXIT } from '../exit-codes.ts';

export interface DiscoverCliOptions {
  hosts?: string;
  ports?: string;
  hislipPort?: string;
  mdns?: boolean;
  probeSerial?: string | boolean;
  timeout: string;
  stationOut?: string;
  json?: boolean;
}

interface Io {
  out: (s: string) => void;
  err: (s: string) => void;
}

function hex(n: number): string {
  return n.toString(16).padStart(4, '0');
}

/** The table: resource, *IDN? (or why none), driver, how it was found. Instrument bytes are escaped. */
export function formatFound(found: readonly Found[]): string[] {
  const rows = found.map((f) => [
    f.resource,
    f.idn !== undefined ? escapeControl(f.idn) : `(${escapeControl(f.note ?? 'no reply')})`,
    f.driver ?? (f.idn !== undefined ? '(no driver matches)' : ''),
    [
      f.via,
      f.usb
        ? `USB ${hex(f.usb.vendorId)}:${hex(f.usb.productId)}${f.usb.manufacturer ? ` ${f.usb.manufacturer}` : ''}`
        : '',
      f.service ?? '',
    ]
      .filter(Boolean)
      .join('; '),
  ]);
  const head = ['RESOURCE', '*IDN?', 'DRIVER', 'FOUND BY'];
  const all = [head, ...rows];
  const w = head.map((_, k) => Math.max(...all.map((r) => r[k]!.length)));
  return all.map((r) =>
    r
      .map((c, k) => (k < r.length - 1 ? c.padEnd(w[k]!) : c))
      .join('  ')
      .trimEnd(),
  );
}

export async function runDiscover(
  opts: DiscoverCliOptions,
  io: Io,
  extra: Partial<DiscoverOptions> = {},
): Promise<number> {
  let options: DiscoverOptions;
  try {
    const timeoutMs = Number(opts.timeout);
    if (!(timeoutMs > 0 && timeoutMs <= 60_000))
      throw new Error(`--timeout must be 1..60000 ms, got "${opts.timeout}"`);
    options = { registry: createDriverRegistry(), timeoutMs, ...extra };
    if (opts.hosts !== undefined) options.hosts = parseHosts(opts.hosts);
    if (opts.ports !== undefined) options.ports = parsePorts(opts.ports);
    if (opts.hislipPort !== undefined) {
      const [p] = parsePorts(opts.hislipPort);
      options.hislipPort = p!;
    }
    if (opts.mdns) options.mdns = true;
    if (opts.probeSerial !== undefined && opts.probeSerial !== false) {
      const baud = opts.probeSerial === true ? 9600 : Number(opts.probeSerial);
      if (!Number.isInteger(baud) || baud <= 0)
        throw new Error(`--probe-serial takes a baud rate, got "${opts.probeSerial}"`);
      options.serialBaud = baud;
    }
  } catch (err) {
    io.err(`cpobench discover: ${errorMessage(err)}`);
    return EXIT.ERROR;
  }
  const found = await discover(options);
  if (opts.json) io.out(JSON.stringify(found, null, 2));
  else if (found.length === 0) io.err('cpobench discover: found nothing');
  else for (const line of formatFound(found)) io.out(line);
  if (opts.stationOut) {
    try {
      writeFileAtomic(opts.stationOut, draftStation(found));
    } catch (err) {
      io.err(`cpobench discover: --station-out: ${errorMessage(err)}`);
      return EXIT.ERROR;
    }
    const n = new Set(found.filter((f) => f.driver).map((f) => f.idn)).size;
    io.err(`cpobench discover: draft station with ${n} instrument${n === 1 ? '' : 's'} written to ${opts.stationOut}`);
  }
  return EXIT.OK;
}

export function registerDiscover(program: Command, setExit: (code: number) => void): void {
  program
    .command('discover')
    .description(
      'list the instruments this machine can reach: serial ports, USBTMC, VXI-11, raw SCPI and HiSLIP on the hosts named, mDNS',
    )
    .option(
      '--hosts <list|cidr>',
      'hosts to look at: names, addresses, IPv4 CIDR blocks (default: this machine, 127.0.0.1)',
    )
    .option('--ports <list>', 'raw SCPI ports to try on each host, e.g. 5025,5030-5035', '5025')
    .option('--hislip-port <n>', 'HiSLIP port to try on each host', '4880')
    .option('--mdns', 'also ask the local networks (multicast DNS) for _lxi._tcp, _scpi-raw._tcp and _hislip._tcp')
    .option('--probe-serial [baud]', 'send *IDN? on serial ports too, at this baud rate (default 9600); off by default')
    .option('--timeout <ms>', 'connect and reply bound per probe', '1000')
    .option('--station-out <file>', 'write a draft station file (driver and resource per instrument found)')
    .option('--json', 'print what was found as JSON')
    .addHelpText(
      'after',
      '\nExit codes: 0 done (also when nothing is found), 2 bad input or an unwritable --station-out.',
    )
    .action(async (opts: DiscoverCliOptions) => {
      setExit(
        await runDiscover(opts, {
          out: (s) => process.stdout.write(`${s}\n`),
          err: (s) => process.stderr.write(`${s}\n`),
        }),
      );
    });
}
