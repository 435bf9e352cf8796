import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ResourceError } from '../../src/core/errors.ts';
import { instrumentKey } from '../../src/station/lock-key.ts';

const key = (r: string) => instrumentKey(r).key;

describe('instrument keys for the bench lock', () => {
  it('one TCP instrument whatever the board number, keyword case or host case', () => {
    const k = key('TCPIP0::127.0.0.1::5025::SOCKET');
    expect(k).toBe('tcp:127.0.0.1:5025');
    for (const r of [
      'TCPIP::127.0.0.1::5025::SOCKET',
      'TCPIP1::127.0.0.1::5025::SOCKET',
      'tcpip0::127.0.0.1::5025::socket',
      ' TCPIP0::127.0.0.1::5025::SOCKET ',
    ]) {
      expect(key(r), r).toBe(k);
    }
    expect(key('TCPIP0::Bench-PSU.lab::5025::SOCKET')).toBe(key('TCPIP::bench-psu.lab.::5025::SOCKET'));
    expect(key('TCPIP0::127.0.0.1::5026::SOCKET')).not.toBe(k);
    expect(key('TCPIP0::127.0.0.2::5025::SOCKET')).not.toBe(k);
    expect(key('TCPIP0::[::1]::5025::SOCKET')).toBe('tcp:::1:5025');
  });

  it('one serial instrument whatever its spelling or the link it is reached through', () => {
    expect(key('ASRL3::INSTR')).toBe(key('ASRL/dev/ttyS3::INSTR'));
    const d = mkdtempSync(join(tmpdir(), 'cpobench-key-'));
    try {
      writeFileSync(join(d, 'ttyUSB0'), '');
      symlinkSync(join(d, 'ttyUSB0'), join(d, 'usb-FTDI_serial-if00'));
      expect(key(`ASRL${d}/usb-FTDI_serial-if00::INSTR`)).toBe(key(`asrl${d}/ttyUSB0::instr`));
    } finally {
      rmSync(d, { recursive: true, force: true });
    }
  });

  it('one VXI-11, HiSLIP or USBTMC instrument whatever its spelling', () => {
    expect(key('TCPIP::10.0.0.5::INSTR')).toBe('vxi11:10.0.0.5:inst0');
    expect(key('TCPIP1::10.0.0.5::INST0::instr')).toBe(key('TCPIP0::10.0.0.5::inst0::INSTR'));
    expect(key('TCPIP0::10.0.0.5::inst1::INSTR')).not.toBe(key('TCPIP0::10.0.0.5::inst0::INSTR'));
    expect(key('TCPIP0::10.0.0.5::hislip0::INSTR')).toBe(key('TCPIP::10.0.0.5::hislip0,4880::INSTR'));
    expect(key('TCPIP0::10.0.0.5::hislip0,4881::INSTR')).not.toBe(key('TCPIP0::10.0.0.5::hislip0::INSTR'));
    expect(key('USB0::0x0957::0x1A07::MY1::INSTR')).toBe(key('USB::2391::6663::MY1::0::INSTR'));
    expect(key('USB0::0x0957::0x1A07::MY2::INSTR')).not.toBe(key('USB0::0x0957::0x1A07::MY1::INSTR'));
  });

  it('file names are safe, readable and distinct per key', () => {
    const a = instrumentKey('TCPIP0::[fe80::1]::5025::SOCKET').fileName;
    expect(a).toMatch(/^tcp_fe80_1_5025-[0-9a-f]{10}\.lock$/);
    expect(instrumentKey('ASRL/dev/ttyUSB0::INSTR').fileName).toMatch(/^serial_dev_ttyUSB0-[0-9a-f]{10}\.lock$/);
    expect(instrumentKey('TCPIP0::fe80_1::5025::SOCKET').fileName).not.toBe(a);
  });

  it('a string that is not a resource is refused naming the accepted forms', () => {
    expect(() => instrumentKey('GPIB0::5::INSTR')).toThrow(ResourceError);
    expect(() => instrumentKey('nonsense')).toThrow(/Accepted forms/);
  });
});
