import { describe, expect, it } from 'vitest';
import { ResourceError } from '../../src/core/errors.ts';
import { createTransport } from '../../src/transport/open.ts';
import { parseResource } from '../../src/transport/resource.ts';
import { SerialTransport } from '../../src/transport/serial.ts';
import { TcpTransport } from '../../src/transport/tcp.ts';

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
  it.each([
    '',
    'COM3',
    'TCPIP0::host::INSTR',
    'TCPIP0::host::99999::SOCKET',
    'TCPIP0::host::5025',
    'GPIB0::12::INSTR',
    'USB0::0x1313::0x8078::P0001::INSTR',
    'ASRLttyUSB0::INSTR',
  ])('refuses %j naming the accepted forms, and opens nothing', (bad) => {
    expect(() => parseResource(bad)).toThrow(ResourceError);
    try {
      createTransport(bad);
      expect.unreachable();
    } catch (err) {
      expect((err as Error).message).toContain('Accepted forms: ASRL<path>::INSTR');
      expect((err as Error).message).toContain('TCPIP[n]::<host>::<port>::SOCKET');
    }
  });
  it('creates the matching transport', () => {
    expect(createTransport('TCPIP0::127.0.0.1::5025::SOCKET')).toBeInstanceOf(TcpTransport);
    expect(createTransport('ASRL/dev/ttyUSB0::INSTR')).toBeInstanceOf(SerialTransport);
  });
});
