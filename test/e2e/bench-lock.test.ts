/**
 * The bench lock between real cpobench processes on one simulated bench (an in-test bench and a station file):
 * a second run is refused naming the holder (exit 2), `instruments` names the holder, `scpi` refuses unless
 * --force, the next run goes once the first has finished; a server killed with SIGKILL leaves locks that the
 * next run takes over. The lock dir is this file's own (test/setup/lock-dir.ts), inherited by the CLIs.
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Bench, benchStation, startBench, stationYaml } from '../../src/sim/bench.ts';
import { lockDirectory } from '../../src/station/bench-lock.ts';
import { cpobench, type LiveCli, spawnCli, spawnCliUntil, tempDirs } from './helpers.ts';

const tmp = tempDirs('cpobench-e2e-lock-');
let bench: Bench;
let dir: string;
let stationFile: string;
let longSeq: string;
const live: LiveCli[] = [];

// inventory, then a BER gate of ~150 s at the 1000x clock: the run holds the bench until it is stopped
const LONG_SEQUENCE = `name: hold-the-bench
version: "1.0"
steps:
  - { id: inventory, type: inventory }
  - id: long-gate
    type: ber
    params: { rate: 2.0e9, pattern: PRBS31, targetBer: 1.0e-14, confidence: 0.95, pollMs: 100 }
`;

beforeAll(async () => {
  bench = await startBench({ profile: 'mosaic-800g', timeScale: 1000 });
  dir = tmp.make();
  stationFile = join(dir, 'station.yaml');
  writeFileSync(stationFile, stationYaml(benchStation(bench)));
  longSeq = join(dir, 'hold-the-bench.yaml');
  writeFileSync(longSeq, LONG_SEQUENCE);
});
afterAll(async () => {
  for (const c of live.splice(0)) {
    if (c.proc.exitCode === null && c.proc.signalCode === null) c.proc.kill('SIGKILL');
    await c.exited;
  }
  await bench?.close();
  tmp.cleanup();
});

function lockFiles(): string[] {
  return readdirSync(lockDirectory()).filter((f) => f.endsWith('.lock'));
}

async function until(cond: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('bench lock between cpobench processes', () => {
  it('a second run is refused naming the holder (exit 2); once the first has finished, a run goes', async () => {
    const first = await spawnCliUntil(
      ['run', longSeq, '--station', stationFile, '--db', join(dir, 'a.db'), '--no-progress'],
      /^step 2\/2 /m,
    );
    live.push(first);
    const led = bench.instruments.find((i) => i.role === 'led-driver')!;
    const [second, listing, scpi, forced] = await Promise.all([
      cpobench(['run', 'smoke', '--station', stationFile, '--db', join(dir, 'b.db'), '--no-progress']),
      cpobench(['instruments', '--station', stationFile]),
      // the same instrument spelled without the board number
      cpobench(['scpi', led.resource.replace('TCPIP0::', 'TCPIP::'), '*IDN?']),
      cpobench(['scpi', '--force', led.resource, '*IDN?']),
    ]);

    expect(second.code, second.stderr).toBe(2);
    const holder = `pid ${first.proc.pid} on ${hostname()}`;
    expect(second.stderr).toMatch(/^cpobench: instrument in use: /);
    const named = bench.instruments.map((i) => `${i.role} (${i.resource})`).join(', ');
    expect(second.stderr).toContain(`${named} held by ${holder}`); // every instrument, in the station's order
    expect(second.stderr).toContain(`held by ${holder}`);
    expect(second.stderr).toMatch(/"cpobench run \S+hold-the-bench\.yaml --station \S+station\.yaml .*--no-progress"/);
    expect(second.stderr).toMatch(/station "mosaic-800g-sim\S*", since \d{4}-\d\d-\d\dT/);
    expect(second.stderr).not.toMatch(/^run /m); // refused before a run was created

    expect(listing.code, listing.stderr).toBe(0);
    for (const i of bench.instruments) {
      expect(listing.stdout).toContain(`${i.role} (${i.resource}): held by ${holder}`);
    }

    expect(scpi.code).toBe(2);
    expect(scpi.stdout).toBe('');
    expect(scpi.stderr).toContain(`is in use: held by ${holder}`);
    expect(scpi.stderr).toContain('--force sends anyway');
    expect(forced.code, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`warning: ${led.resource} is held by ${holder}`);
    expect(forced.stdout).toMatch(/^cpobench-sim,ULED-DRV-400,/);

    // the first run still owns the bench and is unharmed; stop it (Ctrl-C: safe state, ABORTED, exit 2)
    expect(first.proc.exitCode).toBeNull();
    first.proc.kill('SIGINT');
    expect((await first.exited).code).toBe(2);
    expect(lockFiles()).toEqual([]);

    const third = await cpobench([
      'run',
      'smoke',
      '--station',
      stationFile,
      '--db',
      join(dir, 'b.db'),
      '--no-progress',
    ]);
    expect(third.code, third.stderr).toBe(0);
    expect(lockFiles()).toEqual([]); // a run that finished gave the bench back
  }, 90_000);

  it('a server killed with SIGKILL holds the bench until the next run takes its locks over', async () => {
    const server = spawnCli(['serve', '--station', stationFile, '--db', join(dir, 's.db'), '--port', '0']);
    live.push(server);
    await until(() => server.stdout().includes('cpobench dashboard:'), 25_000, 'the server to listen');
    expect(lockFiles()).toHaveLength(bench.instruments.length);

    const refused = await cpobench(['run', 'smoke', '--station', stationFile, '--db', join(dir, 'c.db')]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`held by pid ${server.proc.pid} on ${hostname()}`);
    expect(refused.stderr).toMatch(
      /"cpobench serve --station \S+station\.yaml --db \S+ --port 0", station "mosaic-800g-sim"/,
    );

    server.proc.kill('SIGKILL');
    expect((await server.exited).signal).toBe('SIGKILL');
    expect(lockFiles()).toHaveLength(bench.instruments.length); // nobody cleaned up

    const next = await cpobench(['run', 'smoke', '--station', stationFile, '--db', join(dir, 'c.db'), '--no-progress']);
    expect(next.code, next.stderr).toBe(0);
    expect(lockFiles()).toEqual([]);
  }, 90_000);
});
