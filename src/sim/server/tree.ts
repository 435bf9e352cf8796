import type { Param } from './params.ts';

/** What a handler receives: the converted header suffixes (SOUR2 -> 2) and the raw parameters. */
export interface CommandContext {
  params: Param[];
  /** Numeric suffixes of `#` nodes in pattern order; 1 when omitted. */
  suffixes: number[];
  header: string;
}

export type QueryResult = string | number | boolean | Buffer | readonly (string | number | boolean)[];

export interface CommandSpec {
  set?: (ctx: CommandContext) => void | Promise<void>;
  query?: (ctx: CommandContext) => QueryResult | Promise<QueryResult>;
  /** Allowed parameter counts for set (default: any) and query (default 0..1). */
  setParams?: [min: number, max: number];
  queryParams?: [min: number, max: number];
}

interface Segment {
  long: string;
  short: string;
  optional: boolean;
  suffix: boolean;
}

interface Entry {
  pattern: string;
  segments: Segment[];
  spec: CommandSpec;
}

export interface Resolved {
  spec: CommandSpec;
  suffixes: number[];
  pattern: string;
}

/**
 * A SCPI command tree built from patterns like `[SOURce#]:CURRent:BIAS[:LEVel]`: upper case is the short
 * form, brackets make a node optional, `#` takes a numeric suffix. Input matches the short or the long
 * form of each node, case-insensitively. Lookups are cached per header.
 */
export class CommandTree {
  private readonly entries: Entry[] = [];
  private readonly cache = new Map<string, Resolved | null>();

  add(pattern: string, spec: CommandSpec): this {
    this.entries.push({ pattern, segments: parsePattern(pattern), spec });
    this.cache.clear();
    return this;
  }

  /** Resolves upper-case header segments (['SOUR2', 'CURR', 'BIAS']) to a command. */
  resolve(segments: readonly string[]): Resolved | null {
    const key = segments.join(':');
    const hit = this.cache.get(key);
    if (hit !== undefined) return hit;
    let found: Resolved | null = null;
    for (const e of this.entries) {
      const suffixes: number[] = [];
      if (matchFrom(e.segments, 0, segments, 0, suffixes)) {
        found = { spec: e.spec, suffixes, pattern: e.pattern };
        break;
      }
    }
    if (this.cache.size > 4096) this.cache.clear();
    this.cache.set(key, found);
    return found;
  }

  patterns(): string[] {
    return this.entries.map((e) => e.pattern);
  }
}

function parsePattern(pattern: string): Segment[] {
  const normalized = pattern.replace(/\[:/g, ':[').replace(/^:/, '');
  return normalized.split(':').map((raw) => {
    const optional = raw.startsWith('[');
    const body = raw.replace(/[[\]]/g, '');
    const suffix = body.endsWith('#');
    const name = suffix ? body.slice(0, -1) : body;
    const short = name.replace(/[a-z]+$/, '').replace(/[a-z]/g, '');
    return { long: name.toUpperCase(), short: short.toUpperCase() || name.toUpperCase(), optional, suffix };
  });
}

function matchSegment(seg: Segment, input: string, suffixes: number[]): boolean {
  let mnemonic = input;
  let suffix: number | undefined;
  if (seg.suffix) {
    const m = /^(.*?)(\d+)$/.exec(input);
    if (m && m[1] !== '') {
      mnemonic = m[1]!;
      suffix = Number(m[2]);
    }
  }
  if (mnemonic !== seg.short && mnemonic !== seg.long) return false;
  if (seg.suffix) suffixes.push(suffix ?? 1);
  return true;
}

function matchFrom(pattern: Segment[], i: number, input: readonly string[], j: number, suffixes: number[]): boolean {
  if (i === pattern.length) return j === input.length;
  const seg = pattern[i]!;
  const mark = suffixes.length;
  if (j < input.length && matchSegment(seg, input[j]!, suffixes)) {
    if (matchFrom(pattern, i + 1, input, j + 1, suffixes)) return true;
    suffixes.length = mark;
  }
  if (seg.optional) {
    if (seg.suffix) suffixes.push(1);
    if (matchFrom(pattern, i + 1, input, j, suffixes)) return true;
    suffixes.length = mark;
  }
  return false;
}
