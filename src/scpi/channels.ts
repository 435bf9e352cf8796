import { ParseError } from '../core/errors.ts';

/**
 * Builds a SCPI channel list from lanes in the given order, compressing ascending runs into ranges:
 * [1..10, 21, 40..45] -> "(@1:10,21,40:45)". Order is kept because a list query answers in list order.
 */
export function toChannelList(lanes: readonly number[]): string {
  if (lanes.length === 0) throw new ParseError('a channel list needs at least one lane');
  const parts: string[] = [];
  let start = lanes[0]!;
  let prev = start;
  const flush = () => parts.push(start === prev ? `${start}` : `${start}:${prev}`);
  for (let i = 0; i < lanes.length; i++) {
    const lane = lanes[i]!;
    if (!Number.isInteger(lane) || lane < 0) throw new ParseError(`lane ${lane} is not a non-negative integer`);
    if (i === 0) continue;
    if (lane === prev + 1) {
      prev = lane;
    } else {
      flush();
      start = lane;
      prev = lane;
    }
  }
  flush();
  return `(@${parts.join(',')})`;
}

/**
 * Parses "(@1:10,21,40:45)" (or the body "1:10,21") into lanes in list order. Descending ranges ("5:1")
 * count down. `maxChannels` bounds the expansion.
 */
export function parseChannelList(text: string, maxChannels = 100_000): number[] {
  const t = text.trim();
  const m = /^\(\s*@(.*)\)$/s.exec(t);
  const body = m ? m[1]! : t;
  if (body.trim() === '') throw new ParseError(`empty channel list "${text}"`);
  const out: number[] = [];
  for (const raw of body.split(',')) {
    const item = raw.trim();
    const r = /^(\d+)(?:\s*:\s*(\d+))?$/.exec(item);
    if (!r) throw new ParseError(`channel list item "${item}" is not N or N:M`);
    const a = Number(r[1]);
    const b = r[2] === undefined ? a : Number(r[2]);
    // Stryker disable next-line EqualityOperator: for a == b either step gives the one channel a (`<` is caught)
    const step = b >= a ? 1 : -1;
    if (out.length + Math.abs(b - a) + 1 > maxChannels) {
      throw new ParseError(`channel list "${text.slice(0, 40)}" selects more than ${maxChannels} channels`);
    }
    for (let c = a; c !== b + step; c += step) out.push(c);
  }
  return out;
}

/** 1..n as an array, the lanes of a whole array. */
export function allLanes(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i + 1);
}
