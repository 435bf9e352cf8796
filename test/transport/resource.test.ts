import { describe, expect, it } from 'vitest';
import { ResourceError } from '../../src/core/errors.ts';
import { HislipTransport } from '../../src/transport/hislip/transport.ts';
import { createTransport } from '../../src/transport/open.ts';
import { parseResource } from '../../src/transport/resource.ts';
import { SerialTransport } from '../../src/transport/serial.ts';
import { TcpTransport } from '../../src/transport/tcp.ts';
import { Vxi11Transport } from '../../src/transport/vxi11/transport.ts';

describe('VISA resource strings', () => {
  it('parses serial paths and port numbers', () => {
    expect(parseResource('ASRL/dev/ttyUSB0::INSTR')).toMatchObject({ kind: 'serial', path: '/dev/ttyUSB0' });
    expect(parseResource('asrl/tmp/x y::instr')).toMatchObject({ kind: 'serial', path: '/tmp/x y' });
    expect(parseResource('ASRL3::INSTR')).toMatchObject({ kind: 'serial', path: '/dev/ttyS3' });
  });
  it('parses raw TCP sockets with and without a board number', () => {
    expect(parseResource('TCPIP0::127.0.0.1::5025::SOCKET')).toMatchObject({
      kind: 'tcp',
      host: '127.0.0.1',
      port: 5025,
      board: 0,
    });
    expect(parseResource('TCPIP::bench-psu.lab::5025::SOCKET')).toMatchObject({
      kind: 'tcp',
      host: 'bench-psu.lab',
      port: 5025,
    });
    expect(parseResource('TCPIP1::[::1]::5025::SOCKET')).toMatchObject({ kind: 'tcp', host: '::1', board: 1 });
  });
  it('parses VXI-11 resources: inst0 when no device is named, gateway and role device names', () => {
    expect(parseResource('TCPIP0::192.168.1.20::INSTR')).toMatchObject({
      kind: 'vxi11',
      host: '192.168.1.20',
      device: 'inst0',
      board: 0,
    });
    expect(parseResource('TCPIP::bench.lab::inst1::INSTR')).toMatchObject({ kind: 'vxi11', device: 'inst1' });
    expect(parseResource('tcpip2::10.0.0.5::gpib0,7::instr')).toMatchObject({
      kind: 'vxi11',
      device: 'gpib0,7',
      board: 2,
    });
    expect(parseResource('TCPIP0::127.0.0.1::led-driver::INSTR')).toMatchObject({
      kind: 'vxi11',
      device: 'led-driver',
    });
    expect(parseResource('TCPIP0::[fe80::1]::inst0::INSTR')).toMatchObject({ kind: 'vxi11', host: 'fe80::1' });
  });
  it('parses HiSLIP resources with the default port 4880 or the one given', () => {
    expect(parseResource('TCPIP0::192.168.1.20::hislip0::INSTR')).toMatchObject({
      kind: 'hislip',
      host: '192.168.1.20',
      device: 'hislip0',
      port: 4880,
    });
    expect(parseResource('TCPIP::127.0.0.1::HiSLIP3,40123::INSTR')).toMatchObject({
      kind: 'hislip',
      device: 'hislip3',
      port: 40123,
    });
  });
  it('parses USBTMC resources: hex or decimal ids, serial, optional interface number', () => {
    expect(parseResource('USB0::0x0957::0x1A07::MY53200001::INSTR')).toMatchObject({
      kind: 'usbtmc',
      vendorId: 0x0957,
      productId: 0x1a07,
      serial: 'MY53200001',
      interfaceNumber: undefined,
    });
    expect(parseResource('usb::2391::6663::SN-1::2::instr')).toMatchObject({
      kind: 'usbtmc',
      vendorId: 2391,
      productId: 6663,
      serial: 'SN-1',
      interfaceNumber: 2,
    });
  });
  it.each([
    ['', 'it is empty'],
    ['COM3', 'none of the accepted forms'],
    ['TCPIP0::host::99999::SOCKET', 'port 99999 is not in 1..65535'],
    ['TCPIP0::host::5025', 'ends in ::INSTR'],
    ['TCPIP0::host::5025::INSTR', 'TCPIP::<host>::5025::SOCKET'],
    ['TCPIP0::host::hislip0,70000::INSTR', 'HiSLIP port 70000'],
    ['TCPIP0::host::in st0::INSTR', 'not a LAN device name'],
    ['GPIB0::12::INSTR', 'the GPIB interface is not supported'],
    ['USB0::0x1313::0x8078::INSTR', 'vendor id, product id and serial number'],
    ['USB0::0x1313::0x8078::P0001::RAW', 'USB RAW'],
    ['USB0::0x1313F::0x8078::P0001::INSTR', 'vendor id "0x1313F"'],
    ['USB0::0x1313::0x8078::P0001::300::INSTR', 'interface number "300"'],
    ['ASRLttyUSB0::INSTR', 'must be absolute'],
  ])('refuses %j saying why (%s) and naming every accepted form, and opens nothing', (bad, why) => {
    expect(() => parseResource(bad)).toThrow(ResourceError);
    try {
      createTransport(bad);
      expect.unreachable();
    } catch (err) {
      const m = (err as Error).message;
      expect(m).toContain(why);
      expect(m).toContain('Accepted forms: ASRL<path>::INSTR');
      expect(m).toContain('TCPIP[n]::<host>::<port>::SOCKET');
      expect(m).toContain('TCPIP[n]::<host>[::<device>]::INSTR (VXI-11');
      expect(m).toContain('TCPIP[n]::<host>::hislip<n>[,<port>]::INSTR (HiSLIP');
      expect(m).toContain('USB[n]::<vendor id>::<product id>::<serial>[::<interface>]::INSTR (USBTMC');
    }
  });
  it('creates the matching transport', () => {
    expect(createTransport('TCPIP0::127.0.0.1::5025::SOCKET')).toBeInstanceOf(TcpTransport);
    expect(createTransport('ASRL/dev/ttyUSB0::INSTR')).toBeInstanceOf(SerialTransport);
    expect(createTransport('TCPIP0::127.0.0.1::inst0::INSTR')).toBeInstanceOf(Vxi11Transport);
    expect(createTransport('TCPIP0::127.0.0.1::hislip0::INSTR')).toBeInstanceOf(HislipTransport);
  });
});
