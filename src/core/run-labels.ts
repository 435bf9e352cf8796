/**
 * The DUT serial, operator name, lot, wafer and die position of a run: one check for every way a run is started
 * (the API's POST /api/runs, `cpobench run --dut/--operator/--lot/--wafer/--die` and the hub's jobs), so each
 * refuses exactly what the others refuse. A label is 1..200 characters once trimmed, with no control characters
 * (they would end up in reports, file names and terminals); a die position is two integers within ±MAX_DIE.
 */

import { escapeControl } from './printable.ts';
import type { DiePosition, DutOrigin } from './record.ts';

export type RunLabelField = 'dut' | 'operator' | 'lot' | 'wafer';

/** Longest DUT serial or operator name, in characters (after trimming). */
export const MAX_RUN_LABEL = 200;

const REQUIRED: Record<RunLabelField, string> = {
  dut: 'a DUT serial is required',
  operator: 'an operator name is required',
  lot: 'a lot name, when given, is not empty',
  wafer: 'a wafer name, when given, is not empty',
};

/** Largest die coordinate (either sign): a 300 mm wafer of 0.1 mm dies has 3,000 columns. */
export const MAX_DIE = 100_000;

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

/** A die position: `{x, y}` integers within ±MAX_DIE; the message names the coordinate that is wrong. */
export function checkDie(value: unknown): { ok: true; value: DiePosition } | { ok: false; message: string } {
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return {
      ok: false,
      message: `expected {x, y} (integers), got ${Array.isArray(value) ? 'an array' : typeof value}`,
    };
  const v = value as Record<string, unknown>;
  const extra = Object.keys(v).filter((k) => k !== 'x' && k !== 'y');
  if (extra.length) return { ok: false, message: `expected only x and y, got ${extra.join(', ')}` };
  for (const k of ['x', 'y'] as const) {
    const n = v[k];
    if (typeof n !== 'number' || !Number.isInteger(n) || Math.abs(n) > MAX_DIE)
      return {
        ok: false,
        message: `${k}: expected an integer within ±${MAX_DIE}, got ${n === undefined ? 'nothing' : JSON.stringify(n)}`,
      };
  }
  return { ok: true, value: { x: v.x as number, y: v.y as number } };
}

/** `--die X,Y` as typed on a command line ("3,5", "-2, 7"). */
export function parseDieText(text: string): { ok: true; value: DiePosition } | { ok: false; message: string } {
  const m = /^\s*([+-]?\d+)\s*,\s*([+-]?\d+)\s*$/.exec(text);
  if (!m) return { ok: false, message: `expected X,Y (two integers, e.g. 3,5), got "${escapeControl(text)}"` };
  return checkDie({ x: Number(m[1]), y: Number(m[2]) });
}

/**
 * Lot, wafer and die of a run, each optional: the checked origin, or the first field that is wrong and why.
 * Absent (undefined) fields stay absent.
 */
export function checkDutOrigin(input: {
  lot?: unknown;
  wafer?: unknown;
  die?: unknown;
}): { ok: true; value: DutOrigin } | { ok: false; field: 'lot' | 'wafer' | 'die'; message: string } {
  const out: DutOrigin = {};
  for (const f of ['lot', 'wafer'] as const) {
    if (input[f] === undefined) continue;
    const r = checkRunLabel(f, input[f]);
    if (!r.ok) return { ok: false, field: f, message: r.message };
    out[f] = r.value;
  }
  if (input.die !== undefined) {
    const r = checkDie(input.die);
    if (!r.ok) return { ok: false, field: 'die', message: r.message };
    out.die = r.value;
  }
  return { ok: true, value: out };
}
