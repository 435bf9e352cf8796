/**
 * The bench's side of the hub's HTTP API. Every call has a timeout and takes an AbortSignal; a refused token is
 * its own error (HubAuthError: the bench keeps its data and stops forwarding until an operator acts), anything
 * else the hub or the network answers is a HubUnavailableError (retried later).
 */
import http from 'node:http';
import https from 'node:https';
import { BATCH_CONTENT_TYPE, encodeBatch, type ForwardAck, type ForwardBatch } from './wire.ts';

/**
 * One HTTP request with node:http (keep-alive through the global agent): the body handed to the socket as it is
 * (fetch copies a request body through web streams first).
 */
function request(
  url: string,
  o: { method: string; headers: Record<string, string>; body?: Uint8Array; signal: AbortSignal },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const mod = url.startsWith('https:') ? https : http;
    const headers = o.body ? { ...o.headers, 'content-length': String(o.body.byteLength) } : o.headers;
    const req = mod.request(url, { method: o.method, headers, signal: o.signal }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(o.body);
  });
}

/** A request body sent as it is, with its media type. */
class RawBody {
  constructor(
    readonly type: string,
    readonly data: Uint8Array<ArrayBuffer>,
  ) {}
}

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

  /** `body` goes as JSON, unless it is a `{type, data}` of raw bytes (a binary batch). */
  private async call<T>(method: string, path: string, what: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const raw = body instanceof RawBody ? body : undefined;
    const timeout = AbortSignal.timeout(this.timeoutMs);
    const sig = signal ? AbortSignal.any([signal, timeout]) : timeout;
    let res: { status: number; text: string };
    try {
      res = await request(`${this.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${this.token}`,
          ...(body === undefined ? {} : { 'content-type': raw ? raw.type : 'application/json' }),
        },
        body: raw ? raw.data : body === undefined ? undefined : Buffer.from(JSON.stringify(body)),
        signal: sig,
      });
    } catch (err) {
      if (signal?.aborted) throw signal.reason ?? err;
      const e = err as Error & { code?: string };
      const detail = timeout.aborted ? `no answer within ${this.timeoutMs} ms` : (e.code ?? e.message);
      throw new HubUnavailableError(this.url, what, detail);
    }
    const { status, text } = res;
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      /* not JSON */
    }
    if (status === 401 || status === 403) {
      const msg = (parsed as { error?: { message?: string } })?.error?.message ?? text;
      throw new HubAuthError(this.url, this.bench, msg);
    }
    if (status < 200 || status > 299) {
      const msg = (parsed as { error?: { message?: string } })?.error?.message ?? text;
      throw new HubUnavailableError(this.url, what, `HTTP ${status} ${msg}`, status, parsed);
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

  /** Sends a batch in the binary form (wire.ts). */
  forward(batch: ForwardBatch, signal?: AbortSignal): Promise<ForwardAck> {
    const body = new RawBody(BATCH_CONTENT_TYPE, Buffer.concat(encodeBatch(batch)));
    return this.call('POST', this.path('/batches'), 'forward', body, signal);
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
