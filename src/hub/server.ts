/**
 * The lab's hub: one HTTP server on one PostgreSQL. Benches (each with its own token) register, heartbeat,
 * forward their outbox and take jobs; browsers get the fleet view (live over WebSocket), the run search, each
 * run's record and reports, and the analytics views. Reads are open (bind it to the lab network you trust);
 * queueing jobs and issuing/revoking bench tokens take the hub's admin token.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import type pg from 'pg';
import type { BenchRegistration, BenchStatus } from '../fleet/hub-client.ts';
import { BATCH_CONTENT_TYPE, decodeBatch, type ForwardBatch, fromJsonBatch } from '../fleet/wire.ts';
import { isReportFormat, renderReport } from '../report/index.ts';
import { laneYield, trends, waferMap } from './analytics.ts';
import {
  authenticate,
  type BenchView,
  benchCursor,
  checkBenchName,
  HeartbeatWriter,
  hash,
  issueToken,
  listBenches,
  registerBench,
  revokeToken,
} from './benches.ts';
import { FleetStream } from './fleet-stream.ts';
import { applyBatch, BatchGapError, OriginError } from './ingest.ts';
import {
  claimJob,
  enqueueJob,
  getJob,
  JobConflictError,
  JobRequest,
  jobFinished,
  jobStarted,
  listJobs,
  reapLapsed,
} from './jobs.ts';
import { hubPage } from './pages.ts';
import { getHubRun, type HubRunFilter, searchRuns } from './runs.ts';
import { migrateFleet } from './schema.ts';
import { openPool } from './sql.ts';

export interface HubOptions {
  pgUrl: string;
  host?: string;
  /** 0 picks a free port. */
  port?: number;
  /** Admin token (queue jobs, issue and revoke bench tokens); generated when absent. */
  adminToken?: string;
  /** A bench counts as offline after this long without a heartbeat (default 10 s). */
  offlineAfterMs?: number;
  /** Lease of a job when its request gives none (default 60 s; renewed by each heartbeat). */
  defaultLeaseMs?: number;
  /** How often lapsed leases are looked for (default 1 s). */
  reapEveryMs?: number;
  /** On close, how long requests in flight may take before their connections are cut (default 5 s). */
  closeGraceMs?: number;
  /** Connections to PostgreSQL (default 10). */
  poolSize?: number;
  /** Heartbeats less than this apart are written to PostgreSQL together (default 100 ms). */
  heartbeatGapMs?: number;
  /** The fleet view's updates: changes closer together than this are merged into one message (default 20 ms). */
  fleetMinGapMs?: number;
}

export interface Hub {
  url: string;
  adminToken: string;
  pool: pg.Pool;
  /** Runs one pass of the lease check now (tests; the hub also runs it every reapEveryMs). */
  reap(): Promise<number>;
  close(): Promise<void>;
}

const AUTH_CACHE_MS = 5000;

class HttpError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function isDbDown(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  const code = e.code ?? '';
  return (
    ['ECONNREFUSED', 'ENOENT', 'ECONNRESET', 'EPIPE', '57P01', '57P02', '57P03', '08006', '08001', '08003'].includes(
      code,
    ) || /Connection terminated|timeout exceeded when trying to connect/i.test(e.message ?? '')
  );
}

function bearer(req: FastifyRequest): string {
  const h = req.headers.authorization ?? '';
  return h.startsWith('Bearer ') ? h.slice(7) : '';
}

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function jobId(req: FastifyRequest): number {
  const text = (req.params as { id: string }).id;
  const id = Number(text);
  if (!/^\d{1,15}$/.test(text)) throw new HttpError(400, `job id: expected a positive integer, got "${text}"`);
  return id;
}

function filterOf(q: Record<string, string | undefined>): HubRunFilter {
  const f: HubRunFilter = {};
  for (const k of ['bench', 'dut', 'lot', 'wafer', 'sequence', 'outcome', 'since', 'until'] as const) {
    if (q[k]) f[k] = q[k];
  }
  if (q.limit !== undefined) {
    const n = Number(q.limit);
    if (!Number.isInteger(n) || n < 1) throw new HttpError(400, `limit: expected a positive integer, got "${q.limit}"`);
    f.limit = n;
  }
  return f;
}

