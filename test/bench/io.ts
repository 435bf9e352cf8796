/**
 * I/O-core benchmark: `*IDN?` round trips per second against one simulated instrument (the server core's
 * ScpiInstrument, served with serveTcp), over TCP loopback and over a pty (socat, bridgePty):
 *   (a) through cpobench: createTransport + ScpiSession.query('*IDN?'),
 *   (b) a bare baseline with no cpobench code: a raw net.Socket (TCP) or a bare serialport SerialPort (pty)
 *       ping-pong: write "*IDN?\n", wait for the LF-terminated reply, decode it to a string, repeat.
 * The baseline does the work the session cannot skip (split at LF, drop a trailing CR, UTF-8 decode to a
 * string, check the reply), so the ratio measures what the session adds on top of that.
 * After a warm-up, each (link, client) pair runs for a fixed time; the rounds alternate session/baseline and the
 * median of the rounds is reported. Target: session ≥ 0.85 × baseline on both links.
 * Prints a table, then (LAST line) one JSON object.
 *
 *   npm run bench:io [-- --seconds 3 --rounds 3]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { ScpiSession } from '../../src/scpi/session.ts';
import { ScpiInstrument } from '../../src/sim/server/instrument.ts';
import { bridgePty, type PtyBridgeHandle } from '../../src/sim/server/pty-bridge.ts';
import { serveTcp } from '../../src/sim/server/tcp-server.ts';
import { createTransport } from '../../src/transport/open.ts';
import { formatSerialResource } from '../../src/transport/resource.ts';

const TARGET = 0.85;
const WARMUP_MS = 500;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) throw new Error(`--${name} needs a positive number`);
  return v;
}
const RUN_MS = arg('seconds', 3) * 1000;
const ROUNDS = Math.round(arg('rounds', 3));

const IDENTITY = { manufacturer: 'cpobench-sim', model: 'BENCH-IO', serial: 'SN0001', firmware: '1.0' };
const IDN = `${IDENTITY.manufacturer},${IDENTITY.model},${IDENTITY.serial},${IDENTITY.firmware}`;

/** A ping-pong client: `once()` does one *IDN? round trip and resolves with the reply text. */
interface Client {
  once(): Promise<string>;
  close(): Promise<void>;
}

/** Runs `warmup` then counts round trips for `ms`; returns queries per second. */
async function measure(c: Client, ms: number, warmupMs: number): Promise<number> {
  const check = (s: string) => {
    if (s !== IDN) throw new Error(`unexpected reply ${JSON.stringify(s)}`);
  };
  let t0 = performance.now();
  while (performance.now() - t0 < warmupMs) check(await c.once());
  t0 = performance.now();
  let n = 0;
  let t = t0;
  while (t - t0 < ms) {
    check(await c.once());
    n++;
    if ((n & 15) === 0) t = performance.now();
  }
  return n / ((performance.now() - t0) / 1000);
}

// ------------------------------------------------------------------------------------------------ clients

async function sessionClient(resource: string): Promise<Client> {
  const s = new ScpiSession(createTransport(resource, { reconnect: false }), { name: 'bench', timeoutMs: 5000 });
  await s.open();
  return { once: () => s.query('*IDN?'), close: () => s.close() };
}

/**
 * The bare ping-pong on any byte stream: accumulate chunks, split at LF, drop CR, decode UTF-8 (fatal, as the
 * session does). One request in flight at a time.
 */
function pingPong(write: (b: Buffer) => void, onData: (fn: (chunk: Buffer) => void) => void): Client['once'] {
  const cmd = Buffer.from('*IDN?\n');
  const utf8 = new TextDecoder('utf-8', { fatal: true });
  let pending: Buffer[] = [];
  let waiter: ((s: string) => void) | null = null;
  onData((chunk) => {
    let start = 0;
    for (;;) {
      const lf = chunk.indexOf(0x0a, start);
      if (lf < 0) {
        if (start < chunk.length) pending.push(chunk.subarray(start));
        return;
      }
      let line = chunk.subarray(start, lf);
      if (pending.length) {
        pending.push(line);
        line = Buffer.concat(pending);
        pending = [];
      }
      if (line.length && line[line.length - 1] === 0x0d) line = line.subarray(0, line.length - 1);
      const w = waiter;
      waiter = null;
      w?.(utf8.decode(line));
      start = lf + 1;
    }
  });
  return () =>
    new Promise<string>((resolve) => {
      waiter = resolve;
      write(cmd);
    });
}

async function rawTcpClient(host: string, port: number): Promise<Client> {
  const sock = net.connect({ host, port });
  await new Promise<void>((resolve, reject) => {
    sock.once('connect', resolve);
    sock.once('error', reject);
  });
  sock.setNoDelay(true);
  const once = pingPong(
    (b) => sock.write(b),
    (fn) => sock.on('data', fn),
  );
  return {
    once,
    close: () =>
      new Promise<void>((resolve) => {
        sock.once('close', () => resolve());
        sock.destroy();
      }),
  };
}

