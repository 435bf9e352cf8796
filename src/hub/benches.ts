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

/** Records the heartbeat and renews the leases of the jobs this bench holds. */
export async function heartbeat(pool: pg.Pool, name: string, status: BenchStatus): Promise<void> {
  await pool.query(
    `WITH b AS (UPDATE benches SET last_heartbeat = now(), status = $2 WHERE name = $1)
     UPDATE jobs SET lease_until = now() + lease_ms * interval '1 millisecond', updated_at = now()
     WHERE bench = $1 AND state IN ('leased', 'running')`,
    [name, JSON.stringify(status)],
  );
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
