/**
 * The run queue, a table in the lab's PostgreSQL (why not pg-boss: README, "Running a lab of benches").
 * A job is claimed by one bench only (`FOR UPDATE SKIP LOCKED` inside one UPDATE), whose station offers the
 * sequence and every capability the job requires, and which holds no other job. The claim is a lease of
 * `lease_ms`, renewed by the bench's heartbeats; once it lapses, `reapLapsed` marks the job's partial run
 * INTERRUPTED in the lab database and requeues the job (until max_attempts; then the job FAILED).
 */
import type pg from 'pg';
import { z } from 'zod';
import type { DiePosition } from '../core/record.ts';
import { checkDie, checkRunLabel } from '../core/run-labels.ts';
import type { Job } from '../fleet/hub-client.ts';
import { inTransaction } from './sql.ts';

function runLabel(field: 'lot' | 'wafer') {
  return z
    .string()
    .superRefine((v, ctx) => {
      const r = checkRunLabel(field, v);
      if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
    })
    .transform((v) => v.trim());
}

export const JobRequest = z
  .object({
    sequence: z.string().min(1),
    dut: z.string().min(1).max(200),
    // checked as a run started on the bench checks them (src/core/run-labels.ts): the bench runs the job with them
    lot: runLabel('lot').optional(),
    wafer: runLabel('wafer').optional(),
    die: z
      .unknown()
      .superRefine((v, ctx) => {
        const r = checkDie(v);
        if (!r.ok) ctx.addIssue({ code: 'custom', message: r.message });
      })
      .transform((v) => v as DiePosition)
      .optional(),
    requires: z.array(z.string().min(1)).default([]),
    leaseMs: z
      .number()
      .int()
      .min(1000)
      .max(7 * 24 * 3600_000)
      .optional(),
    maxAttempts: z.number().int().min(1).max(100).optional(),
  })
  .strict();
export type JobRequest = z.input<typeof JobRequest>;

export type JobState = 'queued' | 'leased' | 'running' | 'done' | 'failed';

export interface JobView extends Job {
  state: JobState;
  bench: string | null;
  runId: string | null;
  leaseUntil: string | null;
  maxAttempts: number;
  outcome: string | null;
  error: string | null;
  history: { at: string; bench: string; runId: string | null; event: string }[];
  createdAt: string;
}

function view(r: Record<string, unknown>): JobView {
  const j: JobView = {
    id: Number(r.id),
    sequence: r.sequence as string,
    dut: r.dut as string,
    requires: r.requires as string[],
    leaseMs: r.lease_ms as number,
    attempts: r.attempts as number,
    state: r.state as JobState,
    bench: (r.bench as string | null) ?? null,
    runId: (r.run_id as string | null) ?? null,
    leaseUntil: r.lease_until ? new Date(r.lease_until as Date).toISOString() : null,
    maxAttempts: r.max_attempts as number,
    outcome: (r.outcome as string | null) ?? null,
    error: (r.error as string | null) ?? null,
    history: r.history as JobView['history'],
    createdAt: new Date(r.created_at as Date).toISOString(),
  };
  if (r.lot !== null) j.lot = r.lot as string;
  if (r.wafer !== null) j.wafer = r.wafer as string;
  if (r.die_x !== null) j.die = { x: r.die_x as number, y: r.die_y as number };
  return j;
}

