/**
 * The simulated bench over VXI-11 and HiSLIP, in process (its portmapper on a free port, so no root is needed):
 * every instrument answers over both, besides its raw socket, on the one link model; device names and role names
 * both reach it; the station describes the resources asked for; instrument faults apply over every protocol.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { TimeoutError } from '../../src/core/errors.ts';
import { ScpiSession } from '../../src/scpi/session.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { stationFromObject } from '../../src/station/schema.ts';
import { openStation } from '../../src/station/station.ts';
import { createTransport } from '../../src/transport/open.ts';
import { parseResource } from '../../src/transport/resource.ts';
import { cpobench } from '../helpers/cli.ts';

const benches: Bench[] = [];
const sessions: ScpiSession[] = [];
afterEach(async () => {
  for (const s of sessions.splice(0)) await s.close().catch(() => undefined);
  for (const b of benches.splice(0)) await b.close();
});

async function bench(o: Parameters<typeof startBench>[0]): Promise<Bench> {
  const b = await startBench({ portmapperPort: 0, ...o });
  benches.push(b);
  return b;
}

async function open(b: Bench, resource: string, timeoutMs = 3000): Promise<ScpiSession> {
  const s = new ScpiSession(
    createTransport(resource, { reconnect: false, portmapperPort: b.lan?.vxi11?.portmapperPort ?? 111 }),
    { name: resource, timeoutMs },
  );
  sessions.push(s);
  await s.open();
  return s;
}

describe('the simulated bench over VXI-11 and HiSLIP', () => {
  it('serves every instrument over VXI-11, HiSLIP and its raw socket, on one link model', async () => {
    const b = await bench({ vxi11: true, hislip: true });
    expect(b.instruments.map((i) => [i.role, i.resource, i.vxi11])).toEqual(
      ['led-driver', 'pd-receiver', 'power-analyzer', 'optical-meter', 'tec'].map((role, k) => [
        role,
        `TCPIP0::127.0.0.1::inst${k}::INSTR`,
        `TCPIP0::127.0.0.1::inst${k}::INSTR`,
      ]),
    );
    for (const i of b.instruments) {
      expect(parseResource(i.hislip!)).toMatchObject({ kind: 'hislip', device: `hislip${b.instruments.indexOf(i)}` });
      for (const r of [i.vxi11!, i.hislip!, i.socket])
        expect(await (await open(b, r)).query('*IDN?'), r).toBe(i.identity);
    }
    // one instrument state whatever the protocol: set over HiSLIP, read back over VXI-11 and the raw socket
    const led = b.instruments[0]!;
    await (await open(b, led.hislip!)).query('SOUR:CURR:BIAS 0.0002,(@7);*OPC?');
    expect(await (await open(b, led.vxi11!)).queryNumber('SOUR:CURR:BIAS? (@7)')).toBeCloseTo(0.0002, 9);
    expect(await (await open(b, led.socket)).queryNumber('SOUR:CURR:BIAS? (@7)')).toBeCloseTo(0.0002, 9);
    // the role name is a device name too, as LXI gateways allow
    expect(await (await open(b, 'TCPIP0::127.0.0.1::tec::INSTR')).query('*IDN?')).toBe(b.instruments[4]!.identity);
  });

  it('the station file uses the resources asked for', async () => {
    const b = await bench({ vxi11: true, hislip: true, stationResources: 'hislip' });
    for (const [role, doc] of Object.entries(b.station.instruments)) {
      expect(doc!.resource, role).toMatch(/^TCPIP0::127\.0\.0\.1::hislip\d,\d+::INSTR$/);
      expect(doc!.serial).toBeUndefined();
    }
    const v = await bench({ vxi11: true });
    expect(Object.values(v.station.instruments).map((d) => d!.resource)).toEqual(
      [0, 1, 2, 3, 4].map((k) => `TCPIP0::127.0.0.1::inst${k}::INSTR`),
    );
    await expect(startBench({ stationResources: 'vxi11' })).rejects.toThrow(
      'station resources "vxi11" need the bench to serve them (--vxi11)',
    );
  });

  it('instrument faults apply over VXI-11 too: a receiver that stops answering times out, the others go on', async () => {
    const b = await bench({ vxi11: true, faults: { instruments: { 'pd-receiver': { stopAfterCommands: 2 } } } });
    const rx = await open(b, b.instruments[1]!.vxi11!, 300);
    expect(await rx.query('*IDN?')).toContain('PDRX');
    expect(await rx.query('*OPC?')).toBe('1');
    await expect(rx.query('*IDN?')).rejects.toBeInstanceOf(TimeoutError);
    expect(await (await open(b, b.instruments[0]!.vxi11!)).query('*IDN?')).toContain('ULED');
  });
});

describe('a station on VXI-11 and HiSLIP holds the instruments’ own locks', () => {
  it.each(['vxi11', 'hislip'] as const)(
    'over %s: another client is refused while the station is open, served after',
    async (kind) => {
      const b = await bench({ vxi11: true, hislip: true, stationResources: kind });
      const pm = b.lan!.vxi11!.portmapperPort;
      const station = await openStation(stationFromObject(b.station), {
        deviceLocks: true,
        reconnect: false,
        createTransport: (r, o) => createTransport(r, { ...o, portmapperPort: pm }),
      });
      expect(station.problems()).toEqual([]);
      const tec = b.instruments[4]!;
      const other = await open(b, kind === 'vxi11' ? tec.vxi11! : tec.hislip!, 500);
      if (kind === 'vxi11') {
        await expect(other.query('*IDN?')).rejects.toThrow(/the device is locked by another client \(VXI-11 error 11/);
      } else {
        // HiSLIP holds the other client's messages while the lock is held: its query times out
        await expect(other.query('*IDN?')).rejects.toBeInstanceOf(TimeoutError);
      }
      await station.close();
      expect(await other.query('*IDN?')).toBe(tec.identity);
    },
  );
});

describe('cpobench sim: the LAN options', () => {
  it.each([
    [['--station-resources', 'vxi11'], 'cpobench sim: --station-resources vxi11 needs --vxi11'],
    [
      ['--station-resources', 'usb'],
      'cpobench sim: --station-resources must be one of socket, serial, vxi11, hislip, got "usb"',
    ],
    [['--hislip', '--hislip-port', '70000'], 'cpobench sim: --hislip-port must be 0..65535, got "70000"'],
    [['--hislip-port', '4880'], 'cpobench sim: --hislip-port goes with --hislip'],
  ])('refuses %j with one line, exit 2, nothing started', async (args, line) => {
    const r = await cpobench(['sim', ...args], undefined, { timeoutMs: 30_000 });
    expect(r.code).toBe(2);
    expect(r.stderr.trim()).toBe(line);
    expect(r.stdout).toBe('');
  });
});
