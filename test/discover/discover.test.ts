/**
 * cpobench discover, in process: what --hosts and --ports accept, serial ports and USBTMC interfaces as sysfs
 * shows them (a tree in a temp dir), the simulated bench found over VXI-11, raw sockets and HiSLIP with each
 * instrument's *IDN? and matching driver, an instrument no driver speaks to, and the draft station file.
 */
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { formatFound, runDiscover } from '../../src/cli/commands/discover.ts';
import { discover } from '../../src/discover/discover.ts';
import type { Found } from '../../src/discover/found.ts';
import { listSerialPorts } from '../../src/discover/serial-ports.ts';
import { draftStation } from '../../src/discover/station-draft.ts';
import { parseHosts, parsePorts } from '../../src/discover/targets.ts';
import { createDriverRegistry } from '../../src/instruments/registry.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { cpobench } from '../helpers/cli.ts';
import { DemoInstrument } from '../helpers/demo-instrument.ts';

const cleanups = cleanupsAfterEach();

function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'cpobench-discover-'));
  cleanups.push(() => rmSync(d, { recursive: true, force: true }));
  return d;
}

/** A sysfs tree: a USB-serial adapter, a CDC-ACM modem, two on-board UART slots (one empty), a virtual tty, a USBTMC device. */
function fakeSys(): string {
  const root = tempDir();
  const mk = (dir: string, files: Record<string, string> = {}) => {
    mkdirSync(join(root, dir), { recursive: true });
    for (const [k, v] of Object.entries(files)) writeFileSync(join(root, dir, k), `${v}\n`);
  };
  const usb = 'devices/pci0000:00/usb1';
  mk(`${usb}/1-2`, { idVendor: '0403', idProduct: '6001', serial: 'FT1234', manufacturer: 'FTDI' });
  mk(`${usb}/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0`);
  mk(`${usb}/1-3`, { idVendor: '2341', idProduct: '0043', manufacturer: 'Arduino' });
  mk(`${usb}/1-3/1-3:1.0/tty/ttyACM0`);
  mk('devices/platform/serial8250/tty/ttyS1', { type: '0' });
  mk('devices/pnp0/00:05/tty/ttyS0', { type: '4' });
  mk('devices/virtual/tty/tty1');
  mk('class/tty');
  const link = (name: string, target: string, device?: string) => {
    symlinkSync(join(root, target), join(root, 'class/tty', name));
    if (device) symlinkSync(join(root, device), join(root, target, 'device'));
  };
  link('ttyUSB0', `${usb}/1-2/1-2:1.0/ttyUSB0/tty/ttyUSB0`, `${usb}/1-2/1-2:1.0/ttyUSB0`);
  link('ttyACM0', `${usb}/1-3/1-3:1.0/tty/ttyACM0`, `${usb}/1-3/1-3:1.0`);
  link('ttyS1', 'devices/platform/serial8250/tty/ttyS1', 'devices/platform/serial8250');
  link('ttyS0', 'devices/pnp0/00:05/tty/ttyS0', 'devices/pnp0/00:05');
  link('tty1', 'devices/virtual/tty/tty1');
  // a USBTMC interface (no kernel driver bound; libusb finds no such device here)
  mk('bus/usb/devices/1-4', { idVendor: '0957', idProduct: '1a07', serial: 'MY53200001' });
  mk('bus/usb/devices/1-4:1.0', {
    bInterfaceClass: 'fe',
    bInterfaceSubClass: '03',
    bInterfaceProtocol: '01',
    bInterfaceNumber: '00',
  });
  return root;
}

describe('what --hosts and --ports accept', () => {
  it('host names, addresses and CIDR blocks (without network and broadcast address), ports and ranges', () => {
    expect(parseHosts('10.0.0.5, bench-psu.lab,10.0.0.5')).toEqual(['10.0.0.5', 'bench-psu.lab']);
    expect(parseHosts('192.168.1.0/30')).toEqual(['192.168.1.1', '192.168.1.2']);
    expect(parseHosts('192.168.1.7/32')).toEqual(['192.168.1.7']);
    expect(parseHosts('172.16.0.0/24')).toHaveLength(254);
    expect(parsePorts('5025,5030-5032')).toEqual([5025, 5030, 5031, 5032]);
    expect(() => parseHosts('10.0.0.0/8')).toThrow('--hosts: "10.0.0.0/8" is larger than a /20 (4096 addresses)');
    expect(() => parseHosts('bad_host!')).toThrow('is neither a host name, an IP address nor an IPv4 CIDR block');
    expect(() => parsePorts('70000')).toThrow('--ports: "70000" is not a port or a range a-b in 1..65535');
    expect(() => parsePorts('1-1000')).toThrow('--ports names more than 256 ports');
  });

  it('the CLI refuses bad input with one line, exit 2', async () => {
    for (const [args, line] of [
      [['--hosts', '10.0.0.0/8'], 'cpobench discover: --hosts: "10.0.0.0/8" is larger than a /20 (4096 addresses)'],
      [['--timeout', '0'], 'cpobench discover: --timeout must be 1..60000 ms, got "0"'],
      [['--probe-serial', 'fast'], 'cpobench discover: --probe-serial takes a baud rate, got "fast"'],
    ] as const) {
      const r = await cpobench(['discover', ...args], undefined, { timeoutMs: 30_000 });
      expect(r.code).toBe(2);
      expect(r.stderr.trim()).toBe(line);
    }
  });
});

