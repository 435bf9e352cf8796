/**
 * Store-and-forward into a real PostgreSQL through a real hub: every run arrives whole and once, through a
 * duplicated batch, a PostgreSQL outage while two benches write, a hub restart mid-forward, skewed bench clocks;
 * a revoked bench is refused and keeps its data.
 */
import { connect } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BATCH_CONTENT_TYPE, encodeBatch } from '../../src/fleet/wire.ts';
import type { Hub } from '../../src/hub/server.ts';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';
import { sampleRecord, writeRecord } from '../store/fixtures.ts';
import {
  counts,
  expectSame,
  hubRecord,
  issueBenchToken,
  openTestBench,
  startTestHub,
  type TestBench,
  waitFor,
} from './helpers.ts';

let pgsrv: TempPg;
const dirs = tempDirs('cpobench-fleet-');

beforeAll(async () => {
  pgsrv = await startTempPg({ ownServer: true });
}, 60_000);
afterAll(async () => {
  await pgsrv?.close();
  dirs.cleanup();
});

async function benchPair(hub: Hub, names: string[], opts?: { batchLines?: number }): Promise<TestBench[]> {
  const dir = dirs.make();
  const out: TestBench[] = [];
  for (const n of names) out.push(await openTestBench(hub.url, await issueBenchToken(hub, n), n, dir, opts));
  return out;
}

