/**
 * Node clients for `npm run bench:io`: each does one `*IDN?` round trip per `once()`.
 *   session     cpobench: createTransport + ScpiSession.query('*IDN?') (any resource: raw TCP, serial, VXI-11, HiSLIP)
 *   socket      a bare net.Socket ping-pong (TCP), no cpobench code
 *   serialport  a bare serialport SerialPort ping-pong (serial), no cpobench code
 * The bare clients do the work the session cannot skip (split at LF, drop a trailing CR, UTF-8 decode to a
 * string), so a ratio measures what the session adds on top of that.
 */
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { SerialPort } from 'serialport';
import { ScpiSession } from '../../src/scpi/session.ts';
import { createTransport } from '../../src/transport/open.ts';
import { parseResource } from '../../src/transport/resource.ts';

/** A ping-pong client: `once()` does one *IDN? round trip and resolves with the reply text. */
export interface Client {
  once(): Promise<string>;
  close(): Promise<void>;
}

export type NodeClient = 'session' | 'socket' | 'serialport';

/** One timed run of a client: queries per second, and this process's CPU time per query (user + system). */
export interface Rate {
  qps: number;
  cpuUs: number;
}

/**
 * Warms up for `warmupMs`, then counts round trips for `ms`. Every reply must equal the first one. The CPU time
 * is the whole process's, so it is the client's alone when the instrument runs elsewhere.
 */
export async function measure(c: Client, ms: number, warmupMs: number): Promise<Rate> {
  const expected = await c.once();
  const check = (s: string) => {
    if (s !== expected) throw new Error(`unexpected reply ${JSON.stringify(s)}, expected ${JSON.stringify(expected)}`);
  };
  let t0 = performance.now();
  while (performance.now() - t0 < warmupMs) check(await c.once());
  const cpu0 = process.cpuUsage();
  t0 = performance.now();
  let n = 0;
  let t = t0;
  while (t - t0 < ms) {
    check(await c.once());
    n++;
    if ((n & 15) === 0) t = performance.now();
  }
  const wall = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { qps: n / (wall / 1000), cpuUs: (cpu.user + cpu.system) / n };
}

export async function openClient(
  kind: NodeClient,
  resource: string,
  baudRate = 9600,
  portmapperPort?: number,
): Promise<Client> {
  const r = parseResource(resource);
  if (kind === 'session')
    return retryOpen(r.kind === 'serial', () => sessionClient(resource, baudRate, portmapperPort));
  if (kind === 'socket') {
    if (r.kind !== 'tcp') throw new Error(`${resource}: the bare socket client needs a TCPIP resource`);
    return rawTcpClient(r.host, r.port);
  }
  if (r.kind !== 'serial') throw new Error(`${resource}: the bare serialport client needs an ASRL resource`);
  return retryOpen(true, () => rawSerialClient(r.path, baudRate));
}

async function sessionClient(resource: string, baudRate: number, portmapperPort?: number): Promise<Client> {
  const s = new ScpiSession(
    createTransport(resource, { reconnect: false, baudRate, ...(portmapperPort ? { portmapperPort } : {}) }),
    {
      name: 'bench',
      timeoutMs: 5000,
    },
  );
  try {
    await s.open();
  } catch (err) {
    await s.close();
    throw err;
  }
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

async function rawSerialClient(path: string, baudRate: number): Promise<Client> {
  const port = new SerialPort({ path, baudRate, autoOpen: false });
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
async function retryOpen(retry: boolean, open: () => Promise<Client>): Promise<Client> {
  let last: unknown;
  for (let k = 0; k < (retry ? 100 : 1); k++) {
    try {
      return await open();
    } catch (err) {
      last = err;
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw last;
}
