/**
 * USBTMC: cpobench's protocol layer (UsbtmcClient under UsbtmcTransport and ScpiSession) against a bulk-endpoint
 * emulator that follows USBTMC 1.0: packets of wMaxPacketSize, short and zero-length packets ending transfers,
 * EOM, transfer-size limits on both sides, a wrong bTag, a device that stops mid-transfer, a bulk-OUT it never
 * takes, the abort and clear sequences with their status checks, an unplugged device. And the sysfs lookup that
 * finds /dev/usbtmcN (on a tree made in a temp dir: this machine has no USB bus).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AbortedError, ConnectionError, FramingError, TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { UsbtmcDeviceEmulator, type UsbtmcDeviceFaults } from '../../src/sim/server/usbtmc-device.ts';
import { createTransport } from '../../src/transport/open.ts';
import { UsbtmcClient } from '../../src/transport/usbtmc/client.ts';
import { ATTR, decodeHeader, encodeTransfer, MSG_ID } from '../../src/transport/usbtmc/protocol.ts';
import { findUsbtmcInterfaces, listUsbtmcInterfaces } from '../../src/transport/usbtmc/sysfs.ts';
import type { UsbtmcTransport } from '../../src/transport/usbtmc/transport.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { DemoInstrument, slowDemoInstrument } from '../helpers/demo-instrument.ts';

const RES = 'USB0::0x0957::0x1A07::MY53200001::INSTR';
const cleanups = cleanupsAfterEach();

async function open(
  o: {
    faults?: UsbtmcDeviceFaults;
    maxPacketSize?: number;
    instrument?: DemoInstrument;
    hostTransfer?: number;
    writeTimeoutMs?: number;
  } = {},
) {
  const dev = new UsbtmcDeviceEmulator(o.instrument ?? new DemoInstrument(), {
    maxPacketSize: o.maxPacketSize ?? 64,
    ...(o.faults ? { faults: o.faults } : {}),
  });
  const t = createTransport(RES, {
    usbPipe: async () => dev,
    reconnect: false,
    ...(o.hostTransfer ? { maxTransferBytes: o.hostTransfer } : {}),
    ...(o.writeTimeoutMs ? { writeTimeoutMs: o.writeTimeoutMs } : {}),
  });
  const s = new ScpiSession(t, { name: 'usb', timeoutMs: 2000 });
  cleanups.push(() => s.close());
  await s.open();
  return { dev, s, t: t as UsbtmcTransport };
}

async function until(test: () => boolean, ms: number): Promise<void> {
  const t0 = Date.now();
  while (!test() && Date.now() - t0 < ms) await new Promise((r) => setTimeout(r, 5));
}

describe('USBTMC bulk headers', () => {
  it('encodes a transfer with bTag, its inverse, TransferSize, EOM and 4-byte alignment; decodes and checks it', () => {
    const t = encodeTransfer(
      { msgId: MSG_ID.DEV_DEP_MSG_OUT, bTag: 7, attributes: ATTR.EOM, termChar: 0 },
      Buffer.from('*IDN?\n'),
    );
    expect(t.length).toBe(12 + 6 + 2);
    expect([...t.subarray(0, 12)]).toEqual([1, 7, 0xf8, 0, 6, 0, 0, 0, 1, 0, 0, 0]);
    expect(decodeHeader(t)).toMatchObject({ msgId: 1, bTag: 7, transferSize: 6, attributes: ATTR.EOM });
    const bad = Buffer.from(t);
    bad[2] = 0;
    expect(() => decodeHeader(bad)).toThrow(/bTag 0x7 and its inverse 0x0 disagree/);
  });
});

describe('cpobench over USBTMC (against the bulk-endpoint emulator)', () => {
  it('queries, writes and reads the error queue; a 100 kB block in many packets and many transfers', async () => {
    const { s, t } = await open({ hostTransfer: 4096 });
    expect(t.backend).toBe('pipe');
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await s.write('NOT:A:COMMAND');
    expect(await s.query('SYST:ERR?')).toBe('-113,"Undefined header"');
    const block = await s.queryBlock('FETC:BLOC? 100000');
    expect(block.length).toBe(100000);
    expect(block[54321]).toBe(54321 % 256);
  });

  it('a transfer that fills its last packet ends with a zero-length packet', async () => {
    // "*IDN?" reply: 31 bytes + LF = 32 data bytes + 12 header = 44 -> padded 44; with 44-byte packets: exactly one
    const { s } = await open({ maxPacketSize: 44 });
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
  });

  it('transfer-size limits: the host splits a long command (EOM on the last), the device splits its reply', async () => {
    const { s, dev } = await open({ hostTransfer: 16, faults: { maxTransferBytes: 10 } });
    await s.write(`VOLT 2.5,(@1:8);${'*OPC;'.repeat(10)}*OPC`);
    expect(await s.queryNumbers('VOLT? (@1:8)')).toEqual(Array(8).fill(2.5));
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect(dev.controlLog).toEqual([]); // nothing went wrong: no abort, no clear
  });

  it('a wrong bTag: the read fails naming it, the transfer is aborted and the device cleared; then all is well', async () => {
    const { s, dev } = await open({ faults: { wrongTagOnce: true } });
    const err = await s.query('*IDN?').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FramingError);
    expect((err as Error).message).toMatch(
      /^USB0::0x0957::0x1A07::MY53200001::INSTR: USBTMC 0x0957:0x1A07 MY53200001: the device answered bTag (\d+) to the request with bTag \d+ \(a stale or misrouted transfer\)$/,
    );
    await until(() => dev.controlLog.some((l) => l.startsWith('CLEAR_FEATURE')), 1000);
    expect(dev.controlLog).toEqual([
      expect.stringMatching(/^INITIATE_ABORT_BULK_IN bTag \d+ -> STATUS_FAILED$/), // the transfer had ended
      'INITIATE_CLEAR -> STATUS_SUCCESS',
      'CHECK_CLEAR_STATUS -> STATUS_PENDING',
      'CHECK_CLEAR_STATUS -> STATUS_SUCCESS',
      'CLEAR_FEATURE(ENDPOINT_HALT) 0x2',
    ]);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
  });

  it('a device that stops mid-transfer: the read times out, INITIATE_ABORT_BULK_IN and its status check end the transfer, the clear follows, the next query gets its own reply', async () => {
    const { s, dev } = await open({ faults: { stopAfterPacketsOnce: 2 } });
    const t0 = Date.now();
    await expect(s.queryBlock('FETC:BLOC? 1000', { timeoutMs: 300 })).rejects.toBeInstanceOf(TimeoutError);
    expect(Date.now() - t0).toBeLessThan(1000);
    await until(() => dev.controlLog.some((l) => l.startsWith('CLEAR_FEATURE')), 2000);
    expect(dev.controlLog).toEqual([
      expect.stringMatching(/^INITIATE_ABORT_BULK_IN bTag \d+ -> STATUS_SUCCESS$/),
      'CHECK_ABORT_BULK_IN_STATUS -> STATUS_SUCCESS',
      'INITIATE_CLEAR -> STATUS_SUCCESS',
      'CHECK_CLEAR_STATUS -> STATUS_PENDING',
      'CHECK_CLEAR_STATUS -> STATUS_SUCCESS',
      'CLEAR_FEATURE(ENDPOINT_HALT) 0x2',
    ]);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    expect((await s.queryBlock('FETC:BLOC? 1000')).length).toBe(1000);
  });

  it('an abort while the reply is pending: aborted at once, the request aborted and the device cleared; the late reply never shows', async () => {
    const { s, dev } = await open({ instrument: slowDemoInstrument(300) });
    const ac = new AbortController();
    const t0 = Date.now();
    const q = s.query('TEST:SLOW?', { signal: ac.signal });
    setTimeout(() => ac.abort(), 50);
    await expect(q).rejects.toBeInstanceOf(AbortedError);
    expect(Date.now() - t0).toBeLessThan(250);
    await until(() => dev.controlLog.some((l) => l.startsWith('CLEAR_FEATURE')), 2000);
    expect(dev.controlLog[0]).toMatch(/^INITIATE_ABORT_BULK_IN bTag \d+ -> STATUS_SUCCESS$/);
    expect(dev.controlLog).toContain('INITIATE_CLEAR -> STATUS_SUCCESS');
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
    await new Promise((r) => setTimeout(r, 350));
    expect(await s.query('*OPC?')).toBe('1');
  });

  it('a bulk-OUT the device never takes: INITIATE_ABORT_BULK_OUT, its status check and CLEAR_FEATURE(ENDPOINT_HALT)', async () => {
    const { s, dev } = await open({ faults: { nakNextBulkOut: true }, writeTimeoutMs: 200 });
    const err = await s.query('*IDN?').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toBe(
      `${RES}: USBTMC 0x0957:0x1A07 MY53200001: bulk-OUT (DEV_DEP_MSG_OUT) timed out after 200 ms (the device took no data)`,
    );
    await until(() => dev.controlLog.some((l) => l.startsWith('CLEAR_FEATURE')), 1000);
    expect(dev.controlLog.slice(0, 3)).toEqual([
      expect.stringMatching(/^INITIATE_ABORT_BULK_OUT bTag \d+ -> STATUS_SUCCESS$/),
      'CHECK_ABORT_BULK_OUT_STATUS -> STATUS_SUCCESS',
      'CLEAR_FEATURE(ENDPOINT_HALT) 0x2',
    ]);
    expect(await s.query('*IDN?')).toBe('cpobench-sim,DEMO-1,SN0001,1.0');
  });

  it('GET_CAPABILITIES, and a bTag that never is 0', async () => {
    const dev = new UsbtmcDeviceEmulator(new DemoInstrument());
    const c = new UsbtmcClient(dev, { what: 'emu' });
    expect(await c.capabilities()).toEqual({ bcdUsbtmc: 0x0100, termChar: true, indicatorPulse: false });
    for (let i = 0; i < 300; i++) {
      await c.write(Buffer.from('*CLS\n'), 1000);
    }
    await c.write(Buffer.from('*IDN?\n'), 1000);
    expect((await c.read(1000)).toString()).toBe('cpobench-sim,DEMO-1,SN0001,1.0\n');
  });

  it('an unplugged device fails the read naming the resource', async () => {
    const { s, dev } = await open({ instrument: slowDemoInstrument(300) });
    const q = s.query('TEST:SLOW?');
    setTimeout(() => dev.unplug(), 50);
    const err = await q.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConnectionError);
    expect((err as Error).message).toMatch(
      /^USB0::0x0957::0x1A07::MY53200001::INSTR: connection lost \(device unplugged\)/,
    );
  });
});

describe('finding USBTMC devices in sysfs', () => {
  function fakeSys(): string {
    const root = mkdtempSync(join(tmpdir(), 'cpobench-sysfs-'));
    cleanups.push(() => rmSync(root, { recursive: true, force: true }));
    const devs = join(root, 'bus', 'usb', 'devices');
    const put = (dir: string, files: Record<string, string>) => {
      mkdirSync(join(devs, dir), { recursive: true });
      for (const [k, v] of Object.entries(files)) writeFileSync(join(devs, dir, k), `${v}\n`);
    };
    put('1-1', {
      idVendor: '0957',
      idProduct: '1a07',
      serial: 'MY53200001',
      manufacturer: 'Keysight',
      product: '33500B',
    });
    put('1-1:1.0', {
      bInterfaceClass: 'fe',
      bInterfaceSubClass: '03',
      bInterfaceProtocol: '01',
      bInterfaceNumber: '00',
    });
    mkdirSync(join(devs, '1-1:1.0', 'usbmisc', 'usbtmc0'), { recursive: true });
    put('1-2', { idVendor: '1313', idProduct: '8078', serial: 'P0012345' });
    put('1-2:1.0', {
      bInterfaceClass: 'fe',
      bInterfaceSubClass: '03',
      bInterfaceProtocol: '00',
      bInterfaceNumber: '00',
    });
    put('1-3', { idVendor: '0403', idProduct: '6001', serial: 'FTDI1' }); // a serial adapter, not USBTMC
    put('1-3:1.0', { bInterfaceClass: 'ff', bInterfaceSubClass: '00', bInterfaceNumber: '00' });
    return root;
  }

  it('lists USBTMC interfaces with ids, serial and the /dev node of a bound driver', () => {
    const root = fakeSys();
    expect(listUsbtmcInterfaces(root)).toEqual([
      {
        vendorId: 0x0957,
        productId: 0x1a07,
        serial: 'MY53200001',
        manufacturer: 'Keysight',
        product: '33500B',
        interfaceNumber: 0,
        protocol: 1,
        sysName: '1-1:1.0',
        devNode: '/dev/usbtmc0',
      },
      expect.objectContaining({ vendorId: 0x1313, productId: 0x8078, serial: 'P0012345', devNode: undefined }),
    ]);
    expect(
      findUsbtmcInterfaces(
        { vendorId: 0x0957, productId: 0x1a07, serial: 'MY53200001', interfaceNumber: undefined },
        root,
      ),
    ).toHaveLength(1);
    expect(
      findUsbtmcInterfaces({ vendorId: 0x0957, productId: 0x1a07, serial: 'OTHER', interfaceNumber: undefined }, root),
    ).toHaveLength(0);
    expect(listUsbtmcInterfaces(join(root, 'nope'))).toEqual([]);
  });

  it('without a bound driver or a device, opening says what it looked for', async () => {
    const root = fakeSys();
    const kernel = createTransport('USB0::0x1313::0x8078::P0012345::INSTR', {
      sysRoot: root,
      usbBackend: 'kernel',
      reconnect: false,
    });
    await expect(kernel.open()).rejects.toThrow(
      'USB0::0x1313::0x8078::P0012345::INSTR: USBTMC 0x1313:0x8078 P0012345: no /dev/usbtmcN for it in sysfs (device absent, or the usbtmc driver not bound)',
    );
    // the environment picks the path where no option can
    process.env.CPOBENCH_USB_BACKEND = 'kernel';
    try {
      const viaEnv = createTransport('USB0::0x1313::0x8078::P0012345::INSTR', { sysRoot: root, reconnect: false });
      await expect(viaEnv.open()).rejects.toThrow(/no \/dev\/usbtmcN for it in sysfs/);
      process.env.CPOBENCH_USB_BACKEND = 'fast';
      expect(() => createTransport('USB0::0x1313::0x8078::P0012345::INSTR')).toThrow(
        'CPOBENCH_USB_BACKEND must be auto, kernel or libusb, got "fast"',
      );
    } finally {
      delete process.env.CPOBENCH_USB_BACKEND;
    }
    // libusb (the optional `usb` package is installed here; this machine has no USB devices)
    const libusb = createTransport('USB0::0x1313::0x8078::P0012345::INSTR', { sysRoot: root, reconnect: false });
    await expect(libusb.open()).rejects.toThrow(
      'USB0::0x1313::0x8078::P0012345::INSTR: USBTMC 0x1313:0x8078 P0012345: no USB device 0x1313:0x8078 with serial P0012345',
    );
  });
});
