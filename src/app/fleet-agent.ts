/**
 * A bench in a lab: registers with the hub, heartbeats its state (renewing the lease of the job it holds),
 * forwards its SQLite outbox, and, when idle, takes the next job it can run from the hub's queue and runs it
 * like any other run. The bench never waits for the hub: runs start and finish whether the hub answers or not;
 * a job's start and end are reported again until the hub takes them (or says the lease lapsed).
 */
import type { Logger } from 'pino';
import type { DutOrigin } from '../core/record.ts';
import { checkDutOrigin } from '../core/run-labels.ts';
import { Forwarder, type ForwarderStatus } from '../fleet/forwarder.ts';
import { type BenchStatus, HubAuthError, HubClient, type Job } from '../fleet/hub-client.ts';
import { Outbox } from '../fleet/outbox.ts';
import type { RunView } from '../server/controller.ts';
import type { AppContext } from './context.ts';
import type { AppController } from './controller.ts';

export interface FleetAgentOptions {
  ctx: AppContext;
  controller: AppController;
  hubUrl: string;
  bench: string;
  token: string;
  /** This bench's dashboard, for the fleet view's click-through. */
  dashboardUrl?: string;
  /** Extra capabilities (jobs' `requires`) beyond the station's own. */
  capabilities?: string[];
  /** Heartbeat period (default 1 s). */
  heartbeatMs?: number;
  /** Take jobs from the queue (default true). */
  takeJobs?: boolean;
  logger?: Logger;
}

export class FleetAgent {
  readonly client: HubClient;
  readonly forwarder: Forwarder;
  private readonly outbox: Outbox;
  private readonly o: FleetAgentOptions;
  private readonly stopCtl = new AbortController();
  private loops: Promise<void>[] = [];
  private job: { job: Job; runId?: string } | null = null;
  private registered = false;
  private lastError: string | undefined;

  constructor(o: FleetAgentOptions) {
    this.o = o;
    this.client = new HubClient({ url: o.hubUrl, bench: o.bench, token: o.token });
    this.outbox = new Outbox(o.ctx.store.location);
    this.forwarder = new Forwarder({
      outbox: this.outbox,
      client: this.client,
      onError: (e) => o.logger?.warn({ err: e.message }, 'forwarding to the hub'),
    });
    o.ctx.bus.on((e) => {
      if (e.type === 'run.finished' || e.type === 'step.finished') this.forwarder.nudge();
    });
  }

  /** Capabilities offered for jobs' `requires`: the station's name and lane count, plus the configured ones. */
  capabilities(): string[] {
    const g = this.o.ctx.geometry;
    return [
      `station:${this.o.ctx.stationConfig.name}`,
      `lanes:${g.all.length}`,
      ...(this.o.ctx.sim ? [`sim:${this.o.ctx.sim.profile.name}`] : []),
      ...(this.o.capabilities ?? []),
    ];
  }

  status(): { registered: boolean; job: number | null; forwarder: ForwarderStatus; lastError?: string } {
    const s = { registered: this.registered, job: this.job?.job.id ?? null, forwarder: this.forwarder.status() };
    return this.lastError ? { ...s, lastError: this.lastError } : s;
  }

  start(): void {
    this.loops.push(this.heartbeatLoop());
    if (this.o.takeJobs ?? true) this.loops.push(this.jobLoop());
  }

  async stop(): Promise<void> {
    this.stopCtl.abort(new Error('fleet agent stopped'));
    await Promise.allSettled(this.loops);
    await this.forwarder.stop();
    this.outbox.close();
  }

