/** Small SQL helpers for the hub's PostgreSQL store. */
import pg from 'pg';

/** A pool whose BIGINT columns come back as numbers (row numbers and cursors stay far below 2^53). */
export function openPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    connectionTimeoutMillis: 5000,
    types: {
      getTypeParser: ((oid: number, format?: string) =>
        oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format as never)) as never,
    },
  });
  // an idle client losing its server (PostgreSQL restarted) must not crash the hub: the next query reconnects
  pool.on('error', () => undefined);
  return pool;
}

/**
 * INSERT … ON CONFLICT (key) DO UPDATE for many rows, in statements of at most ~30,000 parameters.
 * `update` lists the columns an existing row takes from the new one (default: every non-key column); `decode`
 * names columns sent as encoded text (e.g. { vals: 'base64' }).
 */
export async function upsertRows(
  c: pg.PoolClient,
  table: string,
  cols: readonly string[],
  key: readonly string[],
  rows: readonly unknown[][],
  opts: { update?: readonly string[]; where?: string; decode?: Record<string, string> } = {},
): Promise<number> {
  if (rows.length === 0) return 0;
  const update = opts.update ?? cols.filter((c) => !key.includes(c));
  const set = update.map((c) => `${c} = EXCLUDED.${c}`).join(', ');
  const per = Math.max(1, Math.floor(30_000 / cols.length));
  let n = 0;
  for (let i = 0; i < rows.length; i += per) {
    const chunk = rows.slice(i, i + per);
    const params: unknown[] = [];
    const values = chunk.map((r) => {
      const ph = r.map((v, i) => {
        params.push(v);
        // e.g. bytea sent as base64 text and decoded by PostgreSQL (cheaper than pg's hex escaping of a Buffer)
        const enc = opts.decode?.[cols[i]!];
        return enc ? `decode($${params.length}, '${enc}')` : `$${params.length}`;
      });
      return `(${ph.join(', ')})`;
    });
    const conflict = update.length ? `DO UPDATE SET ${set}${opts.where ? ` WHERE ${opts.where}` : ''}` : 'DO NOTHING';
    const sql = `INSERT INTO ${table} (${cols.join(', ')}) VALUES ${values.join(', ')} ON CONFLICT (${key.join(', ')}) ${conflict}`;
    n += (await c.query(sql, params)).rowCount ?? 0;
  }
  return n;
}

export async function inTransaction<T>(pool: pg.Pool, fn: (c: pg.PoolClient) => Promise<T>): Promise<T> {
  const c = await pool.connect();
  try {
    await c.query('BEGIN');
    const out = await fn(c);
    await c.query('COMMIT');
    return out;
  } catch (err) {
    await c.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    c.release();
  }
}
