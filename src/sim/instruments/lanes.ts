/** Parameter helpers shared by the lane instruments: channel lists, one value or one value per lane. */
import { ScpiCommandError } from '../server/errors.ts';
import type { Param } from '../server/params.ts';
import type { CommandContext } from '../server/tree.ts';

/** The lanes a command names: its last parameter when that is a channel list, else every lane 1..max. */
export function lanesOf(ctx: CommandContext, max: number): { lanes: number[]; values: Param[] } {
  const last = ctx.params[ctx.params.length - 1];
  if (last?.isChannelList) return { lanes: last.channels(max), values: ctx.params.slice(0, -1) };
  return { lanes: Array.from({ length: max }, (_, i) => i + 1), values: ctx.params };
}

/** The lanes of a query: an optional channel list (every lane when absent). */
export function queryLanes(ctx: CommandContext, max: number): number[] {
  const p = ctx.params[0];
  if (!p) return Array.from({ length: max }, (_, i) => i + 1);
  return p.channels(max);
}

/**
 * Numbers for `lanes`: one value for all of them, or exactly one per lane in list order. Parsed and checked
 * in full before anything is applied.
 */
export function perLaneNumbers(values: Param[], lanes: number[], parse: (p: Param) => number): number[] {
  if (values.length === 0) throw new ScpiCommandError(-109, 'expected a value before the channel list');
  if (values.length !== 1 && values.length !== lanes.length) {
    throw new ScpiCommandError(
      -115,
      `expected 1 value or ${lanes.length} values (one per listed lane), got ${values.length}`,
    );
  }
  const parsed = values.map(parse);
  return values.length === 1 ? lanes.map(() => parsed[0]!) : parsed;
}

/** Exactly one parameter before the channel list. */
export function single(values: Param[]): Param {
  if (values.length === 0) throw new ScpiCommandError(-109);
  if (values.length > 1) throw new ScpiCommandError(-108, 'expected one value before the channel list');
  return values[0]!;
}

/** Picks `lanes` (1-based) out of a per-lane array indexed lane - 1. */
export function pick(arr: ArrayLike<number>, lanes: readonly number[]): number[] {
  return lanes.map((l) => arr[l - 1]!);
}

/** Checks a number is within [lo, hi], else -222 naming the range. */
export function inRange(v: number, lo: number, hi: number, what: string, unit = ''): number {
  if (!(v >= lo && v <= hi)) throw new ScpiCommandError(-222, `${what} ${v}${unit} is outside ${lo}..${hi}${unit}`);
  return v;
}