  private wait(ms: number): Promise<void> {
    const signal = this.stopCtl.signal;
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(t);
        signal.removeEventListener('abort', done);
        resolve();
      };
      const t = setTimeout(done, ms);
      signal.addEventListener('abort', done, { once: true });
    });
  }

  private benchStatus(): BenchStatus {
    const snap = this.o.controller.snapshot();
    const run = snap.run as RunView | null;
    const active = this.o.controller.active;
    const s: BenchStatus = { state: active ? 'running' : 'idle' };
    if (run) {
      const states = Object.values(run.stepStates);
      const failed = states.find((x) => x.verdict === 'FAIL' || x.verdict === 'ERROR');
      s.run = {
        id: run.id,
        sequence: run.sequence,
        dut: run.dut,
        outcome: run.outcome,
        done: states.filter((x) => x.state === 'done').length,
        total: run.steps.length,
      };
      const verdict = run.outcome !== 'RUNNING' ? run.outcome : failed?.verdict;
      if (verdict) s.run.verdict = verdict;
    }
    if (this.job) s.jobs = [this.job.job.id];
    return s;
  }

  private async register(): Promise<void> {
    const reg = {
      station: this.o.ctx.stationConfig.name,
      sequences: this.o.controller.sequences().map((s) => s.name),
      capabilities: this.capabilities(),
      origin: this.outbox.origin,
      ...(this.o.dashboardUrl ? { url: this.o.dashboardUrl } : {}),
    };
    await this.client.register(reg, this.stopCtl.signal);
    this.registered = true;
  }

  private async heartbeatLoop(): Promise<void> {
    const every = this.o.heartbeatMs ?? 1000;
    while (!this.stopCtl.signal.aborted) {
      try {
        if (!this.registered) {
          await this.register();
          // forwarding starts once the hub knows which outbox this bench sends from
          this.forwarder.start();
        }
        await this.client.heartbeat(this.benchStatus(), this.stopCtl.signal);
        this.lastError = undefined;
      } catch (err) {
        if (this.stopCtl.signal.aborted) break;
        this.lastError = (err as Error).message;
        if (err instanceof HubAuthError) this.registered = false;
        this.o.logger?.warn({ err: this.lastError }, 'hub heartbeat');
      }
      await this.wait(every);
    }
  }

  private async jobLoop(): Promise<void> {
    const every = this.o.heartbeatMs ?? 1000;
    while (!this.stopCtl.signal.aborted) {
      try {
        if (this.registered && !this.job && !this.o.controller.active) {
          const { job } = await this.client.claimJob(this.stopCtl.signal);
          if (job) {
            this.job = { job };
            await this.runJob(job);
            this.job = null;
            continue;
          }
        }
      } catch (err) {
        if (this.stopCtl.signal.aborted) break;
        this.lastError = (err as Error).message;
        this.o.logger?.warn({ err: this.lastError }, 'hub job');
      }
      await this.wait(every);
    }
  }

  /** Calls the hub until it answers (or the lease is gone: a 409 means the hub requeued the job). */
  private async tell(what: (signal: AbortSignal) => Promise<unknown>): Promise<void> {
    while (!this.stopCtl.signal.aborted) {
      try {
        await what(this.stopCtl.signal);
        return;
      } catch (err) {
        if ((err as { status?: number }).status === 409) return;
        if (err instanceof HubAuthError) return;
        await this.wait(500);
      }
    }
  }

  private async runJob(job: Job): Promise<void> {
    let id: string;
    try {
      // the job's lot, wafer and die go into the bench's own record, and reach the hub with it
      ({ id } = await this.o.controller.startRun({
        sequence: job.sequence,
        dut: job.dut,
        operator: `hub job ${job.id}`,
        ...jobOrigin(job),
      }));
    } catch (err) {
      await this.tell((s) => this.client.jobFinished(job.id, 'ERROR', (err as Error).message, s));
      return;
    }
    this.job = { job, runId: id };
    const handle = this.o.controller.active;
    await this.tell((s) => this.client.jobStarted(job.id, id, s));
    const rec = handle?.id === id ? await handle.done : undefined;
    this.forwarder.nudge();
    await this.tell((s) => this.client.jobFinished(job.id, rec?.outcome ?? 'ERROR', rec?.error, s));
  }
}

/** A job's lot, wafer and die, checked as any run's (the hub checked them too; a bench trusts no input). */
function jobOrigin(job: Job): DutOrigin {
  const r = checkDutOrigin(job);
  if (!r.ok) throw new Error(`job ${job.id}: ${r.field}: ${r.message}`);
  return r.value;
}
