/**
 * Benches known to the hub: each has its own token (stored as a SHA-256 hash; revocable), its registration
 * (dashboard URL, station, the sequences and capabilities it offers), its last heartbeat and status.
 */
import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';
import type pg from 'pg';
import type { BenchRegistration, BenchStatus } from '../fleet/hub-client.ts';

export const BENCH_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface BenchView {
  name: string;
  online: boolean;
  revoked: boolean;
  url: string | null;
  station: string | null;
  sequences: string[];
  capabilities: string[];
  lastHeartbeat: string | null;
  status: BenchStatus | null;
  /** Outbox lines of this bench held in PostgreSQL. */
  cursor: number;
}

export function hash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function checkBenchName(name: string): void {
  if (!BENCH_NAME.test(name))
    throw new Error(
      `bench name "${name}": expected 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit`,
    );
}

/** Creates the bench, or gives it a new token (the old one stops working); returns the token. */
export async function issueToken(pool: pg.Pool, name: string): Promise<string> {
  checkBenchName(name);
  const token = randomBytes(24).toString('base64url');
  await pool.query(
    `INSERT INTO benches (name, token_hash) VALUES ($1, $2)
     ON CONFLICT (name) DO UPDATE SET token_hash = EXCLUDED.token_hash, revoked_at = NULL`,
    [name, hash(token)],
  );
  return token;
}

/** Revokes the bench's token; returns false for an unknown bench. Its runs stay in the database. */
export async function revokeToken(pool: pg.Pool, name: string): Promise<boolean> {
  const r = await pool.query('UPDATE benches SET revoked_at = now() WHERE name = $1', [name]);
  return (r.rowCount ?? 0) > 0;
}

export type AuthResult = 'ok' | 'unknown' | 'revoked' | 'wrong';

export async function authenticate(pool: pg.Pool, name: string, token: string): Promise<AuthResult> {
  const r = await pool.query('SELECT token_hash, revoked_at FROM benches WHERE name = $1', [name]);
  if (r.rowCount === 0) return 'unknown';
  const row = r.rows[0] as { token_hash: string; revoked_at: Date | null };
  const a = Buffer.from(row.token_hash, 'hex');
  const b = Buffer.from(hash(token), 'hex');
  if (!timingSafeEqual(a, b)) return 'wrong';
  return row.revoked_at ? 'revoked' : 'ok';
}

export async function registerBench(pool: pg.Pool, name: string, reg: BenchRegistration): Promise<number> {
  const r = await pool.query(
    `UPDATE benches SET url = $2, station = $3, sequences = $4, capabilities = $5, registered_at = now(),
     last_heartbeat = now(),
     cursor = CASE WHEN $6::text IS NOT NULL AND origin IS DISTINCT FROM $6 THEN 0 ELSE cursor END,
     origin = COALESCE($6, origin)
     WHERE name = $1 RETURNING cursor`,
    [
      name,
      reg.url ?? null,
      reg.station,
      JSON.stringify(reg.sequences),
      JSON.stringify(reg.capabilities),
      reg.origin ?? null,
    ],
  );
  return Number(r.rows[0]?.cursor ?? 0);
}

/**
 * Records heartbeats and renews the leases of the jobs their benches hold, many benches in one statement: a
 * heartbeat on a quiet writer is written at once, those arriving less than `minGapMs` after a write wait for the
 * next one (the newest status per bench; a lease is renewed at most that much later). `record` resolves once its
 * heartbeat is in the database, or rejects with the database's error (the hub answers 503).
 */
export class HeartbeatWriter {
  private readonly pending = new Map<string, { status: string; waiters: [() => void, (e: unknown) => void][] }>();
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> | null = null;
  private lastWrite = 0;

  constructor(
    private readonly pool: pg.Pool,
    private readonly minGapMs = 100,
  ) {}

  record(name: string, status: BenchStatus): Promise<void> {
    return new Promise((resolve, reject) => {
      const p = this.pending.get(name) ?? { status: '', waiters: [] };
      p.status = JSON.stringify(status);
      p.waiters.push([resolve, reject]);
      this.pending.set(name, p);
      this.schedule();
    });
  }

  /** Writes what is pending and waits for it (the hub closing). */
  async flush(): Promise<void> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    await this.writing;
    if (this.pending.size) await this.write();
  }

  private schedule(): void {
    if (this.timer || this.writing) return;
    this.timer = setTimeout(() => void this.write(), Math.max(0, this.lastWrite + this.minGapMs - Date.now()));
  }

  private async write(): Promise<void> {
    this.timer = null;
    const batch = [...this.pending];
    this.pending.clear();
    this.lastWrite = Date.now();
    this.writing = (async () => {
      try {
        await this.pool.query(
          `WITH hb AS (SELECT * FROM unnest($1::text[], $2::jsonb[]) AS t(name, status)),
           b AS (UPDATE benches SET last_heartbeat = now(), status = hb.status FROM hb WHERE benches.name = hb.name)
           UPDATE jobs SET lease_until = now() + lease_ms * interval '1 millisecond', updated_at = now()
           FROM hb WHERE jobs.bench = hb.name AND jobs.state IN ('leased', 'running')`,
          [batch.map(([n]) => n), batch.map(([, p]) => p.status)],
        );
        for (const [, p] of batch) for (const [ok] of p.waiters) ok();
      } catch (err) {
        for (const [, p] of batch) for (const [, fail] of p.waiters) fail(err);
      }
    })();
    await this.writing;
    this.writing = null;
    if (this.pending.size) this.schedule();
  }
}

export async function benchCursor(pool: pg.Pool, name: string): Promise<number> {
  const r = await pool.query('SELECT cursor FROM benches WHERE name = $1', [name]);
  return Number(r.rows[0]?.cursor ?? 0);
}

export async function listBenches(pool: pg.Pool, offlineAfterMs: number): Promise<BenchView[]> {
  const r = await pool.query(
    `SELECT name, revoked_at, url, station, sequences, capabilities, last_heartbeat, status, cursor,
     (last_heartbeat IS NOT NULL AND last_heartbeat > now() - $1 * interval '1 millisecond') AS online
     FROM benches ORDER BY name`,
    [offlineAfterMs],
  );
  return r.rows.map((b) => ({
    name: b.name,
    online: Boolean(b.online) && !b.revoked_at,
    revoked: b.revoked_at !== null,
    url: b.url,
    station: b.station,
    sequences: b.sequences,
    capabilities: b.capabilities,
    lastHeartbeat: b.last_heartbeat ? new Date(b.last_heartbeat).toISOString() : null,
    status: b.status,
    cursor: Number(b.cursor),
  }));
}
