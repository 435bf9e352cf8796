import { ParseError } from '../../core/errors.ts';
import { parseChannelList } from '../../scpi/channels.ts';
import { ScpiCommandError } from './errors.ts';

/** Case-sensitive SI prefixes as users type them (100uA, 2GHz, 450nm, 5mV). */
const PREFIX: Record<string, number> = {
  T: 1e12,
  G: 1e9,
  M: 1e6,
  k: 1e3,
  K: 1e3,
  m: 1e-3,
  u: 1e-6,
  µ: 1e-6,
  n: 1e-9,
  p: 1e-12,
  f: 1e-15,
};
/** SCPI upper-case suffix multipliers (MA is mega, M is milli). */
const SCPI_PREFIX: Record<string, number> = {
  EX: 1e18,
  PE: 1e15,
  T: 1e12,
  G: 1e9,
  MA: 1e6,
  K: 1e3,
  M: 1e-3,
  U: 1e-6,
  N: 1e-9,
  P: 1e-12,
  F: 1e-15,
  A: 1e-18,
};

const NUM = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)\s*(.*)$/;

/** Parses a number with an optional SI suffix; `unit` is the unit the command takes (A, V, W, HZ, S, M, C, BPS). */
export function parseNumeric(text: string, unit?: string): number {
  const m = NUM.exec(text.trim());
  if (!m) {
    if (/^[+-]?\d/.test(text.trim())) throw new ScpiCommandError(-121, text.trim().slice(0, 20));
    throw new ScpiCommandError(-104, `expected a number, got "${text.trim().slice(0, 20)}"`);
  }
  const value = Number(m[1]);
  const suffix = m[2]!.trim();
  if (suffix === '') return value;
  if (!unit) throw new ScpiCommandError(-138, suffix);
  const units = unit === 'BPS' ? ['BPS', 'B/S', 'HZ'] : unit === 'C' ? ['C', 'CEL'] : unit === 'M' ? ['M'] : [unit];
  for (const u of units) {
    // case-sensitive SI form first: 450nm, 2GHz, 100uA
    if (suffix.toUpperCase().endsWith(u)) {
      const pre = suffix.slice(0, suffix.length - u.length);
      if (pre === '') return value;
      // All upper case follows SCPI (M is milli, MA mega; MHZ is the customary exception); mixed case is SI.
      if (suffix === suffix.toUpperCase()) {
        if (pre === 'M' && u === 'HZ') return value * 1e6;
        if (SCPI_PREFIX[pre] !== undefined) return value * SCPI_PREFIX[pre]!;
      } else if (PREFIX[pre] !== undefined) return value * PREFIX[pre]!;
    }
  }
  throw new ScpiCommandError(-131, `"${suffix}" (expected ${unit})`);
}

/** One parameter of a program message unit, converted on demand by the handler. */
export class Param {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }

  get isChannelList(): boolean {
    return /^\(\s*@/.test(this.text);
  }

  /** A number (with an optional SI suffix of `unit`), or MIN/MAX/DEF mapped through `keywords`. */
  number(unit?: string, keywords?: { MIN?: number; MAX?: number; DEF?: number }): number {
    const up = this.text.toUpperCase();
    if (keywords) {
      if ((up === 'MIN' || up === 'MINIMUM') && keywords.MIN !== undefined) return keywords.MIN;
      if ((up === 'MAX' || up === 'MAXIMUM') && keywords.MAX !== undefined) return keywords.MAX;
      if ((up === 'DEF' || up === 'DEFAULT') && keywords.DEF !== undefined) return keywords.DEF;
    }
    const v = parseNumeric(this.text, unit);
    if (!Number.isFinite(v)) throw new ScpiCommandError(-120);
    return v;
  }

  int(): number {
    const v = this.number();
    if (!Number.isInteger(v)) throw new ScpiCommandError(-104, `expected an integer, got ${this.text}`);
    return v;
  }

  bool(): boolean {
    const up = this.text.toUpperCase();
    if (up === 'ON' || up === '1') return true;
    if (up === 'OFF' || up === '0') return false;
    throw new ScpiCommandError(-224, `expected ON|OFF|1|0, got ${this.text.slice(0, 20)}`);
  }

  /** Character data matched against long/short forms, e.g. ['PRBS7', 'CLOCk']; returns the canonical long form. */
  keyword(allowed: readonly string[]): string {
    const up = this.text.toUpperCase();
    for (const a of allowed) {
      const long = a.toUpperCase();
      const short = a.replace(/[a-z]+$/, '').toUpperCase();
      if (up === long || up === short) return long;
    }
    throw new ScpiCommandError(
      -224,
      `expected ${allowed.map((a) => a.toUpperCase()).join('|')}, got ${this.text.slice(0, 20)}`,
    );
  }

  string(): string {
    const t = this.text;
    const q = t[0];
    if ((q === '"' || q === "'") && t.length >= 2 && t[t.length - 1] === q)
      return t
        .slice(1, -1)
        .split(q + q)
        .join(q);
    throw new ScpiCommandError(-151, 'expected a quoted string');
  }

  /** Channel list `(@1:400)`; every channel must be within 1..max. */
  channels(max: number): number[] {
    if (!this.isChannelList)
      throw new ScpiCommandError(-104, `expected a channel list (@...), got ${this.text.slice(0, 20)}`);
    let list: number[];
    try {
      list = parseChannelList(this.text, Math.max(max * 4, 16));
    } catch (err) {
      throw new ScpiCommandError(-224, err instanceof ParseError ? err.message : 'bad channel list');
    }
    for (const c of list) {
      if (c < 1 || c > max) throw new ScpiCommandError(-222, `channel ${c} is outside 1..${max}`);
    }
    return list;
  }
}

