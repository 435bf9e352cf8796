/**
 * Simulated-bench benchmark, over real TCP loopback through the project's ScpiSession:
 *   - 400-lane channel-list queries (`MEAS:POW? (@1:400)`) per second,
 *   - CMOS full-frame block transfers (`FETC:FRAM?`) per second and MB/s,
 *   - the wall time of a simulated 1e-12/95% BER gate (3e12 bits at 2 Gb/s = 1500 s) at time scale 1000,
 *   - in process, the link model after one state change: the powers of 400 lanes (what a MEAS:POW? needs), and
 *     the powers plus the per-bit statistics of 400 lanes (what a BER query needs), µs each.
 * Prints a table, then (LAST line) one JSON object.
 *
 *   npm run bench:sim
 */
import { performance } from 'node:perf_hooks';
import { ScpiSession } from '../../src/scpi/session.ts';
import { type Bench, startBench } from '../../src/sim/bench.ts';
import { LinkModel } from '../../src/sim/model/link-model.ts';
import { loadProfile } from '../../src/sim/model/profile.ts';
import { createTransport } from '../../src/transport/open.ts';

const RUN_MS = 2000;

async function session(bench: Bench, role: string): Promise<ScpiSession> {
  const e = bench.instruments.find((i) => i.role === role);
  if (!e) throw new Error(`no ${role}`);
  const s = new ScpiSession(createTransport(e.resource), { name: role, timeoutMs: 10_000 });
  await s.open();
  return s;
}

async function rate<T>(fn: () => Promise<T>, check: (v: T) => void): Promise<{ n: number; s: number }> {
  for (let k = 0; k < 20; k++) check(await fn()); // warm-up
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < RUN_MS) {
    check(await fn());
    n++;
  }
  return { n, s: (performance.now() - t0) / 1000 };
}

/** µs per call of read() after a one-lane state change (alternating its path loss), over RUN_MS. */
function perChange(read: (m: LinkModel) => unknown): number {
  const m = LinkModel.operating(loadProfile('mosaic-800g'));
  let k = 0;
  const step = () => {
    m.setPathLoss([1], k++ % 2);
    read(m);
  };
  for (let i = 0; i < 50; i++) step(); // warm-up
  const t0 = performance.now();
  let n = 0;
  while (performance.now() - t0 < RUN_MS) {
    step();
    n++;
  }
  return ((performance.now() - t0) * 1000) / n;
}

async function main(): Promise<void> {
  // 400-lane list queries and the gate on the PD bench
  const pd = await startBench({ profile: 'mosaic-800g', seed: 1, timeScale: 1000 });
  const led = await session(pd, 'led-driver');
  const rx = await session(pd, 'pd-receiver');
  await led.query('OUTP ON,(@1:400);*OPC?');
  const list = await rate(
    () => rx.queryNumbers('MEAS:POW? (@1:400)'),
    (v) => {
      if (v.length !== 400) throw new Error(`expected 400 values, got ${v.length}`);
    },
  );
  const t0 = performance.now();
  await rx.write('SENS:GATE:TIME 1500;:SENS:GATE:STAT ON');
  while ((await rx.query('SENS:GATE:STAT?')) === '1') await new Promise((r) => setTimeout(r, 5));
  const gateWallS = (performance.now() - t0) / 1000;
  const bits = (await rx.queryNumbers('FETC:BITS? (@1)'))[0]!;
  await led.close();
  await rx.close();
  await pd.close();

  // CMOS frames
  const cm = await startBench({ profile: 'mosaic-800g-cmos', seed: 1 });
  const led2 = await session(cm, 'led-driver');
  const cam = await session(cm, 'cmos-receiver');
  await led2.query('OUTP ON,(@1:400);*OPC?');
  const [w, h] = await cam.queryNumbers('SENS:FRAM:SIZE?');
  const frameBytes = w! * h! * 2;
  const frames = await rate(
    () => cam.queryBlock('FETC:FRAM?'),
    (b) => {
      if (b.length !== frameBytes) throw new Error(`expected ${frameBytes} bytes, got ${b.length}`);
    },
  );
  await led2.close();
  await cam.close();
  await cm.close();

  const powersUs = perChange((m) => m.receivedPower());
  const berUs = perChange((m) => m.ber());

  const result = {
    listQueriesPerS: Math.round(list.n / list.s),
    listLanes: 400,
    framesPerS: Math.round((frames.n / frames.s) * 10) / 10,
    frameBytes,
    frameMBPerS: Math.round(((frames.n * frameBytes) / frames.s / 1e6) * 100) / 100,
    gate1e12WallS: Math.round(gateWallS * 1000) / 1000,
    gateBits: bits,
    gateTimeScale: 1000,
    modelPowersUs: Math.round(powersUs),
    modelPowersAndBerUs: Math.round(berUs),
  };
  const rows: [string, string][] = [
    ['MEAS:POW? (@1:400) round trips/s (TCP, ScpiSession)', String(result.listQueriesPerS)],
    [`FETC:FRAM? ${w}x${h} uint16 blocks/s`, String(result.framesPerS)],
    ['FETC:FRAM? throughput, MB/s', String(result.frameMBPerS)],
    ['1e-12/95% gate (1500 s, 3e12 bits) wall time at x1000, s', String(result.gate1e12WallS)],
    ['link model after a state change: 400-lane powers, µs', String(result.modelPowersUs)],
    ['link model after a state change: 400-lane powers + BER (statistics), µs', String(result.modelPowersAndBerUs)],
  ];
  const width = Math.max(...rows.map((r) => r[0].length));
  console.log(`${'measure'.padEnd(width)}  value`);
  for (const [k, v] of rows) console.log(`${k.padEnd(width)}  ${v}`);
  console.log(JSON.stringify(result));
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
