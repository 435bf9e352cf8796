/**
 * Where VXI-11 clients find the simulated bench, on a machine with and without the system's rpcbind, as root and
 * as a user without root (uid 65534), each in a network namespace of its own (with its own /run, where rpcbind
 * keeps its socket and lock): Debian's rpcbind takes the bench's registration (PMAP SET) and drops it when the
 * bench stops; without rpcbind and without root, the bench says what is needed and still serves its raw sockets.
 */
import { type ChildProcess, spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { NO_ROOT_HELP } from '../../src/sim/server/vxi11-registration.ts';
import { cleanupsAfterEach } from '../helpers/cleanups.ts';
import { createNetNamespace, type NetNamespace } from '../helpers/netns.ts';
import { requirePythonModules, SYSTEM_PYTHON } from '../helpers/python.ts';
import { type SimProcess, startSimIn } from '../helpers/sim-process.ts';

const NOBODY = 65534;
const cleanups = cleanupsAfterEach();

async function namespace(): Promise<NetNamespace> {
  const ns = await createNetNamespace();
  cleanups.push(() => ns.close());
  return ns;
}

/** Debian's rpcbind in the namespace, in the foreground; resolves once it answers. */
async function rpcbind(ns: NetNamespace): Promise<ChildProcess> {
  if (spawnSync('sh', ['-c', 'command -v rpcbind || test -x /usr/sbin/rpcbind']).status !== 0)
    throw new Error('rpcbind is not installed: apt-get install rpcbind (bash test/setup/ensure-deps.sh does it)');
  const p = ns.spawn('/usr/sbin/rpcbind', ['-f', '-w'], { stdio: 'ignore' });
  cleanups.push(async () => {
    if (p.exitCode === null) {
      p.kill('SIGTERM');
      await new Promise((r) => p.once('close', r));
    }
  });
  for (let i = 0; i < 100; i++) {
    if ((await ns.run('rpcinfo', ['-p', '127.0.0.1'], { timeoutMs: 5000 })).code === 0) return p;
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error('rpcbind did not start');
}

async function sim(ns: NetNamespace, uid?: number): Promise<SimProcess> {
  const s = await startSimIn(ns, ['--vxi11'], uid === undefined ? {} : { uid });
  cleanups.push(() => s.stop());
  return s;
}

async function pyvisaIdn(ns: NetNamespace, resource: string): Promise<string> {
  await requirePythonModules(['pyvisa', 'pyvisa_py']);
  const r = await ns.run(
    SYSTEM_PYTHON,
    [
      '-c',
      'import sys, pyvisa\ni = pyvisa.ResourceManager("@py").open_resource(sys.argv[1], timeout=5000)\nprint(i.query("*IDN?").strip())',
      resource,
    ],
    { timeoutMs: 30_000 },
  );
  if (r.code !== 0) throw new Error(`pyvisa failed: ${r.stderr}`);
  return r.stdout.trim();
}

const vxiMapped = async (ns: NetNamespace) =>
  /395183\s+1\s+tcp/.test((await ns.run('rpcinfo', ['-p', '127.0.0.1'], { timeoutMs: 5000 })).stdout);

describe('finding the simulated bench over VXI-11', () => {
  it.each([
    ['root', undefined],
    ['a user without root', NOBODY],
  ])(
    'with the system’s rpcbind running, as %s: registers with it (PMAP SET) and unregisters on Ctrl-C',
    async (_who, uid) => {
      const ns = await namespace();
      await rpcbind(ns);
      const s = await sim(ns, uid);
      expect(s.stderr()).toContain('registered with the portmapper (rpcbind) at 127.0.0.1:111');
      expect(await vxiMapped(ns)).toBe(true);
      expect(await pyvisaIdn(ns, 'TCPIP0::127.0.0.1::inst2::INSTR')).toBe(
        'Keysight Technologies,N6705C,MY56001234,D.03.10.1470',
      );
      expect(await s.stop()).toBe(0);
      expect(await vxiMapped(ns)).toBe(false);
    },
    60_000,
  );

  it('a stale registration (its server gone) is replaced; a live one of another server is left alone and said', async () => {
    const ns = await namespace();
    await rpcbind(ns);
    const first = await sim(ns);
    first.child.kill('SIGKILL'); // gone without unregistering
    await first.exit;
    expect(await vxiMapped(ns)).toBe(true);
    const second = await sim(ns);
    expect(second.stderr()).toContain('registered with the portmapper (rpcbind) at 127.0.0.1:111');
    expect(await pyvisaIdn(ns, 'TCPIP0::127.0.0.1::inst4::INSTR')).toBe('THORLABS,TED4015,M00412345,1.2.0');
    const third = await sim(ns);
    expect(third.stderr()).toMatch(
      /standard VXI-11 clients cannot find it: the portmapper at 127\.0\.0\.1:111 already maps VXI-11 to port \d+, another server that is running/,
    );
  }, 60_000);

  it('without rpcbind and without root: says what is needed, and the raw sockets still serve', async () => {
    const ns = await namespace();
    const s = await sim(ns, NOBODY);
    expect(s.stderr()).toContain(
      `standard VXI-11 clients cannot find it: cannot serve a portmapper on 127.0.0.1:111 without root. ${NO_ROOT_HELP}`,
    );
    const raw = s.lines[0]!.split(/\s+/)[2]!;
    // a lock directory that user can use (the test's own is root's)
    const locks = mkdtempSync(join(tmpdir(), 'cpobench-nobody-locks-'));
    chmodSync(locks, 0o1777);
    cleanups.push(async () => rmSync(locks, { recursive: true, force: true }));
    const r = await ns.run(process.execPath, ['src/cli/bin.js', 'scpi', raw, '*IDN?'], {
      uid: NOBODY,
      timeoutMs: 30_000,
      env: { ...process.env, CPOBENCH_LOCK_DIR: locks },
    });
    expect(r.stdout.trim(), r.stderr).toBe('cpobench-sim,ULED-DRV-400,SIM-LD-0001,1.0.0');
    expect(await s.stop()).toBe(0);
  }, 60_000);
});