/** One header plus its parameters, after compound-header resolution. */
export interface ProgramUnit {
  /** Upper-case header segments, e.g. ['SOUR', 'CURR', 'BIAS'], or ['*IDN'] for common commands. */
  segments: string[];
  /** The header's own segments, tried from the root when the compound-relative path matches nothing. */
  ownSegments: string[];
  query: boolean;
  common: boolean;
  params: Param[];
  /** The header as sent, for messages. */
  header: string;
}

/** Splits text on a separator outside quotes, parentheses and blocks. */
function splitTop(text: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth = Math.max(0, depth - 1);
    else if (c === sep && depth === 0) {
      out.push(text.slice(start, i));
      start = i + 1;
    }
  }
  if (quote) throw new ScpiCommandError(-151, 'unterminated string');
  out.push(text.slice(start));
  return out;
}

export interface ParseLimits {
  maxParams: number;
  maxMnemonic: number;
}

/**
 * Parses one program message (a line) into units. Headers after `;` without a leading `:` are relative to
 * the previous header's path (SCPI compound rule); common commands leave the path alone.
 */
export function parseProgramMessage(
  line: string,
  limits: ParseLimits = { maxParams: 512, maxMnemonic: 12 },
): (ProgramUnit | ScpiCommandError)[] {
  let parts: string[];
  try {
    parts = splitTop(line, ';');
  } catch (err) {
    return [err as ScpiCommandError];
  }
  const out: (ProgramUnit | ScpiCommandError)[] = [];
  let path: string[] = [];
  for (const raw of parts) {
    const unit = raw.trim();
    if (unit === '') continue;
    try {
      const sp = unit.search(/\s/);
      const header = sp === -1 ? unit : unit.slice(0, sp);
      const rest = sp === -1 ? '' : unit.slice(sp + 1).trim();
      const query = header.endsWith('?');
      const h = query ? header.slice(0, -1) : header;
      if (h === '' || /[^A-Za-z0-9:*_]/.test(h))
        throw new ScpiCommandError(h.includes(',') ? -103 : -102, header.slice(0, 30));
      let segments: string[];
      let ownSegments: string[];
      let common = false;
      if (h.startsWith('*')) {
        common = true;
        segments = [h.toUpperCase()];
        ownSegments = segments;
      } else {
        const absolute = h.startsWith(':');
        const segs = (absolute ? h.slice(1) : h).split(':');
        if (segs.some((s) => s === '')) throw new ScpiCommandError(-102, header.slice(0, 30));
        for (const s of segs) {
          if (s.replace(/\d+$/, '').length > limits.maxMnemonic) throw new ScpiCommandError(-112, s.slice(0, 20));
        }
        const upper = segs.map((s) => s.toUpperCase());
        segments = absolute ? upper : [...path, ...upper];
        ownSegments = upper;
        path = segments.slice(0, -1);
      }
      const params = rest === '' ? [] : splitTop(rest, ',').map((p) => p.trim());
      if (params.some((p) => p === '')) throw new ScpiCommandError(-103, 'empty parameter');
      if (params.length > limits.maxParams)
        throw new ScpiCommandError(-108, `more than ${limits.maxParams} parameters`);
      out.push({ segments, ownSegments, query, common, params: params.map((p) => new Param(p)), header });
    } catch (err) {
      if (err instanceof ScpiCommandError) out.push(err);
      else throw err;
    }
  }
  return out;
}