export async function startHub(o: HubOptions): Promise<Hub> {
  const pool = openPool(o.pgUrl, o.poolSize ?? 10);
  try {
    await migrateFleet(pool);
  } catch (err) {
    await pool.end();
    throw err;
  }
  const adminToken = o.adminToken ?? randomBytes(24).toString('base64url');
  const offlineAfterMs = o.offlineAfterMs ?? 10_000;
  const defaultLeaseMs = o.defaultLeaseMs ?? 60_000;
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024 * 1024 });
  // a bench's batch in the binary form (src/fleet/wire.ts): the BLOBs stay views of the body
  app.addContentTypeParser(BATCH_CONTENT_TYPE, { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      done(null, decodeBatch(body as Buffer));
    } catch (err) {
      done(new HttpError(400, (err as Error).message), undefined);
    }
  });

  // the fleet view's state, kept here so a heartbeat reaches browsers without another database round trip
  const fleet = new Map<string, BenchView>();
  for (const b of await listBenches(pool, offlineAfterMs)) fleet.set(b.name, b);
  const heartbeats = new HeartbeatWriter(pool, o.heartbeatGapMs);
  const stream = new FleetStream(app.server, () => [...fleet.values()], { minGapMs: o.fleetMinGapMs });
  const broadcast = (b: BenchView) => stream.changed(b);

  app.setErrorHandler((err: Error & { statusCode?: number }, _req, reply) => {
    if (err instanceof HttpError) return reply.code(err.status).send({ error: { message: err.message }, ...err.extra });
    if (err instanceof BatchGapError)
      return reply.code(409).send({ error: { message: err.message }, cursor: err.cursor });
    if (err instanceof JobConflictError || err instanceof OriginError)
      return reply.code(409).send({ error: { message: err.message } });
    if (isDbDown(err))
      return reply.code(503).send({ error: { message: `the lab database is unavailable: ${err.message}` } });
    if (err.statusCode && err.statusCode < 500)
      return reply.code(err.statusCode).send({ error: { message: err.message } });
    return reply.code(500).send({ error: { message: err.message } });
  });

  const admin = (req: FastifyRequest) => {
    if (!sameToken(bearer(req), adminToken)) throw new HttpError(401, 'this needs the hub admin token (Bearer)');
  };
  /**
   * The bench named in the path, authenticated by its own token. A token found good is taken without asking
   * PostgreSQL again for AUTH_CACHE_MS (heartbeats stay one round trip); revoking through this hub drops it at
   * once, `cpobench hub revoke` (straight to the database) bites within AUTH_CACHE_MS.
   */
  const authCache = new Map<string, { hash: string; until: number }>();
  const bench = async (req: FastifyRequest): Promise<string> => {
    const name = (req.params as { name: string }).name;
    const token = bearer(req);
    const h = hash(token);
    const hit = authCache.get(name);
    if (hit && hit.hash === h && hit.until > Date.now()) return name;
    const r = await authenticate(pool, name, token);
    if (r === 'ok') {
      authCache.set(name, { hash: h, until: Date.now() + AUTH_CACHE_MS });
      return name;
    }
    authCache.delete(name);
    const why = { unknown: 'no such bench (issue it a token first)', wrong: 'wrong token', revoked: 'token revoked' }[
      r
    ];
    throw new HttpError(r === 'revoked' ? 403 : 401, `bench ${name}: ${why}`);
  };
  const cached = (name: string): BenchView =>
    fleet.get(name) ?? {
      name,
      online: false,
      revoked: false,
      url: null,
      station: null,
      sequences: [],
      capabilities: [],
      lastHeartbeat: null,
      status: null,
      cursor: 0,
    };

  // pages
  for (const page of ['fleet', 'runs', 'run', 'analytics'] as const) {
    const path = { fleet: '/', runs: '/runs', run: '/runs/:id', analytics: '/analytics' }[page];
    app.get(path, async (_req, reply) => reply.type('text/html; charset=utf-8').send(hubPage(page)));
  }
  app.get('/api/health', async () => ({ ok: true, benches: fleet.size }));

  // benches
  app.get('/api/benches', async () => ({ benches: [...fleet.values()] }));
  app.post('/api/benches/:name/token', async (req) => {
    admin(req);
    const name = (req.params as { name: string }).name;
    try {
      checkBenchName(name);
    } catch (err) {
      throw new HttpError(400, (err as Error).message);
    }
    const token = await issueToken(pool, name);
    authCache.delete(name);
    fleet.set(name, { ...cached(name), revoked: false });
    return { bench: name, token };
  });
  app.delete('/api/benches/:name/token', async (req) => {
    admin(req);
    const name = (req.params as { name: string }).name;
    authCache.delete(name);
    if (!(await revokeToken(pool, name))) throw new HttpError(404, `no bench ${name}`);
    authCache.delete(name);
    const b = { ...cached(name), revoked: true, online: false };
    fleet.set(name, b);
    broadcast(b);
    return { bench: name, revoked: true };
  });
  app.put('/api/benches/:name', async (req) => {
    const name = await bench(req);
    const reg = req.body as BenchRegistration;
    if (!reg || typeof reg.station !== 'string' || !Array.isArray(reg.sequences) || !Array.isArray(reg.capabilities))
      throw new HttpError(400, 'registration: expected {station, sequences[], capabilities[], url?}');
    const cursor = await registerBench(pool, name, reg);
    const b: BenchView = {
      ...cached(name),
      online: true,
      url: reg.url ?? null,
      station: reg.station,
      sequences: reg.sequences,
      capabilities: reg.capabilities,
      lastHeartbeat: new Date().toISOString(),
      cursor,
    };
    fleet.set(name, b);
    broadcast(b);
    return { cursor };
  });
  app.post('/api/benches/:name/heartbeat', async (req) => {
    const name = await bench(req);
    const status = req.body as BenchStatus;
    if (!status || (status.state !== 'idle' && status.state !== 'running'))
      throw new HttpError(400, 'heartbeat: expected {state: "idle" | "running", run?, jobs?}');
    // shown first (the hub has this heartbeat in hand), then written with the lease renewals
    const b: BenchView = { ...cached(name), online: true, status, lastHeartbeat: new Date().toISOString() };
    fleet.set(name, b);
    broadcast(b);
    await heartbeats.record(name, status);
    return { ok: true };
  });
  app.get('/api/benches/:name/cursor', async (req) => ({ cursor: await benchCursor(pool, await bench(req)) }));
  app.post('/api/benches/:name/batches', async (req) => {
    const name = await bench(req);
    const batch = req.headers['content-type']?.startsWith(BATCH_CONTENT_TYPE)
      ? (req.body as ForwardBatch)
      : fromJsonBatch(req.body as ForwardBatch);
    if (!batch || batch.bench !== name || !Number.isInteger(batch.after) || !Number.isInteger(batch.upTo))
      throw new HttpError(400, `batch: expected {bench: "${name}", after, upTo, items[]}`);
    const ack = await applyBatch(pool, batch);
    const b = fleet.get(name);
    if (b) b.cursor = ack.cursor;
    return ack;
  });
  app.post('/api/benches/:name/claim', async (req) => ({ job: await claimJob(pool, await bench(req)) }));
  app.post('/api/benches/:name/jobs/:id/started', async (req) => {
    const name = await bench(req);
    const { runId } = (req.body ?? {}) as { runId?: string };
    if (typeof runId !== 'string' || !runId) throw new HttpError(400, 'runId: expected the id of the run started');
    await jobStarted(pool, name, jobId(req), runId);
    return { ok: true };
  });
  app.post('/api/benches/:name/jobs/:id/finished', async (req) => {
    const name = await bench(req);
    const { outcome, error } = (req.body ?? {}) as { outcome?: string; error?: string };
    if (typeof outcome !== 'string') throw new HttpError(400, 'outcome: expected the run outcome');
    await jobFinished(pool, name, jobId(req), outcome, error);
    return { ok: true };
  });

  // the queue
  app.post('/api/jobs', async (req, reply) => {
    admin(req);
    const parsed = JobRequest.safeParse(req.body);
    if (!parsed.success) {
      const i = parsed.error.issues[0]!;
      throw new HttpError(400, `job ${i.path.join('.') || 'body'}: ${i.message}`);
    }
    return reply.code(201).send(await enqueueJob(pool, parsed.data, defaultLeaseMs));
  });
  app.get('/api/jobs', async (req) => {
    const q = req.query as { state?: string; limit?: string };
    const states = ['queued', 'leased', 'running', 'done', 'failed'];
    if (q.state !== undefined && !states.includes(q.state))
      throw new HttpError(400, `state: expected one of ${states.join(', ')}, got "${q.state}"`);
    const limit = q.limit === undefined ? 200 : Number(q.limit);
    if (!Number.isInteger(limit) || limit < 1 || limit > 10_000)
      throw new HttpError(400, `limit: expected an integer 1..10000, got "${q.limit}"`);
    return { jobs: await listJobs(pool, q.state, limit) };
  });
  app.get('/api/jobs/:id', async (req) => {
    const j = await getJob(pool, jobId(req));
    if (!j) throw new HttpError(404, 'no such job');
    return j;
  });

  // runs
  app.get('/api/runs', async (req) => ({ runs: await searchRuns(pool, filterOf(req.query as never)) }));
  app.get('/api/runs/:id', async (req) => {
    const rec = await getHubRun(pool, (req.params as { id: string }).id);
    if (!rec) throw new HttpError(404, `no run ${(req.params as { id: string }).id} in the lab database`);
    return rec;
  });
  app.get('/api/runs/:id/report.:format', async (req, reply: FastifyReply) => {
    const { id, format } = req.params as { id: string; format: string };
    if (!isReportFormat(format)) throw new HttpError(400, `format: expected json, csv, junit or html, got "${format}"`);
    const rec = await getHubRun(pool, id);
    if (!rec) throw new HttpError(404, `no run ${id} in the lab database`);
    const { lab: _lab, ...record } = rec;
    const r = renderReport(record, format);
    return reply
      .type(r.contentType)
      .header('content-disposition', `inline; filename="${id}.${r.extension}"`)
      .send(r.body);
  });

  // analytics
  const wrap = (fn: (f: HubRunFilter) => Promise<unknown>) => async (req: FastifyRequest) => {
    try {
      return await fn(filterOf(req.query as never));
    } catch (err) {
      if (err instanceof RangeError) throw new HttpError(400, err.message);
      throw err;
    }
  };
  app.get(
    '/api/analytics/lane-yield',
    wrap((f) => laneYield(pool, f)),
  );
  app.get(
    '/api/analytics/wafer-map',
    wrap((f) => waferMap(pool, f)),
  );
  app.get(
    '/api/analytics/trends',
    wrap(async (f) => ({ points: await trends(pool, f) })),
  );

  // benches going silent, lapsed leases
  const timers: NodeJS.Timeout[] = [];
  timers.push(
    setInterval(() => {
      const now = Date.now();
      for (const b of fleet.values()) {
        const silent = !b.lastHeartbeat || now - Date.parse(b.lastHeartbeat) > offlineAfterMs;
        if (b.online && silent) {
          b.online = false;
          broadcast(b);
        }
      }
    }, 500),
  );
  // one pass at a time; a caller arriving during a pass gets that pass's result once it committed
  let reaping: Promise<number> | null = null;
  const reap = (): Promise<number> => {
    reaping ??= reapLapsed(pool)
      .then((jobs) => jobs.length)
      .finally(() => {
        reaping = null;
      });
    return reaping;
  };
  timers.push(setInterval(() => void reap().catch(() => undefined), o.reapEveryMs ?? 1000));

  await app.listen({ host: o.host ?? '127.0.0.1', port: o.port ?? 8090 });
  const addr = app.server.address();
  const port = typeof addr === 'object' && addr ? addr.port : o.port;
  const host = o.host && o.host !== '0.0.0.0' ? o.host : '127.0.0.1';
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    adminToken,
    pool,
    reap,
    close() {
      // once: a second close (a test's finally, a signal during shutdown) waits for the first
      closing ??= (async () => {
        for (const t of timers) clearInterval(t);
        stream.close();
        // requests in flight finish (a batch commits whole), then their keep-alive connections are closed too:
        // app.close() alone closes only the connections idle at that moment and waits for the others forever
        const idle = setInterval(() => app.server.closeIdleConnections(), 25);
        const hard = setTimeout(() => app.server.closeAllConnections(), o.closeGraceMs ?? 5000);
        try {
          await app.close();
        } finally {
          clearInterval(idle);
          clearTimeout(hard);
        }
        await heartbeats.flush().catch(() => undefined);
        await pool.end();
      })();
      return closing;
    },
  };
}
