import type { Verdict } from './record.ts';

const RANK: Record<Verdict, number> = { SKIPPED: 0, PASS: 1, MARGINAL: 2, FAIL: 3, ERROR: 4 };

/** The worst of several verdicts (ERROR > FAIL > MARGINAL > PASS > SKIPPED); PASS when empty. */
export function worst(verdicts: Iterable<Verdict>): Verdict {
  let w: Verdict | undefined;
  // Stryker disable next-line EqualityOperator: `>=` only replaces a verdict with an equal one
  for (const v of verdicts) if (w === undefined || RANK[v] > RANK[w]) w = v;
  return w ?? 'PASS';
}