describe('serial ports and USBTMC devices from sysfs', () => {
  it('lists USB adapters with their ids, UARTs that exist, not virtual terminals or empty UART slots', () => {
    const root = fakeSys();
    expect(listSerialPorts(root, '/dev')).toEqual([
      { path: '/dev/ttyACM0', usb: { vendorId: 0x2341, productId: 0x0043, manufacturer: 'Arduino' } },
      { path: '/dev/ttyS0' },
      { path: '/dev/ttyUSB0', usb: { vendorId: 0x0403, productId: 0x6001, serial: 'FT1234', manufacturer: 'FTDI' } },
    ]);
  });
});

describe('discover against the simulated bench (in process)', () => {
  async function bench(): Promise<Bench> {
    const b = await startBench({ vxi11: true, hislip: true, portmapperPort: 0, stationResources: 'socket' });
    cleanups.push(() => b.close());
    return b;
  }

  it('finds every instrument over VXI-11, its raw socket and HiSLIP, with *IDN? and the matching driver', async () => {
    const b = await bench();
    const demo = await serveTcp(new DemoInstrument());
    cleanups.push(() => demo.close());
    const sys = fakeSys();
    const found = await discover({
      registry: createDriverRegistry(),
      timeoutMs: 1000,
      ports: [...b.instruments.map((i) => i.port), demo.port],
      hislipPort: b.lan!.hislip!.server.port,
      portmapperPort: b.lan!.vxi11!.portmapperPort,
      sysRoot: sys,
      devRoot: join(sys, 'dev'),
    });
    const byResource = new Map(found.map((f) => [f.resource, f]));
    const drivers = ['cpobench-led-board', 'cpobench-pd-kit', 'keysight-n6705c', 'thorlabs-pm100d', 'thorlabs-ted4015'];
    b.instruments.forEach((i, k) => {
      for (const r of [i.vxi11!, i.socket, i.hislip!]) {
        expect(byResource.get(r), r).toMatchObject({ idn: i.identity, driver: drivers[k] });
      }
    });
    expect(byResource.get('TCPIP0::127.0.0.1::inst5::INSTR')).toBeUndefined(); // stopped at the first refused name
    expect(byResource.get(demo.resource)).toMatchObject({
      idn: 'cpobench-sim,DEMO-1,SN0001,1.0',
      via: `port ${demo.port}`,
    });
    expect(byResource.get(demo.resource)!.driver).toBeUndefined();
    // serial ports listed, not asked; the USBTMC device tried and why it did not answer said
    expect(byResource.get(`ASRL${join(sys, 'dev')}/ttyUSB0::INSTR`)).toMatchObject({
      via: 'serial port',
      usb: { vendorId: 0x0403, productId: 0x6001 },
      note: 'not asked (--probe-serial sends *IDN?)',
    });
    expect(byResource.get('USB0::0x0957::0x1A07::MY53200001::INSTR')).toMatchObject({
      via: 'sysfs (libusb)',
      note: expect.stringContaining('no USB device 0x0957:0x1a07 with serial MY53200001'),
    });
    const table = formatFound(found);
    expect(table[0]).toMatch(/^RESOURCE\s+\*IDN\?\s+DRIVER\s+FOUND BY$/);
    expect(table.find((l) => l.startsWith(demo.resource))).toMatch(/\(no driver matches\)/);
  });

  it('--station-out writes a draft station: each instrument once, by its VXI-11 resource, with its driver', async () => {
    const b = await bench();
    const dir = tempDir();
    const file = join(dir, 'draft.yaml');
    const lines: string[] = [];
    const code = await runDiscover(
      {
        timeout: '1000',
        ports: b.instruments.map((i) => i.port).join(','),
        hislipPort: String(b.lan!.hislip!.server.port),
        stationOut: file,
      },
      { out: (s) => lines.push(s), err: (s) => lines.push(s) },
      { portmapperPort: b.lan!.vxi11!.portmapperPort, sysRoot: join(dir, 'no-sys') },
    );
    expect(code).toBe(0);
    expect(lines.at(-1)).toBe(`cpobench discover: draft station with 5 instruments written to ${file}`);
    const text = readFileSync(file, 'utf8');
    const doc = parse(text) as { name: string; instruments: Record<string, { driver: string; resource: string }> };
    expect(doc.instruments).toEqual(
      Object.fromEntries(
        ['cpobench-led-board', 'cpobench-pd-kit', 'keysight-n6705c', 'thorlabs-pm100d', 'thorlabs-ted4015'].map(
          (d, k) => [d, { driver: d, resource: `TCPIP0::127.0.0.1::inst${k}::INSTR` }],
        ),
      ),
    );
    expect(text).toContain('# Add the lane geometry (lanes:)');
    expect(text).toContain(`#   thorlabs-ted4015 is also at ${b.instruments[4]!.socket}`);
  });

  it('the draft names two instruments of one model apart and lists unmatched ones as comments', () => {
    const f = (resource: string, idn: string, driver?: string): Found => ({
      resource,
      via: 'x',
      idn,
      ...(driver ? { driver } : {}),
    });
    const text = draftStation(
      [
        f('TCPIP0::10.0.0.5::5025::SOCKET', 'Keysight Technologies,N6705C,A1,1', 'keysight-n6705c'),
        f('TCPIP0::10.0.0.6::inst0::INSTR', 'Keysight Technologies,N6705C,B2,1', 'keysight-n6705c'),
        f('ASRL/dev/ttyUSB0::INSTR', 'ACME,WIDGET,1,1'),
      ],
      new Date('2026-12-01T00:00:00Z'),
    );
    const doc = parse(text) as { instruments: Record<string, unknown> };
    expect(Object.keys(doc.instruments)).toEqual(['keysight-n6705c', 'keysight-n6705c-2']);
    expect(text).toContain('#   ASRL/dev/ttyUSB0::INSTR: *IDN? "ACME,WIDGET,1,1" (no registered driver matches)');
  });
});
