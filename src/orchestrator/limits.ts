import type { Limits, Verdict } from '../core/record.ts';

/**
 * Verdict of one value against limits: outside [low, high] is FAIL; inside but within `marginal` of a limit is
 * MARGINAL; otherwise PASS. A missing value (null, NaN) is FAIL when limits exist. No limits: PASS.
 */
export function judge(value: number | null, limits: Limits | undefined): Verdict {
  if (!limits || (limits.low === undefined && limits.high === undefined)) return 'PASS';
  if (value === null || Number.isNaN(value)) return 'FAIL';
  // A missing limit is an infinite one: no guards, no comparison with undefined.
  const low = limits.low ?? Number.NEGATIVE_INFINITY;
  const high = limits.high ?? Number.POSITIVE_INFINITY;
  if (value < low || value > high) return 'FAIL';
  // Now low <= value <= high, so a band of 0 (or a negative one) makes neither test true.
  const m = limits.marginal ?? 0;
  if (value < low + m || value > high - m) return 'MARGINAL';
  return 'PASS';
}

const RANK: Record<Verdict, number> = { SKIPPED: 0, PASS: 1, MARGINAL: 2, FAIL: 3, ERROR: 4 };

/** The worst of several verdicts (ERROR > FAIL > MARGINAL > PASS > SKIPPED); PASS when empty. */
export function worst(verdicts: Iterable<Verdict>): Verdict {
  let w: Verdict | undefined;
  // Stryker disable next-line EqualityOperator: `>=` only replaces a verdict with an equal one
  for (const v of verdicts) if (w === undefined || RANK[v] > RANK[w]) w = v;
  return w ?? 'PASS';
}

export function describeLimits(l: Limits | undefined): string {
  if (!l) return 'no limits';
  const parts: string[] = [];
  if (l.low !== undefined) parts.push(`≥ ${l.low}`);
  if (l.high !== undefined) parts.push(`≤ ${l.high}`);
  if (l.marginal) parts.push(`marginal band ${l.marginal}`);
  return parts.join(', ') || 'no limits';
}