describe('forwarding', () => {
  it('sends each run whole: the hub record equals the bench record, lane frames included', async () => {
    const hub = await startTestHub(pgsrv.url);
    const [b] = await benchPair(hub, ['fw-a']);
    try {
      const ids = [writeRecord(b!.store, sampleRecord()), writeRecord(b!.store, sampleRecord({ dut: 'SN-2' }))];
      await b!.forwarder.flush();
      for (const id of ids) await expectSame(hub, b!, id);
      expect(b!.forwarder.status()).toMatchObject({ pending: 0, cursor: b!.outbox.lastSeq() });
    } finally {
      await b!.close();
      await hub.close();
    }
  });

  it('applies a batch delivered twice once', async () => {
    const hub = await startTestHub(pgsrv.url);
    const [b] = await benchPair(hub, ['dup-a']);
    try {
      const before = await counts(pgsrv.url);
      const id = writeRecord(b!.store, sampleRecord());
      const batch = b!.outbox.read('dup-a', 0)!;
      const first = await b!.client.forward(batch);
      const again = await b!.client.forward(batch);
      expect(first).toEqual({ cursor: batch.upTo, duplicate: false });
      expect(again).toEqual({ cursor: batch.upTo, duplicate: true });
      const after = await counts(pgsrv.url);
      expect(after.measurements - before.measurements).toBe(
        b!.store.getRun(id).steps.reduce((n, s) => n + s.measurements.length, 0),
      );
      expect(after.runs - before.runs).toBe(1);
      await expectSame(hub, b!, id);
      // a batch after a gap is refused with the hub's cursor, and the forwarder resends from there
      const later = { ...batch, after: batch.upTo + 5, upTo: batch.upTo + 9 };
      await expect(b!.client.forward(later)).rejects.toMatchObject({ status: 409, body: { cursor: batch.upTo } });
    } finally {
      await b!.close();
      await hub.close();
    }
  });

  it('takes the JSON form of an earlier cpobench too; a malformed binary batch is refused naming what is wrong', async () => {
    const hub = await startTestHub(pgsrv.url);
    const token = await issueBenchToken(hub, 'wire-a');
    const [b] = [await openTestBench(hub.url, token, 'wire-a', dirs.make())];
    const post = (type: string, body: string | Buffer) =>
      fetch(`${hub.url}/api/benches/wire-a/batches`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': type },
        body: typeof body === 'string' ? body : new Uint8Array(body),
      });
    try {
      const id = writeRecord(b!.store, sampleRecord());
      const batch = b!.outbox.read('wire-a', 0)!;
      // BLOBs as base64 strings in JSON, as benches sent them before the binary form
      const items = batch.items.map((it) =>
        it.t !== 'measurement'
          ? it
          : {
              ...it,
              row: {
                ...it.row,
                lanes: it.row.lanes?.toString('base64') ?? null,
                vals: it.row.vals?.toString('base64') ?? null,
                verdicts: it.row.verdicts?.toString('base64') ?? null,
              },
            },
      );
      const asJson = await post('application/json', JSON.stringify({ ...batch, items }));
      expect(asJson.status).toBe(200);
      await expectSame(hub, b!, id);
      const [magic, len, header, ...blobs] = encodeBatch(batch);
      const bad = async (body: Buffer, msg: string) => {
        const r = await post(BATCH_CONTENT_TYPE, body);
        expect(r.status, msg).toBe(400);
        expect(((await r.json()) as { error: { message: string } }).error.message).toContain(msg);
      };
      await bad(Buffer.from('{"bench":"wire-a"}'), 'expected a application/vnd.cpobench.batch body starting with CPB1');
      await bad(Buffer.concat([magic!, len!, header!, ...blobs.slice(1)]), 'bad length');
      await bad(Buffer.concat([magic!, len!, header!, ...blobs, Buffer.from('x')]), '1 bytes after the last BLOB');
      await bad(Buffer.concat([magic!, Buffer.from([255, 255, 255, 0]), header!]), 'runs past the body');
    } finally {
      await b!.close();
      await hub.close();
    }
  });

  it('PostgreSQL stopped while two benches run, then back: everything arrives once', async () => {
    const hub = await startTestHub(pgsrv.url);
    const benches = await benchPair(hub, ['out-a', 'out-b'], { batchLines: 50 });
    try {
      for (const b of benches) b.forwarder.start();
      const ids = new Map<TestBench, string[]>(benches.map((b) => [b, []]));
      for (const b of benches) ids.get(b)!.push(writeRecord(b.store, sampleRecord({ dut: `${b.name}-0` })));
      await waitFor('first runs forwarded', async () => benches.every((b) => b.forwarder.status().pending === 0));
      await pgsrv.stop();
      // the benches go on: every run lands in their SQLite files while the lab database is down
      for (let i = 1; i <= 5; i++) {
        for (const b of benches) ids.get(b)!.push(writeRecord(b.store, sampleRecord({ dut: `${b.name}-${i}` })));
        await new Promise((r) => setTimeout(r, 200));
      }
      await waitFor('forwarders saw the outage', async () =>
        benches.every((b) => b.forwarder.status().lastError !== undefined),
      );
      expect(benches.every((b) => b.forwarder.status().pending > 0)).toBe(true);
      await pgsrv.start();
      await waitFor('backlog forwarded', async () => benches.every((b) => b.forwarder.status().pending === 0), 30_000);
      for (const b of benches) for (const id of ids.get(b)!) await expectSame(hub, b, id);
      const list = (await (await fetch(`${hub.url}/api/runs?limit=1000`)).json()) as { runs: { id: string }[] };
      const all = [...ids.values()].flat();
      expect(list.runs.filter((r) => all.includes(r.id)).length).toBe(all.length);
    } finally {
      for (const b of benches) await b.close();
      await hub.close();
    }
  }, 90_000);

  it('the hub restarted mid-forward: the bench resumes from the hub cursor, nothing lost or doubled', async () => {
    let hub = await startTestHub(pgsrv.url);
    const port = Number(new URL(hub.url).port);
    const [b] = await benchPair(hub, ['rst-a'], { batchLines: 20 });
    try {
      const ids = Array.from({ length: 4 }, (_, i) => writeRecord(b!.store, sampleRecord({ dut: `R-${i}` })));
      b!.forwarder.start();
      await waitFor('some batches forwarded', async () => b!.forwarder.status().batches >= 2);
      const admin = hub.adminToken;
      await hub.close();
      // the bench goes on measuring while the hub is down (and a fast machine may have sent the first four already)
      for (let i = 4; i < 8; i++) ids.push(writeRecord(b!.store, sampleRecord({ dut: `R-${i}` })));
      const mid = b!.forwarder.status();
      expect(mid.pending).toBeGreaterThan(0);
      hub = await startTestHub(pgsrv.url, { port, adminToken: admin });
      await waitFor('backlog forwarded after restart', async () => b!.forwarder.status().pending === 0, 30_000);
      for (const id of ids) await expectSame(hub, b!, id);
      const c = await counts(pgsrv.url);
      const r = await hub.pool.query(
        "SELECT count(*)::int AS n FROM measurements m JOIN runs r ON r.id = m.run_id WHERE r.bench = 'rst-a'",
      );
      expect(r.rows[0].n).toBe(
        ids.reduce((n, id) => n + b!.store.getRun(id).steps.reduce((k, s) => k + s.measurements.length, 0), 0),
      );
      expect(c.runs).toBeGreaterThanOrEqual(ids.length);
    } finally {
      await b!.close();
      await hub.close();
    }
  }, 60_000);

  it('orders by the bench sequence numbers, not by its clock', async () => {
    const hub = await startTestHub(pgsrv.url);
    const [b] = await benchPair(hub, ['skew-a']);
    try {
      // this bench's clock is a day ahead, then steps back two days between start and finish
      const id = b!.store.createRun({
        sequence: { name: 'mosaic-qual', hash: 'h' },
        station: { name: 's', snapshot: {} },
        dut: 'SKEW-1',
        operator: 'o',
        software: { version: '0' },
        startedAt: new Date(Date.now() + 86_400_000).toISOString(),
      });
      await b!.forwarder.flush();
      expect((await hubRecord(hub, id)).outcome).toBe('RUNNING');
      b!.store.finishRun(id, { outcome: 'PASS', finishedAt: new Date(Date.now() - 86_400_000).toISOString() });
      await b!.forwarder.flush();
      const rec = await hubRecord(hub, id);
      expect(rec.outcome).toBe('PASS');
      expect(Date.parse(rec.finishedAt!)).toBeLessThan(Date.parse(rec.startedAt));
    } finally {
      await b!.close();
      await hub.close();
    }
  });

  it('a bench started on a fresh results file under its old name starts over; the old file is refused', async () => {
    const hub = await startTestHub(pgsrv.url);
    const token = await issueBenchToken(hub, 'fresh-a');
    const old = await openTestBench(hub.url, token, 'fresh-a', dirs.make());
    let fresh: TestBench | undefined;
    try {
      for (let i = 0; i < 3; i++) writeRecord(old.store, sampleRecord({ dut: `OLD-${i}` }));
      await old.forwarder.flush();
      expect(old.forwarder.status().cursor).toBeGreaterThan(10);
      // the bench's disk replaced: a new file, its outbox numbered from 1 again
      fresh = await openTestBench(hub.url, token, 'fresh-a', dirs.make());
      const id = writeRecord(fresh.store, sampleRecord({ dut: 'NEW-1' }));
      await fresh.forwarder.flush();
      await expectSame(hub, fresh, id);
      writeRecord(old.store, sampleRecord({ dut: 'OLD-late' }));
      await expect(old.forwarder.flush()).rejects.toMatchObject({ status: 409 });
    } finally {
      await old.close();
      await fresh?.close();
      await hub.close();
    }
  });

  it('a bench with a revoked token is refused and keeps its data', async () => {
    const hub = await startTestHub(pgsrv.url);
    const [b] = await benchPair(hub, ['rev-a']);
    try {
      const first = writeRecord(b!.store, sampleRecord({ dut: 'REV-1' }));
      await b!.forwarder.flush();
      const del = await fetch(`${hub.url}/api/benches/rev-a/token`, {
        method: 'DELETE',
        headers: { authorization: `Bearer ${hub.adminToken}` },
      });
      expect(del.status).toBe(200);
      const second = writeRecord(b!.store, sampleRecord({ dut: 'REV-2' }));
      await expect(b!.forwarder.flush()).rejects.toMatchObject({ name: 'HubAuthError' });
      await expect(b!.client.heartbeat({ state: 'idle' })).rejects.toThrow(/token revoked/);
      b!.forwarder.start();
      await waitFor('forwarder reports the refusal', async () => b!.forwarder.status().refused);
      expect((await fetch(`${hub.url}/api/runs/${second}`)).status).toBe(404);
      // the bench's own record is untouched and still queued for the hub
      expect(b!.store.getRun(second).dut).toBe('REV-2');
      expect(b!.forwarder.status().pending).toBeGreaterThan(0);
      expect((await hubRecord(hub, first)).dut).toBe('REV-1');
    } finally {
      await b!.close();
      await hub.close();
    }
  });

  it('a hub closed with a request in flight lets it finish, then closes its keep-alive connection too', async () => {
    const hub = await startTestHub(pgsrv.url, { closeGraceMs: 30_000 });
    const sock = connect(Number(new URL(hub.url).port), '127.0.0.1');
    await new Promise((r) => sock.once('connect', r));
    let answer = '';
    sock.on('data', (d) => (answer += d.toString()));
    const ended = new Promise((r) => sock.once('close', r));
    // headers and half the body: a request the hub is still reading when it is told to close
    const body = JSON.stringify({ reason: 'close test' });
    sock.write(
      `POST /api/benches/close-a/token HTTP/1.1\r\nHost: x\r\nConnection: keep-alive\r\n` +
        `authorization: Bearer ${hub.adminToken}\r\ncontent-type: application/json\r\n` +
        `content-length: ${body.length}\r\n\r\n${body.slice(0, 5)}`,
    );
    await new Promise((r) => setTimeout(r, 100));
    const t0 = Date.now();
    const closed = hub.close();
    await new Promise((r) => setTimeout(r, 100));
    sock.write(body.slice(5));
    await closed;
    await ended;
    // answered, then the connection was closed well before the grace period would have cut it
    expect(answer).toMatch(/^HTTP\/1\.1 200/);
    expect(Date.now() - t0).toBeLessThan(10_000);
  });
});
