/**
 * The default instrument of `npm run bench:io`, run as a CHILD process so that the benchmark's own process
 * holds the client alone (an in-process server would share the client's event loop and CPU): one simulated
 * instrument (the server core's ScpiInstrument) served over TCP loopback, through socat over a pty, over VXI-11
 * (device inst0; its portmapper: the system's rpcbind or one of its own on port 111 when it can, see
 * registerVxi11, and always one on a free port that cpobench's client can be pointed at) and over HiSLIP.
 * Prints one JSON line `{"tcp", "serial", "vxi11", "portmapperPort", "vxi11Standard", "hislip"}` on stdout once
 * all are up; `vxi11Standard` says whether standard clients (port 111) find it, and if not, why. Stops on
 * SIGTERM, SIGINT or when stdin closes (the parent went away).
 *
 *   node --import tsx test/bench/io-instrument.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { serveHislip } from '../../src/sim/server/hislip-server.ts';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';
import { servePortmapper } from '../../src/sim/server/portmapper-server.ts';
import { bridgePty } from '../../src/sim/server/pty-bridge.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { registerVxi11 } from '../../src/sim/server/vxi11-registration.ts';
import { serveVxi11 } from '../../src/sim/server/vxi11-server.ts';
import { formatHislipResource, formatVxi11Resource } from '../../src/transport/resource.ts';
import { IPPROTO_TCP } from '../../src/transport/vxi11/portmapper.ts';
import { DEVICE_CORE } from '../../src/transport/vxi11/protocol.ts';

const BENCH_IDENTITY = { manufacturer: 'cpobench-sim', model: 'BENCH-IO', serial: 'SN0001', firmware: '1.0' };

async function main(): Promise<void> {
  const instrument = new ScpiInstrument({ role: 'demo', identity: BENCH_IDENTITY });
  const server = await serveTcp(instrument);
  const dir = mkdtempSync(join(tmpdir(), 'cpobench-bench-io-'));
  const bridge = await bridgePty(join(dir, 'demo'), server.port, server.host);
  const vxi11 = await serveVxi11([{ names: ['inst0'], instrument }], { host: server.host });
  const privatePm = await servePortmapper({ host: server.host, port: 0 });
  privatePm.set({ prog: DEVICE_CORE, vers: 1, prot: IPPROTO_TCP, port: vxi11.corePort });
  const registration = await registerVxi11(server.host, vxi11.corePort);
  const hislip = await serveHislip([{ names: ['hislip0'], instrument }], { host: server.host });
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
    await registration.release();
    await privatePm.close();
    await vxi11.close();
    await hislip.close();
    await bridge.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
    process.exit(0);
  };
  process.on('SIGTERM', () => void stop());
  process.on('SIGINT', () => void stop());
  process.stdin.on('end', () => void stop());
  process.stdin.on('close', () => void stop());
  process.stdin.resume();
  process.stdout.write(
    `${JSON.stringify({
      tcp: server.resource,
      serial: bridge.resource,
      vxi11: formatVxi11Resource(server.host, 'inst0'),
      portmapperPort: privatePm.port,
      vxi11Standard: registration.how === 'none' ? registration.detail : true,
      hislip: formatHislipResource(server.host, 'hislip0', hislip.port),
    })}\n`,
  );
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
