/**
 * WebSocket fan-out bench: 400-lane frames at 20 Hz to 100 clients on 127.0.0.1, one of them deliberately
 * slow (stops reading its socket). The server runs in a child process so client-side parsing does not
 * distort its timing; the parent measures frame latency (receive time - server `ts`) and samples the
 * server's RSS. Usage: npm run bench:ws [-- --seconds N --clients N --hz N --lanes N]. Last line is JSON.
 */
import { fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import WebSocket from 'ws';
import type { BenchEvent } from '../../src/core/record.ts';
import { createServer } from '../../src/server/app.ts';
import type { BenchController } from '../../src/server/controller.ts';
import { LiveState } from '../../src/server/live-state.ts';

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const v = i >= 0 ? Number(process.argv[i + 1]) : def;
  if (!Number.isFinite(v) || v <= 0) throw new Error(`--${name} needs a positive number`);
  return v;
}

const seconds = arg('seconds', 60);
const clientsN = Math.floor(arg('clients', 100));
const hz = arg('hz', 20);
const lanesN = Math.floor(arg('lanes', 400));

type ChildMsg =
  | { kind: 'ready'; url: string }
  | {
      kind: 'sample';
      t: number;
      rss: number;
      heap: number;
      clients: number;
      dropped: number;
      maxQueued: number;
      sent: number;
    };

// ---------------- server side (child process) ----------------
async function child(): Promise<void> {
  const listeners = new Set<(e: BenchEvent) => void>();
  const live = new LiveState({ station: 'bench', geometry: { rows: 20, cols: Math.ceil(lanesN / 20), lanes: lanesN } });
  const emit = (e: BenchEvent) => {
    live.apply(e);
    for (const l of listeners) l(e);
  };
  const controller: BenchController = {
    health: () => ({ ok: true, station: 'bench', version: 'bench', running: 'bench-run' }),
    instruments: () => [],
    sequences: () => [],
    startRun: async () => ({ id: 'bench-run' }),
    abortRun: async () => {},
    answerPrompt: async () => {},
    listRuns: () => [],
    getRun: () => undefined,
    exportRun: async () => undefined,
    snapshot: () => live.snapshot(),
    onEvent: (l) => {
      listeners.add(l);
      return () => listeners.delete(l);
    },
  };
  const srv = await createServer({ controller, token: 'bench-token-000000', host: '127.0.0.1', port: 0 });
  const lanes = Array.from({ length: lanesN }, (_, i) => i + 1);
  emit({
    type: 'run.started',
    run: {
      id: 'bench-run',
      sequence: { name: 'bench', hash: 'x' },
      dut: 'BENCH',
      operator: 'bench',
      startedAt: new Date().toISOString(),
    },
    steps: [{ index: 0, id: 'ber', name: 'BER gate', type: 'ber', measurements: [] }],
  });
  let n = 0;
  const timer = setInterval(() => {
    n++;
    const values = lanes.map((l) => Number((12 + Math.sin(n / 10 + l) * 3).toFixed(4)));
    emit({ type: 'lanes', runId: 'bench-run', step: 'ber', metric: 'rx_power', unit: 'uW', lanes, values });
    // a non-lane event per frame too: this is what a stuck client cannot coalesce, so it is dropped eventually
    emit({ type: 'progress', runId: 'bench-run', step: 'ber', done: n, total: 1e9 });
  }, 1000 / hz);
  const sampler = setInterval(() => {
    const s = srv.hub.stats();
    const m = process.memoryUsage();
    process.send!({
      kind: 'sample',
      t: Date.now(),
      rss: m.rss,
      heap: m.heapUsed,
      clients: s.clients,
      dropped: s.dropped,
      maxQueued: Math.max(0, ...s.perClient.map((p) => p.maxQueuedSeen)),
      sent: s.perClient.reduce((a, p) => a + p.sent, 0),
    } satisfies ChildMsg);
  }, 1000);
  process.send!({ kind: 'ready', url: srv.url } satisfies ChildMsg);
  process.on('disconnect', async () => {
    clearInterval(timer);
    clearInterval(sampler);
    await srv.close();
    process.exit(0);
  });
}

