/**
 * The DUT serial and operator name of a run: one check for every way a run is started (the API's POST /api/runs
 * and `cpobench run --dut/--operator`), so the CLI refuses exactly what the API refuses. A label is 1..200
 * characters once trimmed, with no control characters (they would end up in reports, file names and terminals).
 */
import { escapeControl } from './printable.ts';

export type RunLabelField = 'dut' | 'operator';

/** Longest DUT serial or operator name, in characters (after trimming). */
export const MAX_RUN_LABEL = 200;

const REQUIRED: Record<RunLabelField, string> = {
  dut: 'a DUT serial is required',
  operator: 'an operator name is required',
};

// C0 controls (ESC, newline, tab...), DEL and C1 controls
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;

/** The trimmed label, or what is wrong with it (without the field name: callers prefix `dut:` or `--dut:`). */
export function checkRunLabel(
  field: RunLabelField,
  value: unknown,
): { ok: true; value: string } | { ok: false; message: string } {
  if (typeof value !== 'string') return { ok: false, message: `expected a string, got ${typeof value}` };
  const v = value.trim();
  if (v === '') return { ok: false, message: REQUIRED[field] };
  if (v.length > MAX_RUN_LABEL) {
    return { ok: false, message: `at most ${MAX_RUN_LABEL} characters, got ${v.length}` };
  }
  const bad = CONTROL.exec(v);
  if (bad) {
    return {
      ok: false,
      message: `no control characters, got ${escapeControl(bad[0])} at position ${bad.index + 1} of "${escapeControl(v)}"`,
    };
  }
  return { ok: true, value: v };
}