async function rawSerialClient(path: string): Promise<Client> {
  const port = new SerialPort({ path, baudRate: 9600, autoOpen: false });
  await new Promise<void>((resolve, reject) => port.open((err) => (err ? reject(err) : resolve())));
  await new Promise<void>((resolve) => port.flush(() => resolve()));
  const once = pingPong(
    (b) => port.write(b),
    (fn) => port.on('data', fn),
  );
  port.on('error', (err) => process.stderr.write(`baseline serial port: ${err.message}\n`));
  return { once, close: () => new Promise<void>((resolve) => port.close(() => resolve())) };
}

/** Opening a pty right after the previous client closed it can race socat's restart: retry briefly. */
async function retryOpen(open: () => Promise<Client>): Promise<Client> {
  let last: unknown;
  for (let k = 0; k < 100; k++) {
    try {
      return await open();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw last;
}

// ------------------------------------------------------------------------------------------------ main

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function main(): Promise<void> {
  const instrument = new ScpiInstrument({ role: 'demo', identity: IDENTITY });
  const server = await serveTcp(instrument);
  const dir = mkdtempSync(join(tmpdir(), 'cpobench-bench-io-'));
  const ptyPath = join(dir, 'demo');
  let bridge: PtyBridgeHandle | undefined;
  try {
    bridge = await bridgePty(ptyPath, server.port, server.host);

    type Link = 'tcp' | 'pty';
    type Kind = 'session' | 'baseline';
    const open: Record<Link, Record<Kind, () => Promise<Client>>> = {
      tcp: {
        session: () => sessionClient(server.resource),
        baseline: () => rawTcpClient(server.host, server.port),
      },
      pty: {
        session: () => retryOpen(() => sessionClient(formatSerialResource(ptyPath))),
        baseline: () => retryOpen(() => rawSerialClient(ptyPath)),
      },
    };
    const rates: Record<Link, Record<Kind, number[]>> = {
      tcp: { session: [], baseline: [] },
      pty: { session: [], baseline: [] },
    };
    const ratios: Record<Link, number[]> = { tcp: [], pty: [] };
    for (let r = 0; r < ROUNDS; r++) {
      for (const link of ['tcp', 'pty'] as const) {
        // alternate which client goes first, so drift (thermal, other load) does not favour one side
        const order: Kind[] = r % 2 === 0 ? ['session', 'baseline'] : ['baseline', 'session'];
        const got: Partial<Record<Kind, number>> = {};
        for (const kind of order) {
          const c = await open[link][kind]();
          try {
            got[kind] = await measure(c, RUN_MS, WARMUP_MS);
          } finally {
            await c.close();
            // socat notices the closed pty, exits and is restarted by bridgePty: give it time, or the next
            // open may catch the old pty just before its master goes away (EIO on the first write)
            if (link === 'pty') await new Promise((r) => setTimeout(r, 300));
          }
          rates[link][kind].push(got[kind]!);
        }
        ratios[link].push(got.session! / got.baseline!);
        process.stderr.write(
          `round ${r + 1}/${ROUNDS} ${link}: session ${got.session!.toFixed(0)} q/s, ` +
            `baseline ${got.baseline!.toFixed(0)} q/s, ratio ${(got.session! / got.baseline!).toFixed(3)}\n`,
        );
      }
    }

    const result = (link: Link) => ({
      session: Math.round(median(rates[link].session)),
      baseline: Math.round(median(rates[link].baseline)),
      // median of the per-round ratios: each round's pair ran back to back
      ratio: Math.round(median(ratios[link]) * 1000) / 1000,
      rounds: ratios[link].map((x) => Math.round(x * 1000) / 1000),
    });
    const tcp = result('tcp');
    const pty = result('pty');
    const out = {
      tcp,
      pty,
      seconds: RUN_MS / 1000,
      roundsRun: ROUNDS,
      target: TARGET,
      pass: tcp.ratio >= TARGET && pty.ratio >= TARGET,
    };
    const rows = [
      ['link', 'cpobench q/s', 'baseline q/s', 'ratio a/b', 'per round'],
      ['TCP loopback', String(tcp.session), String(tcp.baseline), tcp.ratio.toFixed(3), tcp.rounds.join(' ')],
      ['pty (socat)', String(pty.session), String(pty.baseline), pty.ratio.toFixed(3), pty.rounds.join(' ')],
    ];
    const w = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
    for (const r of rows) console.log(r.map((c, k) => c.padEnd(w[k]!)).join('  '));
    console.log(`target: ratio >= ${TARGET} on both links: ${out.pass ? 'PASS' : 'FAIL'}`);
    console.log(JSON.stringify(out));
  } finally {
    await bridge?.close();
    await server.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
