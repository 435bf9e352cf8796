/**
 * I/O-core benchmark: `*IDN?` round trips per second against one instrument, per link, with every client in the
 * same run against the same instrument:
 *   cpobench      createTransport + ScpiSession.query('*IDN?')
 *   node bare     no cpobench code: a raw net.Socket (TCP) or a bare serialport SerialPort (serial) ping-pong
 *   pyvisa-py     pyvisa with the pyvisa-py backend, in Debian's /usr/bin/python3 (when installed)
 *   python raw    a raw Python socket (TCP) or pyserial with blocking reads (serial), when installed
 *   lxi           lxi-tools' `lxi benchmark` (VXI-11 only), when installed
 * The instrument is either `--resource RES` (repeatable: any VISA resource cpobench accepts, e.g. a lab's own
 * `TCPIP0::192.168.1.20::5025::SOCKET`, `TCPIP0::192.168.1.20::inst0::INSTR` or `ASRL/dev/ttyUSB0::INSTR`), or by
 * default one simulated instrument served from a child process (test/bench/io-instrument.ts) over TCP loopback,
 * a pty (socat), VXI-11 and HiSLIP. VXI-11 and HiSLIP have no bare baseline: their target is pyvisa-py's rate.
 * A round runs every client once against each resource, one after the other (one connection at a time: an
 * instrument may serve one client only), each for `--seconds` after a warm-up; the rounds rotate the order.
 * Short slices in many rounds keep the clients' samples close in time, so load from other processes falls on
 * all of them alike; the medians of the per-round ratios are reported. Targets: TCP ≥ 0.95 × the bare socket
 * and ≥ pyvisa-py; serial, VXI-11 and HiSLIP ≥ pyvisa-py. Prints a table, then (LAST line) one JSON object.
 *
 *   npm run bench:io [-- --seconds 1 --rounds 7] [-- --resource RES [--resource RES2] [--baud 115200]]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { parseResource } from '../../src/transport/resource.ts';
import { measure, type NodeClient, openClient, type Rate } from './io-clients.ts';
import { lxiBenchmark, lxiInstalled } from './io-lxi.ts';
import { type PythonClient, type PythonWorker, pythonClientsFor, startPython } from './io-python.ts';

const TARGET_TCP_VS_BARE = 0.95;
const TARGET_VS_PYVISA = 1;
const WARMUP_MS = 200;
/** socat (the default instrument's pty bridge) restarts after each close: let it, before the next open. */
const SERIAL_GAP_MS = 300;
const ROOT = new URL('../..', import.meta.url).pathname;

function arg(name: string, dflt: number): number {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return dflt;
  const v = Number(process.argv[i + 1]);
  if (!(v > 0)) throw new Error(`--${name} needs a positive number`);
  return v;
}
function args(name: string): string[] {
  const out: string[] = [];
  process.argv.forEach((a, i) => {
    if (a === `--${name}`) {
      const v = process.argv[i + 1];
      if (!v || v.startsWith('--')) throw new Error(`--${name} needs a value`);
      out.push(v);
    }
  });
  return out;
}
const RUN_MS = arg('seconds', 1) * 1000;
const ROUNDS = Math.round(arg('rounds', 7));
/** Serial line rate for --resource ASRL... (a pty ignores it). */
const BAUD = Math.round(arg('baud', 9600));

type ClientName = NodeClient | PythonClient | 'lxi';
type Link = 'tcp' | 'serial' | 'vxi11' | 'hislip';
const LABEL: Record<ClientName, string> = {
  lxi: 'lxi-tools',
  session: 'cpobench',
  socket: 'net.Socket',
  serialport: 'serialport',
  pyvisa: 'pyvisa-py',
  pysocket: 'python socket',
  pyserial: 'pyserial',
};

interface Target {
  resource: string;
  link: Link;
  /** The bare Node client of the link (raw TCP and serial only). */
  bare: NodeClient | undefined;
  python: PythonClient[];
  workers: Map<PythonClient, PythonWorker>;
  lxi: boolean;
  /** The portmapper cpobench's client asks (VXI-11: the instrument's private one, when it has one). */
  portmapperPort: number | undefined;
  missing: string[];
}

interface Instrument {
  child: ChildProcess;
  tcp: string;
  serial: string;
  vxi11: string;
  portmapperPort: number;
  vxi11Standard: true | string;
  hislip: string;
}

