/**
 * The bench's side of the hub's HTTP API. Every call has a timeout and takes an AbortSignal; a refused token is
 * its own error (HubAuthError: the bench keeps its data and stops forwarding until an operator acts), anything
 * else the hub or the network answers is a HubUnavailableError (retried later).
 */
import type { ForwardAck, ForwardBatch } from './wire.ts';

export class HubAuthError extends Error {
  constructor(
    readonly hub: string,
    readonly bench: string,
    message: string,
  ) {
    super(`hub ${hub} refused bench ${bench}: ${message}`);
    this.name = 'HubAuthError';
  }
}

export class HubUnavailableError extends Error {
  constructor(
    readonly hub: string,
    what: string,
    detail: string,
    readonly status?: number,
    readonly body?: unknown,
  ) {
    super(`hub ${hub}: ${what}: ${detail}`);
    this.name = 'HubUnavailableError';
  }
}

/** What a bench reports with each heartbeat (shown in the fleet view). */
export interface BenchStatus {
  state: 'idle' | 'running';
  run?: { id: string; sequence: string; dut: string; outcome: string; done: number; total: number; verdict?: string };
  /** Jobs this bench holds: their leases are renewed by this heartbeat. */
  jobs?: number[];
}

export interface BenchRegistration {
  /** The bench's own dashboard (click-through from the fleet view). */
  url?: string;
  station: string;
  /** Sequence names this bench's station can run. */
  sequences: string[];
  /** Capabilities for jobs' `requires` (e.g. the profile, the lane count). */
  capabilities: string[];
  /** The outbox's identity: registering another one than before starts this bench's cursor over at 0. */
  origin?: string;
}

export interface Job {
  id: number;
  sequence: string;
  dut: string;
  lot?: string;
  wafer?: string;
  die?: { x: number; y: number };
  requires: string[];
  leaseMs: number;
  attempts: number;
}

export interface HubClientOptions {
  url: string;
  bench: string;
  token: string;
  timeoutMs?: number;
}

export class HubClient {
  readonly url: string;
  readonly bench: string;
  private readonly token: string;
  private readonly timeoutMs: number;

  constructor(o: HubClientOptions) {
    this.url = o.url.replace(/\/+$/, '');
    this.bench = o.bench;
    this.token = o.token;
    this.timeoutMs = o.timeoutMs ?? 10_000;
  }

  private async call<T>(method: string, path: string, what: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: Response;
    try {
      res = await fetch(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
        },
        body: body === undefined ? undefined : JSON.stringify(body),
        signal: sig,
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const e = err as Error & { cause?: { code?: string } };
      const detail = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : (e.cause?.code ?? e.message);
      throw new HubUnavailableError(this.url, what, detail);
    }
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    if (res.status === 401 || res.status === 403) {
      const msg = (parsed as { error?: { message?: string } })?.error?.message ?? text;
      throw new HubAuthError(this.url, this.bench, msg);
    }
    if (!res.ok) {
      const msg = (parsed as { error?: { message?: string } })?.error?.message ?? text;
      throw new HubUnavailableError(this.url, what, `HTTP ${res.status} ${msg}`, res.status, parsed);
    }
    return parsed as T;
  }

  private path(rest: string): string {
    return `/api/benches/${encodeURIComponent(this.bench)}${rest}`;
  }

  register(reg: BenchRegistration, signal?: AbortSignal): Promise<{ cursor: number }> {
    return this.call('PUT', this.path(''), 'register', reg, signal);
  }

  heartbeat(status: BenchStatus, signal?: AbortSignal): Promise<{ ok: true; revokedJobs?: number[] }> {
    return this.call('POST', this.path('/heartbeat'), 'heartbeat', status, signal);
  }

  cursor(signal?: AbortSignal): Promise<{ cursor: number }> {
    return this.call('GET', this.path('/cursor'), 'read cursor', undefined, signal);
  }

  forward(batch: ForwardBatch, signal?: AbortSignal): Promise<ForwardAck> {
    return this.call('POST', this.path('/batches'), 'forward', batch, signal);
  }

  claimJob(signal?: AbortSignal): Promise<{ job: Job | null }> {
    return this.call('POST', this.path('/claim'), 'claim a job', {}, signal);
  }

  jobStarted(jobId: number, runId: string, signal?: AbortSignal): Promise<{ ok: true }> {
    return this.call('POST', this.path(`/jobs/${jobId}/started`), 'job started', { runId }, signal);
  }

  jobFinished(jobId: number, outcome: string, error?: string, signal?: AbortSignal): Promise<{ ok: true }> {
    return this.call('POST', this.path(`/jobs/${jobId}/finished`), 'job finished', { outcome, error }, signal);
  }
}
