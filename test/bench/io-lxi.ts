/**
 * lxi-tools as a VXI-11 client for `npm run bench:io`: `lxi benchmark -a HOST -p PORTMAPPER -c N` sends N `*IDN?`
 * to device inst0 (libtirpc, one connection) and prints its rate; the CPU time per query is the lxi process's own
 * (user + system, from bash's `time`), its start-up included.
 */
import { spawn, spawnSync } from 'node:child_process';
import type { Rate } from './io-clients.ts';

export function lxiInstalled(): boolean {
  return spawnSync('sh', ['-c', 'command -v lxi']).status === 0;
}

/** One timed run of about `count` queries. */
export function lxiBenchmark(host: string, portmapperPort: number, count: number): Promise<Rate> {
  return new Promise((resolve, reject) => {
    const p = spawn('bash', [
      '-c',
      'TIMEFORMAT="cpu %U %S"; time lxi benchmark -a "$1" -p "$2" -c "$3"',
      'lxi',
      host,
      String(portmapperPort),
      String(count),
    ]);
    let out = '';
    p.stdout.on('data', (d) => {
      out += d;
    });
    p.stderr.on('data', (d) => {
      out += d;
    });
    p.on('close', (code) => {
      const rate = /Result:\s*([\d.]+)\s*requests\/second/.exec(out);
      const cpu = /cpu ([\d.]+) ([\d.]+)/.exec(out);
      if (code !== 0 || !rate) return reject(new Error(`lxi benchmark failed (${code}): ${out.slice(-300)}`));
      const cpuS = cpu ? Number(cpu[1]) + Number(cpu[2]) : Number.NaN;
      resolve({ qps: Number(rate[1]), cpuUs: (cpuS * 1e6) / count });
    });
  });
}
