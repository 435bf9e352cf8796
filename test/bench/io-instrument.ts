/**
 * The default instrument of `npm run bench:io`, run as a CHILD process so that the benchmark's own process
 * holds the client alone (an in-process server would share the client's event loop and CPU): one simulated
 * instrument (the server core's ScpiInstrument) served over TCP loopback and, through socat, over a pty.
 * Prints one JSON line `{"tcp": RESOURCE, "serial": RESOURCE}` on stdout once both are up; stops on SIGTERM,
 * SIGINT or when stdin closes (the parent went away).
 *
 *   node --import tsx test/bench/io-instrument.ts
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';
import { bridgePty } from '../../src/sim/server/pty-bridge.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';

const BENCH_IDENTITY = { manufacturer: 'cpobench-sim', model: 'BENCH-IO', serial: 'SN0001', firmware: '1.0' };

async function main(): Promise<void> {
  const instrument = new ScpiInstrument({ role: 'demo', identity: BENCH_IDENTITY });
  const server = await serveTcp(instrument);
  const dir = mkdtempSync(join(tmpdir(), 'cpobench-bench-io-'));
  const bridge = await bridgePty(join(dir, 'demo'), server.port, server.host);
  let stopping = false;
  const stop = async () => {
    if (stopping) return;
    stopping = true;
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
  process.stdout.write(`${JSON.stringify({ tcp: server.resource, serial: bridge.resource })}\n`);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
