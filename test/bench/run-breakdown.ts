/**
 * Where a run's wall time goes, per step, for `npm run bench:run`: for each step (nested ones too, summed over
 * their repeats) its wall time, this process's CPU time, the time spent in SCPI transactions (each one's
 * round trip from the transcript) and the rest: time the run spent neither computing nor waiting for a reply,
 * i.e. in sleeps, poll intervals, settle and ramp delays. Figures are inclusive: a step's include its nested
 * steps'. The driver calls (station.trace) are summed by role and method, for the waits inside drivers.
 */
import { performance } from 'node:perf_hooks';
import type { BenchEvent, TranscriptEntry } from '../../src/core/record.ts';
import type { CallRecord } from '../../src/instruments/trace.ts';

export interface StepFigures {
  id: string;
  depth: number;
  runs: number;
  wallS: number;
  cpuS: number;
  scpiS: number;
  transactions: number;
  /** wall − CPU − SCPI round trips (≥ 0): sleeps, polls, settle and ramp delays. */
  waitS: number;
}

interface Open {
  id: string;
  t0: number;
  cpu0: NodeJS.CpuUsage;
  scpi0: number;
  tx0: number;
}

const r3 = (x: number) => Math.round(x * 1000) / 1000;

/** Collects per-step figures from the run's events and transcript; `result()` once the run is done. */
export class RunBreakdown {
  private readonly open: Open[] = [];
  private readonly steps = new Map<string, StepFigures>();
  private scpiMs = 0;
  private tx = 0;

  /** Feed every bus event. */
  readonly onEvent = (ev: BenchEvent): void => {
    if (ev.type === 'step.started') {
      this.open.push({
        id: ev.step.id,
        t0: performance.now(),
        cpu0: process.cpuUsage(),
        scpi0: this.scpiMs,
        tx0: this.tx,
      });
      if (!this.steps.has(ev.step.id)) {
        this.steps.set(ev.step.id, {
          id: ev.step.id,
          depth: this.open.length - 1,
          runs: 0,
          wallS: 0,
          cpuS: 0,
          scpiS: 0,
          transactions: 0,
          waitS: 0,
        });
      }
    } else if (ev.type === 'step.finished') {
      const i = this.open.map((o) => o.id).lastIndexOf(ev.step);
      if (i < 0) return;
      const o = this.open.splice(i, 1)[0]!;
      const f = this.steps.get(o.id)!;
      const cpu = process.cpuUsage(o.cpu0);
      const wallS = (performance.now() - o.t0) / 1000;
      const cpuS = (cpu.user + cpu.system) / 1e6;
      const scpiS = (this.scpiMs - o.scpi0) / 1000;
      f.runs++;
      f.wallS += wallS;
      f.cpuS += cpuS;
      f.scpiS += scpiS;
      f.transactions += this.tx - o.tx0;
      f.waitS += Math.max(0, wallS - cpuS - scpiS);
    }
  };

  /** Feed every transcript entry: a reply (or a failure) carries its round trip. */
  readonly onTranscript = (e: TranscriptEntry): void => {
    if (e.dir === 'tx') this.tx++;
    else if (e.ms !== undefined) this.scpiMs += e.ms;
  };

  result(): StepFigures[] {
    return [...this.steps.values()].map((f) => ({
      ...f,
      wallS: r3(f.wallS),
      cpuS: r3(f.cpuS),
      scpiS: r3(f.scpiS),
      waitS: r3(f.waitS),
    }));
  }
}

/** Driver calls summed by `role.method`, longest total first. */
export function callTotals(calls: readonly CallRecord[], top = 12): { call: string; count: number; totalS: number }[] {
  const by = new Map<string, { count: number; ms: number }>();
  for (const c of calls) {
    const k = `${c.role}.${c.method}`;
    const x = by.get(k) ?? { count: 0, ms: 0 };
    x.count++;
    x.ms += c.ms;
    by.set(k, x);
  }
  return [...by]
    .map(([call, x]) => ({ call, count: x.count, totalS: r3(x.ms / 1000) }))
    .sort((a, b) => b.totalS - a.totalS)
    .slice(0, top);
}
