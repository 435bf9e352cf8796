/**
 * `cpobench discover` as a user runs it, in a network namespace of the test's own: the simulated bench of a
 * `cpobench sim` on 127.0.0.1 found by its raw ports, over VXI-11 (the portmapper on port 111) and HiSLIP (4880),
 * and with --mdns through announcements made by an mDNS responder that is not cpobench (Debian's
 * python3-zeroconf), multicast carried on the namespace's loopback only.
 */
import type { ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Found } from '../../src/discover/found.ts';
import { createNetNamespace, type NetNamespace } from '../helpers/netns.ts';
import { requirePythonModules, SYSTEM_PYTHON } from '../helpers/python.ts';
import { type SimProcess, startSimIn } from '../helpers/sim-process.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs('cpobench-discover-');
let ns: NetNamespace;
let lan: SimProcess;
let raw: SimProcess;
let responder: ChildProcess | undefined;

const RESPONDER = `
import socket, sys
from zeroconf import IPVersion, ServiceInfo, Zeroconf
zc = Zeroconf(interfaces=['127.0.0.1'], ip_version=IPVersion.V4Only)
addr = [socket.inet_aton('127.0.0.1')]
infos = [
    ServiceInfo('_scpi-raw._tcp.local.', 'Bench TEC._scpi-raw._tcp.local.', addresses=addr, port=int(sys.argv[1]), server='simbench.local.'),
    ServiceInfo('_lxi._tcp.local.', 'Bench gateway._lxi._tcp.local.', addresses=addr, port=80, server='simbench.local.'),
    ServiceInfo('_hislip._tcp.local.', 'Bench meter._hislip._tcp.local.', addresses=addr, port=4880, server='simbench.local.'),
]
for i in infos:
    zc.register_service(i)
print('ready', flush=True)
sys.stdin.read()
for i in infos:
    zc.unregister_service(i)
zc.close()
`;

beforeAll(async () => {
  ns = await createNetNamespace({ multicast: true });
  lan = await startSimIn(ns, [
    '--vxi11',
    '--hislip',
    '--hislip-port',
    '4880',
    '--base-port',
    '5025',
    '--station-resources',
    'socket',
  ]);
  raw = await startSimIn(ns, ['--base-port', '6025', '--seed', '2']);
}, 60_000);

afterAll(async () => {
  if (responder && responder.exitCode === null) {
    responder.stdin!.end();
    await new Promise((r) => responder!.once('close', r));
  }
  await lan?.stop();
  await raw?.stop();
  await ns?.close();
  tmp.cleanup();
});

async function discoverJson(args: string[]): Promise<Found[]> {
  const r = await ns.run(process.execPath, ['src/cli/bin.js', 'discover', '--json', ...args], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(`discover exited ${r.code}: ${r.stderr}`);
  return JSON.parse(r.stdout) as Found[];
}

const lanOnly = (found: Found[]) =>
  found.filter((f) => !f.resource.startsWith('ASRL') && !f.resource.startsWith('USB'));

describe('cpobench discover (in a network namespace of its own)', () => {
  it('with no options: this machine, VXI-11 through port 111, the raw socket on 5025, HiSLIP on 4880', async () => {
    const found = lanOnly(await discoverJson([]));
    expect(found.map((f) => [f.resource, f.driver])).toEqual([
      ['TCPIP0::127.0.0.1::inst0::INSTR', 'cpobench-led-board'],
      ['TCPIP0::127.0.0.1::inst1::INSTR', 'cpobench-pd-kit'],
      ['TCPIP0::127.0.0.1::inst2::INSTR', 'keysight-n6705c'],
      ['TCPIP0::127.0.0.1::inst3::INSTR', 'thorlabs-pm100d'],
      ['TCPIP0::127.0.0.1::inst4::INSTR', 'thorlabs-ted4015'],
      ['TCPIP0::127.0.0.1::5025::SOCKET', 'cpobench-led-board'],
      ['TCPIP0::127.0.0.1::hislip0::INSTR', 'cpobench-led-board'],
      ['TCPIP0::127.0.0.1::hislip1::INSTR', 'cpobench-pd-kit'],
      ['TCPIP0::127.0.0.1::hislip2::INSTR', 'keysight-n6705c'],
      ['TCPIP0::127.0.0.1::hislip3::INSTR', 'thorlabs-pm100d'],
      ['TCPIP0::127.0.0.1::hislip4::INSTR', 'thorlabs-ted4015'],
    ]);
    expect(found[2]!.idn).toBe('Keysight Technologies,N6705C,MY56001234,D.03.10.1470');
  });

  it('the raw ports of a cpobench sim, named with --ports, on a host named with --hosts', async () => {
    const found = lanOnly(
      await discoverJson(['--hosts', '127.0.0.1', '--ports', '6025-6029', '--hislip-port', '6999']),
    );
    const idns = raw.lines.map((l) => l.split(/\s{2,}/).at(-1));
    expect(found.filter((f) => f.resource.endsWith('::SOCKET')).map((f) => [f.resource, f.idn])).toEqual(
      [0, 1, 2, 3, 4].map((k) => [`TCPIP0::127.0.0.1::${6025 + k}::SOCKET`, idns[k]]),
    );
  });

  it('--mdns: instruments announced as _scpi-raw._tcp, _lxi._tcp and _hislip._tcp; --station-out a draft', async () => {
    await requirePythonModules(['zeroconf']);
    responder = ns.spawn(SYSTEM_PYTHON, ['-c', RESPONDER, '5029'], { stdio: ['pipe', 'pipe', 'inherit'] });
    await new Promise<void>((resolve, reject) => {
      responder!.stdout!.on('data', (d) => String(d).includes('ready') && resolve());
      responder!.once('exit', (c) => reject(new Error(`the mDNS responder exited ${c}`)));
    });
    const dir = tmp.make();
    const draft = join(dir, 'draft.yaml');
    const found = await discoverJson(['--ports', '5025', '--mdns', '--station-out', draft]);
    const get = (r: string) => found.find((f) => f.resource === r);
    expect(get('TCPIP0::127.0.0.1::5029::SOCKET')).toMatchObject({
      via: 'mDNS _scpi-raw._tcp',
      service: 'Bench TEC._scpi-raw._tcp.local',
      idn: 'THORLABS,TED4015,M00412345,1.2.0',
      driver: 'thorlabs-ted4015',
    });
    expect(get('TCPIP0::127.0.0.1::inst0::INSTR')!.via).toMatch(/^portmapper .*, mDNS _lxi\._tcp$/);
    expect(get('TCPIP0::127.0.0.1::hislip0::INSTR')!.service).toBe('Bench meter._hislip._tcp.local');
    const text = readFileSync(draft, 'utf8');
    expect(text).toMatch(
      /thorlabs-ted4015:\n {4}driver: thorlabs-ted4015\n {4}resource: TCPIP0::127\.0\.0\.1::inst4::INSTR/,
    );
  });
});