/** Starts the default instrument in a child process; resolves with its resources. */
async function startInstrument(): Promise<Instrument> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/bench/io-instrument.ts'], {
    cwd: ROOT,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const line = await new Promise<string>((resolve, reject) => {
    let out = '';
    const timer = setTimeout(() => reject(new Error('the bench instrument did not start within 30 s')), 30_000);
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (nl >= 0) {
        clearTimeout(timer);
        resolve(out.slice(0, nl));
      }
    });
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the bench instrument exited (${code}) before it was ready`));
    });
  });
  const r = JSON.parse(line) as Omit<Instrument, 'child'>;
  return { child, ...r };
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? Number.NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Queries per lxi run: sized from its last rate so a run takes about --seconds. */
let lxiCount = 2000;

async function runClient(t: Target, c: ClientName): Promise<Rate> {
  if (c === 'lxi') {
    const host = t.resource.split('::')[1]!;
    const r = await lxiBenchmark(host, t.portmapperPort ?? 111, lxiCount);
    lxiCount = Math.max(200, Math.round((r.qps * RUN_MS) / 1000));
    return r;
  }
  if (c === 'session' || c === 'socket' || c === 'serialport') {
    const client = await openClient(c, t.resource, BAUD, c === 'session' ? t.portmapperPort : undefined);
    try {
      return await measure(client, RUN_MS, WARMUP_MS);
    } finally {
      await client.close();
    }
  }
  return t.workers.get(c)!.measure(RUN_MS / 1000, WARMUP_MS / 1000);
}

async function main(): Promise<void> {
  const given = args('resource');
  let child: ChildProcess | undefined;
  let resources = given;
  let inst: Instrument | undefined;
  if (given.length === 0) {
    inst = await startInstrument();
    child = inst.child;
    resources = [inst.tcp, inst.serial, inst.vxi11, inst.hislip];
  }
  const targets: Target[] = [];
  try {
    for (const resource of resources) {
      const kind = parseResource(resource).kind;
      if (kind === 'usbtmc') throw new Error(`${resource}: bench:io does not measure USB resources`);
      const link: Link = kind;
      const py = await pythonClientsFor(link);
      // standard VXI-11 clients ask port 111: when the default instrument could not take it, they cannot reach it
      const unreachable = link === 'vxi11' && inst && inst.vxi11Standard !== true ? inst.vxi11Standard : undefined;
      if (unreachable) {
        py.missing.push(...py.clients.map((c) => `${c} (${unreachable})`));
        py.clients = [];
      }
      const workers = new Map<PythonClient, PythonWorker>();
      for (const c of py.clients) workers.set(c, await startPython(c, resource, BAUD));
      const lxi = link === 'vxi11' && lxiInstalled() && /::inst0::INSTR$/i.test(resource);
      if (link === 'vxi11' && !lxi)
        py.missing.push(lxiInstalled() ? 'lxi (it speaks to inst0 only)' : 'lxi (lxi-tools is not installed)');
      targets.push({
        resource,
        link,
        bare: link === 'tcp' ? 'socket' : link === 'serial' ? 'serialport' : undefined,
        python: py.clients,
        workers,
        lxi,
        portmapperPort: link === 'vxi11' && inst ? inst.portmapperPort : undefined,
        missing: py.missing,
      });
      for (const m of py.missing) process.stderr.write(`${resource}: not measured: ${m}\n`);
    }
    // per resource and client: the rate and CPU of each round, and cpobench's rate over the client's, per round
    const samples = new Map<string, Map<ClientName, { qps: number[]; cpuUs: number[]; vs: number[] }>>();
    for (let r = 0; r < ROUNDS; r++) {
      for (const t of targets) {
        const clients: ClientName[] = [
          'session',
          ...(t.bare ? [t.bare] : []),
          ...t.python,
          ...(t.lxi ? (['lxi'] as const) : []),
        ];
        // rotate the order each round, so drift (thermal, other load) does not favour one client
        const order = clients.map((_, k) => clients[(k + r) % clients.length]!);
        const got = new Map<ClientName, Rate>();
        for (const c of order) {
          got.set(c, await runClient(t, c));
          if (t.link === 'serial') await new Promise((res) => setTimeout(res, SERIAL_GAP_MS));
        }
        const byClient = samples.get(t.resource) ?? new Map();
        samples.set(t.resource, byClient);
        const ours = got.get('session')!.qps;
        for (const [c, q] of got) {
          const x = byClient.get(c) ?? { qps: [], cpuUs: [], vs: [] };
          byClient.set(c, x);
          x.qps.push(q.qps);
          x.cpuUs.push(q.cpuUs);
          x.vs.push(ours / q.qps);
        }
        process.stderr.write(
          `round ${r + 1}/${ROUNDS} ${t.resource}: ${order.map((c) => `${c} ${got.get(c)!.qps.toFixed(0)}`).join(', ')} q/s\n`,
        );
      }
    }

    const results = targets.map((t) => {
      const m = samples.get(t.resource)!;
      const clients = Object.fromEntries(
        [...m].map(([c, x]) => [
          c,
          {
            qps: Math.round(median(x.qps)),
            cpuUs: Math.round(median(x.cpuUs) * 10) / 10,
            // cpobench's rate over this client's, median of the per-round ratios
            ratio: r3(median(x.vs)),
            rounds: x.vs.map(r3),
          },
        ]),
      ) as Partial<Record<ClientName, { qps: number; cpuUs: number; ratio: number; rounds: number[] }>>;
      const pyRaw: PythonClient = t.link === 'tcp' ? 'pysocket' : 'pyserial';
      const ratio = t.bare ? clients[t.bare]!.ratio : null;
      const ratioPyvisa = clients.pyvisa?.ratio ?? null;
      const pass =
        (t.link !== 'tcp' || (ratio ?? 0) >= TARGET_TCP_VS_BARE) &&
        (ratioPyvisa === null || ratioPyvisa >= TARGET_VS_PYVISA);
      return {
        resource: t.resource,
        link: t.link,
        session: clients.session!.qps,
        baseline: t.bare ? clients[t.bare]!.qps : null,
        baselineClient: t.bare ?? null,
        ratio,
        rounds: t.bare ? clients[t.bare]!.rounds : [],
        pyvisa: clients.pyvisa?.qps ?? null,
        ratioPyvisa,
        roundsPyvisa: clients.pyvisa?.rounds ?? [],
        pythonRaw: clients[pyRaw]?.qps ?? null,
        pythonRawClient: pyRaw,
        clients,
        notMeasured: t.missing,
        pass,
      };
    });
    const first = (link: Link) => results.find((x) => x.link === link);
    const out = {
      tcp: first('tcp'),
      pty: first('serial'),
      vxi11: first('vxi11'),
      hislip: first('hislip'),
      resources: results,
      seconds: RUN_MS / 1000,
      roundsRun: ROUNDS,
      target: { tcpVsBare: TARGET_TCP_VS_BARE, vsPyvisa: TARGET_VS_PYVISA },
      pass: results.every((x) => x.pass),
    };
    const rows = [['resource', 'client', 'q/s', 'CPU µs/query', 'cpobench ÷ client', 'per round']];
    for (const x of results) {
      for (const [c, v] of Object.entries(x.clients)) {
        const mine = c === 'session';
        rows.push([
          mine ? x.resource : '',
          LABEL[c as ClientName],
          String(v!.qps),
          v!.cpuUs.toFixed(1),
          mine ? '' : v!.ratio.toFixed(3),
          mine ? '' : v!.rounds.join(' '),
        ]);
      }
    }
    const w = rows[0]!.map((_, k) => Math.max(...rows.map((r) => r[k]!.length)));
    for (const r of rows)
      console.log(
        r
          .map((c, k) => c.padEnd(w[k]!))
          .join('  ')
          .trimEnd(),
      );
    console.log(
      `medians of ${ROUNDS} rounds of ${RUN_MS / 1000} s per client; CPU is the client process's (user + system)`,
    );
    console.log(
      `target: TCP >= ${TARGET_TCP_VS_BARE} x bare socket and >= pyvisa-py; serial, VXI-11, HiSLIP >= pyvisa-py: ${out.pass ? 'PASS' : 'FAIL'}`,
    );
    console.log(JSON.stringify(out));
  } finally {
    for (const t of targets) for (const w of t.workers.values()) w.close();
    if (child && child.exitCode === null) {
      await new Promise<void>((resolve) => {
        child!.once('exit', () => resolve());
        child!.kill('SIGTERM');
      });
    }
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
