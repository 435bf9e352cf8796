/**
 * A run's steps as people list them: each step once, in the order first run, a step nested in a sweep with the
 * coordinates it ran at and its verdict at each ("L-I check @ 25 °C, 45 °C, 65 °C, 85 °C").
 */
import type { StepRecord, Verdict } from '../core/record.ts';
import { worst } from '../core/verdict.ts';
import { coordLabel } from '../shared/coordinates.js';

export interface StepGroup {
  id: string;
  name: string;
  /** The worst verdict of its runs; undefined when one never finished. */
  verdict: Verdict | undefined;
  /** One per run of the step (one for a step not nested in a sweep). */
  runs: StepRecord[];
  /** "@ 25 °C, 45 °C" (each with its verdict when they differ); '' for a step that ran once without coordinates. */
  coordinates: string;
  /** Errors of its runs, with their coordinates. */
  errors: string[];
}

export function stepGroups(steps: readonly StepRecord[]): StepGroup[] {
  const byId = new Map<string, StepGroup>();
  for (const s of steps) {
    let g = byId.get(s.id);
    if (!g) {
      g = { id: s.id, name: s.name, verdict: undefined, runs: [], coordinates: '', errors: [] };
      byId.set(s.id, g);
    }
    g.runs.push(s);
  }
  for (const g of byId.values()) {
    const unfinished = g.runs.some((r) => r.verdict === undefined);
    g.verdict = unfinished ? undefined : worst(g.runs.map((r) => r.verdict!));
    const withAt = g.runs.filter((r) => r.at && Object.keys(r.at).length > 0);
    if (withAt.length > 0) {
      const same = g.runs.every((r) => r.verdict === g.runs[0].verdict);
      g.coordinates = `@ ${g.runs.map((r) => `${coordLabel(r.at)}${same ? '' : ` ${r.verdict ?? 'not finished'}`}`).join(', ')}`;
    }
    for (const r of g.runs) {
      if (r.error) g.errors.push(`${r.at ? `@ ${coordLabel(r.at)}: ` : ''}${r.error}`);
    }
  }
  return [...byId.values()];
}