export async function enqueueJob(
  pool: pg.Pool,
  req: z.output<typeof JobRequest>,
  defaultLeaseMs: number,
): Promise<JobView> {
  const r = await pool.query(
    `INSERT INTO jobs (sequence, dut, lot, wafer, die_x, die_y, requires, lease_ms, max_attempts)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [
      req.sequence,
      req.dut,
      req.lot ?? null,
      req.wafer ?? null,
      req.die?.x ?? null,
      req.die?.y ?? null,
      JSON.stringify(req.requires),
      req.leaseMs ?? defaultLeaseMs,
      req.maxAttempts ?? 3,
    ],
  );
  return view(r.rows[0]);
}

/** The oldest queued job this bench can run, leased to it; null when none (or it already holds one). */
export async function claimJob(pool: Pick<pg.Pool, 'query'>, bench: string): Promise<JobView | null> {
  const r = await pool.query(
    `UPDATE jobs SET state = 'leased', bench = $1, attempts = attempts + 1, updated_at = now(),
       lease_until = now() + lease_ms * interval '1 millisecond',
       history = history || jsonb_build_array(jsonb_build_object('at', now(), 'bench', $1::text, 'runId', NULL, 'event', 'leased'))
     WHERE id = (
       SELECT j.id FROM jobs j, benches b
       WHERE b.name = $1 AND b.revoked_at IS NULL AND j.state = 'queued'
         AND b.sequences ? j.sequence AND b.capabilities @> j.requires
         AND NOT EXISTS (SELECT 1 FROM jobs h WHERE h.bench = $1 AND h.state IN ('leased', 'running'))
       ORDER BY j.id LIMIT 1 FOR UPDATE OF j SKIP LOCKED)
       AND state = 'queued'
     RETURNING *`,
    [bench],
  );
  return r.rowCount ? view(r.rows[0]) : null;
}

export class JobConflictError extends Error {
  constructor(
    readonly jobId: number,
    message: string,
  ) {
    super(`job ${jobId}: ${message}`);
    this.name = 'JobConflictError';
  }
}

/** The bench started the job's run (which carries the job's lot, wafer and die in the bench's own record). */
export async function jobStarted(pool: pg.Pool, bench: string, jobId: number, runId: string): Promise<void> {
  await inTransaction(pool, async (c) => {
    const r = await c.query(
      `UPDATE jobs SET state = 'running', run_id = $3, updated_at = now(),
         history = history || jsonb_build_array(jsonb_build_object('at', now(), 'bench', $2::text, 'runId', $3::text, 'event', 'started'))
       WHERE id = $1 AND bench = $2 AND state = 'leased' RETURNING id`,
      [jobId, bench, runId],
    );
    if (r.rowCount === 0)
      throw new JobConflictError(jobId, `not leased to bench ${bench} (lease lapsed or never held)`);
    await attachJobs(c, [runId]);
  });
}

/**
 * Links each run to the job that started it (when the run row is there). The run's lot, wafer and die are not
 * copied from the job: the bench started the run with them and they arrive with its record, like any run's.
 */
export async function attachJobs(c: pg.PoolClient, runIds: string[]): Promise<void> {
  if (runIds.length === 0) return;
  await c.query(
    `UPDATE runs r SET job_id = j.id
     FROM jobs j WHERE j.run_id = r.id AND r.id = ANY($1) AND r.job_id IS DISTINCT FROM j.id`,
    [runIds],
  );
}

export async function jobFinished(
  pool: pg.Pool,
  bench: string,
  jobId: number,
  outcome: string,
  error?: string,
): Promise<void> {
  const r = await pool.query(
    `UPDATE jobs SET state = 'done', outcome = $3, error = $4, lease_until = NULL, updated_at = now(),
       history = history || jsonb_build_array(jsonb_build_object('at', now(), 'bench', $2::text, 'runId', run_id, 'event', 'finished ' || $3))
     WHERE id = $1 AND bench = $2 AND state IN ('leased', 'running') RETURNING id`,
    [jobId, bench, outcome, error ?? null],
  );
  if (r.rowCount === 0) throw new JobConflictError(jobId, `not held by bench ${bench} (its lease lapsed: requeued)`);
}

/**
 * Jobs whose lease lapsed: their run (if the hub has it and it is still RUNNING there) becomes INTERRUPTED,
 * the job goes back to the queue, or FAILED after max_attempts. Returns the jobs handled.
 */
export async function reapLapsed(pool: pg.Pool): Promise<JobView[]> {
  return inTransaction(pool, async (c) => {
    const lapsed = await c.query(
      `SELECT * FROM jobs WHERE state IN ('leased', 'running') AND lease_until < now() ORDER BY id FOR UPDATE SKIP LOCKED`,
    );
    const out: JobView[] = [];
    for (const j of lapsed.rows) {
      const note = `interrupted: bench ${j.bench} stopped renewing the lease of job ${j.id} (no heartbeat for ${j.lease_ms} ms)`;
      if (j.run_id) {
        await c.query(
          `UPDATE runs SET outcome = 'INTERRUPTED', error = COALESCE(error, $2), hub_note = $2,
           finished_at = COALESCE(finished_at, $3) WHERE id = $1 AND outcome = 'RUNNING'`,
          [j.run_id, note, new Date().toISOString()],
        );
      }
      const again = j.attempts < j.max_attempts;
      const r = await c.query(
        `UPDATE jobs SET state = $2, bench = NULL, run_id = NULL, lease_until = NULL, updated_at = now(),
           error = $3,
           history = history || jsonb_build_array(jsonb_build_object('at', now(), 'bench', bench, 'runId', run_id, 'event', $4::text))
         WHERE id = $1 RETURNING *`,
        [j.id, again ? 'queued' : 'failed', note, again ? 'lease lapsed: requeued' : 'lease lapsed: attempts used up'],
      );
      out.push(view(r.rows[0]));
    }
    return out;
  });
}

export async function listJobs(pool: pg.Pool, state?: string, limit = 200): Promise<JobView[]> {
  const r = state
    ? await pool.query('SELECT * FROM jobs WHERE state = $1 ORDER BY id DESC LIMIT $2', [state, limit])
    : await pool.query('SELECT * FROM jobs ORDER BY id DESC LIMIT $1', [limit]);
  return r.rows.map(view);
}

export async function getJob(pool: pg.Pool, id: number): Promise<JobView | undefined> {
  const r = await pool.query('SELECT * FROM jobs WHERE id = $1', [id]);
  return r.rowCount ? view(r.rows[0]) : undefined;
}
