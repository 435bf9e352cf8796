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

// the worst verdict is a property of verdicts themselves (core), used by the orchestrator and the reports alike
export { worst } from '../core/verdict.ts';

export function describeLimits(l: Limits | undefined): string {
  if (!l) return 'no limits';
  const parts: string[] = [];
  if (l.low !== undefined) parts.push(`≥ ${l.low}`);
  if (l.high !== undefined) parts.push(`≤ ${l.high}`);
  if (l.marginal) parts.push(`marginal band ${l.marginal}`);
  return parts.join(', ') || 'no limits';
}
