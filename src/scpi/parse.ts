import type { InstrumentErrorEntry } from '../core/errors.ts';
import { ParseError } from '../core/errors.ts';

/** SCPI special values: 9.9E37 is overflow (+/-infinity), 9.91E37 is not-a-number. */
export const SCPI_OVERFLOW = 9.9e37;
export const SCPI_NAN = 9.91e37;

const NUMBER = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/;

/** Parses NR1 (`42`), NR2 (`4.2`) and NR3 (`4.2E+01`) numbers and the SCPI special values. */
export function parseNumber(text: string, what = 'reply'): number {
  const t = text.trim();
  if (NUMBER.test(t)) {
    const v = Number(t);
    if (Math.abs(v) === SCPI_NAN) return Number.NaN;
    if (v === SCPI_OVERFLOW) return Number.POSITIVE_INFINITY;
    if (v === -SCPI_OVERFLOW) return Number.NEGATIVE_INFINITY;
    return v;
  }
  const u = t.toUpperCase();
  if (u === 'INF' || u === '+INF') return Number.POSITIVE_INFINITY;
  if (u === 'NINF' || u === '-INF') return Number.NEGATIVE_INFINITY;
  if (u === 'NAN') return Number.NaN;
  throw new ParseError(`${what}: expected a number, got "${preview(t)}"`);
}

/** Splits a comma-separated reply, keeping commas inside quoted strings. */
export function splitList(text: string): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (quote) {
      // a doubled quote inside a string (`"a ""b"""`) closes it and opens it again: the same item either way
      cur += c;
      if (c === quote) quote = null;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === ',') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  if (cur.trim() !== '' || out.length > 0) out.push(cur.trim());
  return out;
}

/** Numbers of a comma-separated reply; a blank reply is no numbers. */
export function parseNumberList(text: string, what = 'reply'): number[] {
  return splitList(text).map((v, i) => parseNumber(v, `${what} item ${i + 1}`));
}

export function parseBool(text: string, what = 'reply'): boolean {
  const t = text.trim().toUpperCase();
  if (t === '1' || t === 'ON' || t === 'TRUE') return true;
  if (t === '0' || t === 'OFF' || t === 'FALSE') return false;
  throw new ParseError(`${what}: expected ON/OFF/1/0, got "${preview(t)}"`);
}

export function parseBoolList(text: string, what = 'reply'): boolean[] {
  return splitList(text).map((v, i) => parseBool(v, `${what} item ${i + 1}`));
}

/** Removes SCPI string quotes ("a ""b""" -> a "b"); unquoted text is returned trimmed. */
export function parseString(text: string): string {
  const t = text.trim();
  const q = t[0];
  if ((q === '"' || q === "'") && t.length >= 2 && t[t.length - 1] === q) {
    return t
      .slice(1, -1)
      .split(q + q)
      .join(q);
  }
  return t;
}

export function quoteString(s: string): string {
  return `"${s.split('"').join('""')}"`;
}

/** Parses a `SYST:ERR?` reply: `-222,"Data out of range"`. */
export function parseErrorEntry(text: string): InstrumentErrorEntry {
  // `(.*)` with the s flag runs to the end: no `$` needed
  const m = /^\s*([+-]?\d+)\s*,\s*(.*)/s.exec(text);
  if (!m) throw new ParseError(`SYST:ERR? reply "${preview(text)}" is not <code>,"<message>"`);
  return { code: Number(m[1]), message: parseString(m[2]!) };
}

export function formatErrorEntry(e: InstrumentErrorEntry): string {
  return `${e.code},${quoteString(e.message)}`;
}

/** A short printable preview of text or bytes, for error messages. */
export function preview(text: string | Buffer, max = 60): string {
  // Stryker disable next-line ConditionalExpression,StringLiteral: a string's toString ignores the encoding, so `typeof` may say anything ('latin1' as '' is caught)
  const s = typeof text === 'string' ? text : text.toString('latin1');
  const clipped = s.length > max ? `${s.slice(0, max)}… (${s.length} chars)` : s;
  return clipped.replace(/[\x00-\x1f\x7f-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
}

export function hexPreview(bytes: Buffer, max = 32): string {
  const hex = bytes.subarray(0, max).toString('hex').replace(/(..)/g, '$1 ').trim();
  return bytes.length > max ? `${hex} …` : hex;
}

/** Formats a number for a SCPI command: shortest exact form, exponent where it helps. */
export function formatNumber(v: number): string {
  if (!Number.isFinite(v)) throw new ParseError(`cannot send ${v} as a SCPI number`);
  return String(v).replace('e+', 'E+').replace('e-', 'E-');
}