// ---------------- clients (parent process) ----------------
function pct(sorted: number[], p: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

async function parent(): Promise<void> {
  const proc = fork(fileURLToPath(import.meta.url), ['--child', ...process.argv.slice(2)], {
    execArgv: process.execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const samples: Array<Extract<ChildMsg, { kind: 'sample' }>> = [];
  const url = await new Promise<string>((resolve, reject) => {
    proc.on('message', (m: ChildMsg) => {
      if (m.kind === 'ready') resolve(m.url);
      else samples.push(m);
    });
    proc.once('exit', (code) => reject(new Error(`server exited ${code}`)));
  });
  const wsUrl = `${url.replace(/^http/, 'ws')}/ws`;
  const latencies: number[] = [];
  let frames = 0;
  let measuring = false;
  let slowClosed = false;
  let slowFrames = 0;
  const sockets: WebSocket[] = [];
  await Promise.all(
    Array.from({ length: clientsN }, (_, i) => {
      const ws = new WebSocket(wsUrl, { perMessageDeflate: false });
      sockets.push(ws);
      return new Promise<void>((resolve, reject) => {
        ws.once('open', () => {
          if (i === 0) {
            // the slow client: stop reading; let TCP and the server's bounds deal with it
            (ws as unknown as { _socket: { pause(): void } })._socket.pause();
            ws.on('close', () => {
              slowClosed = true;
            });
          }
          resolve();
        });
        ws.once('error', reject);
        ws.on('message', (data) => {
          if (i === 0) {
            slowFrames++;
            return;
          }
          const now = Date.now();
          const s = String(data);
          if (!s.startsWith('{"seq"') || !s.includes('"type":"lanes"')) return;
          const ts = Number(/"ts":(\d+)/.exec(s)?.[1]);
          JSON.parse(s); // a real client parses every frame
          if (measuring) {
            latencies.push(now - ts);
            frames++;
          }
        });
      });
    }),
  );
  const warmup = Math.min(3, seconds / 5);
  console.log(
    `bench:ws ${clientsN} clients (1 slow), ${lanesN}-lane frames at ${hz} Hz, ${seconds} s (+${warmup} s warm-up)`,
  );
  await new Promise((r) => setTimeout(r, warmup * 1000));
  measuring = true;
  const t0 = Date.now();
  const rssFirst = samples.at(-1)?.rss ?? 0;
  const every = Math.max(1, Math.round(seconds / 10));
  for (let s = 0; s < seconds; s += every) {
    await new Promise((r) => setTimeout(r, Math.min(every, seconds - s) * 1000));
    const sorted = latencies.slice().sort((a, b) => a - b);
    const last = samples.at(-1)!;
    console.log(
      `t=${String(Math.round((Date.now() - t0) / 1000)).padStart(3)} s  frames=${frames}  p50=${pct(sorted, 50)} ms  p99=${pct(sorted, 99)} ms  ` +
        `rss=${(last.rss / 2 ** 20).toFixed(1)} MiB  heap=${(last.heap / 2 ** 20).toFixed(1)} MiB  clients=${last.clients}  dropped=${last.dropped}`,
    );
  }
  measuring = false;
  const measuredS = (Date.now() - t0) / 1000;
  const sorted = latencies.slice().sort((a, b) => a - b);
  const measured = samples.filter((x) => x.t >= t0);
  const rss = measured.map((x) => x.rss / 2 ** 20);
  const half = Math.floor(rss.length / 2);
  const mean = (a: number[]) => a.reduce((x, y) => x + y, 0) / Math.max(1, a.length);
  const result = {
    bench: 'ws',
    clients: clientsN,
    slowClients: 1,
    lanes: lanesN,
    hz,
    seconds,
    framesMeasured: frames,
    measuredSeconds: Number(measuredS.toFixed(1)),
    expectedFrames: Math.round((clientsN - 1) * hz * measuredS),
    p50Ms: pct(sorted, 50),
    p99Ms: pct(sorted, 99),
    maxMs: sorted.at(-1) ?? null,
    rssMiBStart: Number((rssFirst / 2 ** 20).toFixed(1)),
    rssMiBFirstHalfMean: Number(mean(rss.slice(0, half)).toFixed(1)),
    rssMiBSecondHalfMean: Number(mean(rss.slice(half)).toFixed(1)),
    rssMiBMax: Number(Math.max(...rss).toFixed(1)),
    slowClientDropped: (samples.at(-1)?.dropped ?? 0) > 0 || slowClosed,
    slowClientMessagesRead: slowFrames,
    maxQueuedPerClient: Math.max(...samples.map((x) => x.maxQueued)),
    targetP99Ms: 50,
    ok: pct(sorted, 99) < 50,
  };
  for (const ws of sockets) ws.terminate();
  proc.disconnect();
  console.log(JSON.stringify(result));
}

if (process.argv.includes('--child')) await child();
else await parent();
