/**
 * A whole bench on VXI-11, as a lab reaches it: `cpobench sim --vxi11 --hislip --station-out FILE` in a network
 * namespace of the test's own (its portmapper must be on port 111, which no test may take from the machine),
 * then standard VXI-11 clients (pyvisa-py, lxi-tools, rpcinfo) and the real CLI against it, ending with the full
 * mosaic-800g qualification over VXI-11 to PASS.
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunRecord } from '../../src/core/record.ts';
import { createNetNamespace, type NetNamespace } from '../helpers/netns.ts';
import { requirePythonModules, SYSTEM_PYTHON } from '../helpers/python.ts';
import { type SimProcess, startSimIn } from '../helpers/sim-process.ts';
import { parseJson, tempDirs } from './helpers.ts';

const ROLES = ['led-driver', 'pd-receiver', 'power-analyzer', 'optical-meter', 'tec'];
const tmp = tempDirs('cpobench-vxi11-');
let ns: NetNamespace;
let sim: SimProcess;
let dir: string;
let station: string;
let resources: Record<string, string>;

beforeAll(async () => {
  dir = tmp.make();
  station = join(dir, 'station.yaml');
  ns = await createNetNamespace();
  sim = await startSimIn(ns, ['--vxi11', '--hislip', '--time-scale', '1000', '--station-out', station]);
  const file = parse(readFileSync(station, 'utf8')) as { instruments: Record<string, { resource: string }> };
  resources = Object.fromEntries(Object.entries(file.instruments).map(([role, i]) => [role, i.resource]));
}, 60_000);

afterAll(async () => {
  await sim?.stop();
  await ns?.close();
  tmp.cleanup();
});

const cpobenchIn = (args: string[], timeoutMs = 240_000) =>
  ns.run(process.execPath, ['src/cli/bin.js', ...args], { timeoutMs });

describe('cpobench sim --vxi11 in a network namespace of its own', () => {
  it('prints each instrument’s VXI-11 resource first, serves its own portmapper on 127.0.0.1:111, writes a VXI-11 station', async () => {
    expect(sim.lines.map((l) => l.split(/\s+/).slice(0, 4))).toEqual(
      ROLES.map((role, k) => [
        role,
        `TCPIP0::127.0.0.1::inst${k}::INSTR`,
        expect.stringMatching(/^TCPIP0::127\.0\.0\.1::\d+::SOCKET$/),
        expect.stringMatching(new RegExp(`^TCPIP0::127\\.0\\.0\\.1::hislip${k},\\d+::INSTR$`)),
      ]),
    );
    expect(sim.stderr()).toMatch(
      /VXI-11 core channel on 127\.0\.0\.1:\d+, abort channel on port \d+; served by the bench's own portmapper on 127\.0\.0\.1:111/,
    );
    expect(resources).toEqual(Object.fromEntries(ROLES.map((r, k) => [r, `TCPIP0::127.0.0.1::inst${k}::INSTR`])));
    const rpcinfo = await ns.run('rpcinfo', ['-p', '127.0.0.1'], { timeoutMs: 10_000 });
    expect(rpcinfo.stdout).toMatch(/395183\s+1\s+tcp\s+\d+/);
  });

  it('pyvisa-py (a standard VXI-11 client) reads every simulated instrument over VXI-11', async () => {
    await requirePythonModules(['pyvisa', 'pyvisa_py']);
    const r = await ns.run(
      SYSTEM_PYTHON,
      [
        '-c',
        `
import json, sys, pyvisa
rm = pyvisa.ResourceManager('@py')
out = {}
for res in sys.argv[1:]:
    i = rm.open_resource(res, timeout=5000)
    out[res] = {'idn': i.query('*IDN?').strip()}
    i.write('NOT:A:COMMAND')
    out[res]['err'] = i.query('SYST:ERR?').strip()
    out[res]['clean'] = i.query('SYST:ERR?').strip()
    i.close()
led = rm.open_resource(sys.argv[1], timeout=5000)
out['bias'] = led.query_ascii_values('SOUR:CURR:BIAS? (@1:400)')
led.close()
rx = rm.open_resource(sys.argv[2], timeout=5000)
out['pow'] = rx.query_ascii_values('MEAS:POW? (@1:400)')
rx.close(); rm.close()
print(json.dumps(out))
`,
        ...ROLES.map((r) => resources[r]!),
      ],
      { timeoutMs: 60_000 },
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = JSON.parse(r.stdout);
    const idn = sim.lines.map((l) => l.split(/\s{2,}/).at(-1));
    ROLES.forEach((role, k) => {
      expect(out[resources[role]!]).toEqual({ idn: idn[k], err: '-113,"Undefined header"', clean: '0,"No error"' });
    });
    expect(out.bias).toHaveLength(400);
    expect(out.pow).toHaveLength(400);
  });

  it('lxi-tools reaches inst0 over VXI-11 (libtirpc asks the portmapper) and a raw port', async () => {
    if (spawnSync('sh', ['-c', 'command -v lxi']).status !== 0)
      throw new Error('lxi is not installed: apt-get install lxi-tools (bash test/setup/ensure-deps.sh does it)');
    const v = await ns.run('lxi', ['scpi', '-a', '127.0.0.1', '*IDN?'], { timeoutMs: 20_000 });
    expect(v.code, v.stderr).toBe(0);
    expect(v.stdout.trim()).toBe('cpobench-sim,ULED-DRV-400,SIM-LD-0001,1.0.0');
    const raw = sim.lines[4]!.split(/\s+/)[2]!.split('::')[2]!;
    const r = await ns.run('lxi', ['scpi', '-a', '127.0.0.1', '-p', raw, '--raw', '*IDN?'], { timeoutMs: 20_000 });
    expect(r.stdout.trim()).toBe('THORLABS,TED4015,M00412345,1.2.0');
  });

  it('cpobench scpi talks VXI-11 and HiSLIP resources', async () => {
    const r = await cpobenchIn(['scpi', resources.tec!, '*IDN?', 'SOUR:TEMP?'], 30_000);
    expect(r.stderr).toBe('');
    expect(r.stdout.split('\n')[0]).toBe('THORLABS,TED4015,M00412345,1.2.0');
    const hislip = sim.lines[3]!.split(/\s+/)[3]!;
    const h = await cpobenchIn(['scpi', hislip, '*IDN?'], 30_000);
    expect(h.stdout.trim()).toBe('Thorlabs,PM100D,P0012345,2.8.0');
    expect(h.code).toBe(0);
  });

  it('the full mosaic-800g qualification runs to PASS with every instrument on VXI-11', async () => {
    const json = join(dir, 'qual.json');
    const r = await cpobenchIn([
      'run',
      'mosaic-800g-qual',
      '--station',
      station,
      '--db',
      join(dir, 'runs.db'),
      '--dut',
      'SN-VXI11-1',
      '--json',
      json,
      '--no-progress',
    ]);
    const rec = parseJson<RunRecord>(readFileSync(json, 'utf8'), json);
    const steps = rec.steps.map((s) => `${s.id}:${s.verdict}${s.error ? ` (${s.error})` : ''}`).join(', ');
    expect(rec.outcome, `${rec.error ?? ''} ${steps}\n${r.stderr}`).toBe('PASS');
    expect(r.code).toBe(0);
    expect(rec.summary).toMatchObject({ lanesActive: 400, benchSafe: true });
    for (const i of rec.instruments) expect(i.resource, i.role).toMatch(/^TCPIP0::127\.0\.0\.1::inst\d::INSTR$/);
  }, 240_000);

  it('stops on Ctrl-C with exit 0 and gives port 111 back', async () => {
    // a bench in a namespace of its own: the tests run in any order, the others need theirs running
    const own = await createNetNamespace();
    try {
      const other = await startSimIn(own, ['--vxi11', '--time-scale', '1000']);
      expect((await own.run('rpcinfo', ['-p', '127.0.0.1'], { timeoutMs: 10_000 })).stdout).toMatch(/395183/);
      expect(await other.stop()).toBe(0);
      const r = await own.run('rpcinfo', ['-p', '127.0.0.1'], { timeoutMs: 10_000 });
      expect(r.code).not.toBe(0);
    } finally {
      await own.close();
    }
  }, 60_000);
});
