/**
 * The lab database gone for minutes, not seconds: PostgreSQL stopped for over two minutes while two benches go
 * on running and storing runs, the forwarders backing off with their default retry (DEFAULT_RETRY_MS) and the
 * hub answering 503 meanwhile; then PostgreSQL comes back, the hub's pool reconnects and every run arrives once,
 * equal to the bench's record. Its own file (and its own PostgreSQL) so it runs beside the rest of the suite.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEFAULT_RETRY_MS } from '../../src/fleet/forwarder.ts';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';
import { sampleRecord, writeRecord } from '../store/fixtures.ts';
import { expectSame, issueBenchToken, openTestBench, startTestHub, type TestBench, waitFor } from './helpers.ts';

/** How long PostgreSQL stays down (the issue: "for minutes"). */
const OUTAGE_MS = 125_000;
/** A run on each bench this often while the database is down. */
const RUN_EVERY_MS = 2_000;

let pgsrv: TempPg;
const dirs = tempDirs('cpobench-pg-outage-');

beforeAll(async () => {
  pgsrv = await startTempPg({ ownServer: true });
}, 60_000);
afterAll(async () => {
  await pgsrv?.close();
  dirs.cleanup();
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Failed attempts a forwarder makes in `ms` with back-off `first` doubling up to `cap`, ignoring send time. */
function expectedAttempts(ms: number, [first, cap]: readonly [number, number]): number {
  let n = 0;
  let t = 0;
  for (let wait = first; t <= ms; wait = Math.min(cap, wait * 2)) {
    n++;
    t += wait;
  }
  return n;
}

describe('a PostgreSQL outage of minutes', () => {
  it(`PostgreSQL stopped for ${OUTAGE_MS / 1000} s while two benches run, then back: everything arrives once`, async () => {
    const hub = await startTestHub(pgsrv.url);
    const dir = dirs.make();
    const benches: TestBench[] = [];
    for (const n of ['long-a', 'long-b'])
      benches.push(await openTestBench(hub.url, await issueBenchToken(hub, n), n, dir, { retryMs: 'default' }));
    const ids = new Map<TestBench, string[]>(benches.map((b) => [b, []]));
    const write = (b: TestBench, tag: string) =>
      ids.get(b)!.push(writeRecord(b.store, sampleRecord({ dut: `${b.name}-${tag}` })));
    try {
      for (const b of benches) b.forwarder.start();
      for (const b of benches) write(b, 'before');
      await waitFor('first runs forwarded', async () => benches.every((b) => b.forwarder.status().pending === 0));
      const failuresBefore = benches.map((b) => b.forwarder.status().failures);

      await pgsrv.stop();
      const down = Date.now();
      // the benches go on measuring for the whole outage: every run lands in their SQLite files
      for (let k = 0; Date.now() - down < OUTAGE_MS; k++) {
        for (const b of benches) write(b, `down-${k}`);
        await sleep(RUN_EVERY_MS);
      }
      const outageMs = Date.now() - down;
      // the hub is up and says why nothing is taken; the benches' own data is all there, queued
      const health = await fetch(`${hub.url}/api/runs?limit=1`);
      expect(health.status).toBe(503);
      expect(await health.text()).toMatch(/the lab database is unavailable/);
      const attempts = expectedAttempts(outageMs, DEFAULT_RETRY_MS);
      for (const [i, b] of benches.entries()) {
        const s = b.forwarder.status();
        expect(s.lastError, b.name).toMatch(/lab database is unavailable/);
        expect(s.pending, b.name).toBeGreaterThan(OUTAGE_MS / RUN_EVERY_MS);
        // it kept trying, backing off to one attempt per DEFAULT_RETRY_MS[1]: neither gave up nor spun
        const failed = s.failures - failuresBefore[i]!;
        expect(failed, `${b.name}: failed attempts during ${outageMs} ms`).toBeGreaterThanOrEqual(attempts - 3);
        expect(failed, `${b.name}: failed attempts during ${outageMs} ms`).toBeLessThanOrEqual(attempts + 2);
      }

      await pgsrv.start();
      const up = Date.now();
      for (const b of benches) write(b, 'after');
      await waitFor('backlog forwarded', async () => benches.every((b) => b.forwarder.status().pending === 0), 90_000);
      // back within one back-off cap (the next attempt) plus the time to send the backlog
      expect(Date.now() - up).toBeLessThan(DEFAULT_RETRY_MS[1] + 60_000);

      // every run whole and equal to the bench's record, each once, and nothing else of these benches
      for (const b of benches) for (const id of ids.get(b)!) await expectSame(hub, b, id);
      for (const b of benches) {
        const mine = ids.get(b)!;
        const r = await hub.pool.query(
          `SELECT (SELECT count(*)::int FROM runs WHERE bench = $1) AS runs,
                  (SELECT count(*)::int FROM measurements m JOIN runs r ON r.id = m.run_id WHERE r.bench = $1) AS meas,
                  (SELECT cursor FROM benches WHERE name = $1) AS cursor`,
          [b.name],
        );
        const measured = mine.reduce(
          (n, id) => n + b.store.getRun(id).steps.reduce((k, s) => k + s.measurements.length, 0),
          0,
        );
        expect(r.rows[0]).toEqual({ runs: mine.length, meas: measured, cursor: b.outbox.lastSeq() });
      }
    } finally {
      for (const b of benches) await b.close();
      await hub.close();
    }
  }, 300_000);
});
