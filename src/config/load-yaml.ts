/**
 * YAML + zod loading with errors that point at the file: every problem is reported as
 * `file:line:column key.path: expected ..., got ...`, the way an editor or CI log can jump to it.
 * Used for link profiles, station files, sequences and fault plans.
 */

import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import path from 'node:path';
import { type Document, isMap, isSeq, LineCounter, parseDocument, visit, type Node as YamlNode } from 'yaml';
import type { z } from 'zod';

/**
 * The largest input file cpobench reads (station, sequence, link profile, fault plan, --answers): 1 MiB. The
 * shipped files are a few KiB; a bigger one is a mistake, and parsing it could take minutes and gigabytes.
 * The size is checked before anything is read.
 */
export const MAX_CONFIG_BYTES = 1024 * 1024;

/** How many alias expansions a YAML document may make (the `yaml` package's maxAliasCount): no billion laughs. */
export const MAX_YAML_ALIASES = 1000;

export interface ConfigIssue {
  file: string;
  /** 1-based. */
  line: number;
  /** 1-based. */
  column: number;
  /** Dotted key path, e.g. `link.rate` or `geometry.spareLanes[3]`; empty for the document itself. */
  path: string;
  /** What was expected, e.g. `expected a number > 0`. */
  expected: string;
  /** What was found, e.g. `0`, or undefined when not meaningful. */
  got?: string;
}

export function formatIssue(i: ConfigIssue): string {
  return `${i.file}:${i.line}:${i.column} ${describeIssue(i)}`;
}

/** The issue without its position: `key.path: expected ..., got ...` (for data that is not a file). */
export function describeIssue(i: ConfigIssue): string {
  const p = i.path === '' ? '(document)' : i.path;
  return `${p}: ${i.expected}${i.got === undefined ? '' : `, got ${i.got}`}`;
}

/** A configuration file failed to read, parse or validate. The fields describe the first issue. */
export class ConfigError extends Error {
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly path: string;
  readonly expected: string;
  readonly got: string | undefined;
  readonly issues: readonly ConfigIssue[];

  constructor(issues: readonly ConfigIssue[]) {
    const first = issues[0] ?? { file: '?', line: 0, column: 0, path: '', expected: 'valid configuration' };
    const more = issues.length > 1 ? `\n${issues.slice(1).map(formatIssue).join('\n')}` : '';
    super(formatIssue(first) + more);
    this.name = 'ConfigError';
    this.file = first.file;
    this.line = first.line;
    this.column = first.column;
    this.path = first.path;
    this.expected = first.expected;
    this.got = first.got;
    this.issues = issues;
  }
}

/** A file label for messages: relative to the working directory when inside it. */
export function fileLabel(file: string): string {
  const abs = path.resolve(file);
  const rel = path.relative(process.cwd(), abs);
  return rel && !rel.startsWith('..') && !path.isAbsolute(rel) ? rel : abs;
}

function sizeText(bytes: number): string {
  const mib = bytes / (1024 * 1024);
  const human = mib >= 1 ? `${Number(mib.toFixed(1))} MiB` : `${Number((bytes / 1024).toFixed(1))} KiB`;
  return `${human} (${bytes} bytes)`;
}

/**
 * Reads an input file as UTF-8 text, refusing (ConfigError naming the file) a missing file, a directory, and
 * anything over `limit` bytes: the size is checked before reading, and at most limit + 1 bytes are ever read
 * (so a device or a file still growing cannot run away either).
 */
export function readConfigText(file: string, limit = MAX_CONFIG_BYTES): string {
  const label = fileLabel(file);
  const refuse = (expected: string, got: string) =>
    new ConfigError([{ file: label, line: 0, column: 0, path: '', expected, got }]);
  const tooBig = `a file of at most ${sizeText(limit)}`;
  let fd: number;
  try {
    fd = openSync(file, 'r');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw refuse('a readable file', code === 'ENOENT' ? 'no such file' : String((err as Error).message));
  }
  try {
    const st = fstatSync(fd);
    if (st.isDirectory()) throw refuse('a readable file', 'a directory');
    if (st.isFile() && st.size > limit) throw refuse(tooBig, sizeText(st.size));
    const buf = Buffer.allocUnsafe(limit + 1);
    let n = 0;
    for (;;) {
      const got = readSync(fd, buf, n, buf.length - n, null);
      if (got === 0) break;
      n += got;
      if (n > limit) throw refuse(tooBig, `more than ${limit} bytes`);
    }
    return buf.toString('utf8', 0, n);
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    throw refuse('a readable file', String((err as Error).message));
  } finally {
    closeSync(fd);
  }
}

/** Reads, parses and validates a YAML file. Throws ConfigError. */
export function loadYamlFile<T>(file: string, schema: z.ZodType<T>): T {
  return parseYamlText(readConfigText(file), fileLabel(file), schema);
}

/** Parses and validates YAML text; `fileLabel` names it in messages. Throws ConfigError. */
export function parseYamlText<T>(text: string, fileLabel: string, schema: z.ZodType<T>): T {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: true, uniqueKeys: true });
  if (doc.errors.length > 0) {
    throw new ConfigError(
      doc.errors.map((e) => {
        const pos = e.linePos?.[0] ?? lineCounter.linePos(e.pos[0]);
        const msg = e.message.split('\n')[0] ?? e.message;
        return { file: fileLabel, line: pos.line, column: pos.col, path: '', expected: 'valid YAML', got: msg };
      }),
    );
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: MAX_YAML_ALIASES });
  } catch (err) {
    // "Excessive alias count": an alias bomb (billion laughs). Point at the first alias.
    let offset = 0;
    visit(doc, {
      Alias(_key, node) {
        offset = node.range?.[0] ?? 0;
        return visit.BREAK;
      },
    });
    const pos = lineCounter.linePos(offset);
    throw new ConfigError([
      {
        file: fileLabel,
        line: pos.line,
        column: pos.col,
        path: '',
        expected: `YAML whose aliases expand to at most ${MAX_YAML_ALIASES} nodes`,
        got: (err as Error).message,
      },
    ]);
  }
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  const issues = result.error.issues.map((iss) =>
    issueToConfigIssue(iss, fileLabel, data, (p, isKey) => lineCounter.linePos(locate(doc, p, isKey))),
  );
  throw new ConfigError(issues);
}

/**
 * Validates data that does not come from a file (e.g. an API request body) with the same messages as a file
 * would get; the issues carry the key path and no position (line and column 0). Throws ConfigError.
 */
export function validateData<T>(data: unknown, label: string, schema: z.ZodType<T>): T {
  const result = schema.safeParse(data);
  if (result.success) return result.data;
  throw new ConfigError(
    result.error.issues.map((iss) => issueToConfigIssue(iss, label, data, () => ({ line: 0, col: 0 }))),
  );
}

type Issue = z.core.$ZodIssue;

function formatPath(p: readonly PropertyKey[]): string {
  let s = '';
  for (const k of p) {
    if (typeof k === 'number') s += `[${k}]`;
    else s += s === '' ? String(k) : `.${String(k)}`;
  }
  return s;
}

function describe(v: unknown): string {
  if (v === undefined) return 'nothing';
  if (v === null) return 'null';
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  if (Array.isArray(v)) return `a list of ${v.length}`;
  if (typeof v === 'object') return 'a mapping';
  return typeof v;
}

function valueAt(data: unknown, p: readonly PropertyKey[]): unknown {
  let cur: unknown = data;
  for (const k of p) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[k];
  }
  return cur;
}

function article(t: string): string {
  return /^[aeiou]/.test(t) ? `an ${t}` : `a ${t}`;
}

function bound(origin: string, cmp: string, n: number | bigint): string {
  switch (origin) {
    case 'array':
    case 'set':
      return `expected ${cmp === '>=' ? 'at least' : cmp === '<=' ? 'at most' : cmp} ${n} items`;
    case 'string':
      return `expected ${cmp === '>=' ? 'at least' : cmp === '<=' ? 'at most' : cmp} ${n} characters`;
    case 'int':
      return `expected an integer ${cmp} ${n}`;
    default:
      return `expected a number ${cmp} ${n}`;
  }
}

function expectedOf(iss: Issue): { expected: string; showGot: boolean } {
  switch (iss.code) {
    case 'invalid_type':
      return { expected: `expected ${article(String(iss.expected))}`, showGot: true };
    case 'too_small':
      return {
        expected: bound(iss.origin, iss.exact ? '=' : iss.inclusive ? '>=' : '>', iss.minimum),
        showGot: true,
      };
    case 'too_big':
      return { expected: bound(iss.origin, iss.exact ? '=' : iss.inclusive ? '<=' : '<', iss.maximum), showGot: true };
    case 'invalid_value':
      return {
        expected:
          iss.values.length === 1
            ? `expected ${JSON.stringify(iss.values[0])}`
            : `expected one of ${iss.values.map((v) => JSON.stringify(v)).join(', ')}`,
        showGot: true,
      };
    case 'not_multiple_of':
      return { expected: `expected a multiple of ${iss.divisor}`, showGot: true };
    case 'unrecognized_keys':
      return { expected: 'unknown key (not part of the schema)', showGot: false };
    case 'invalid_format':
      return { expected: `expected a valid ${iss.format}`, showGot: true };
    case 'invalid_union':
      return {
        expected: iss.message ? `expected ${stripExpected(iss.message)}` : 'expected a valid entry',
        showGot: true,
      };
    default:
      return { expected: stripExpected(iss.message), showGot: true };
  }
}

function stripExpected(m: string): string {
  return m.replace(/^Invalid input:?\s*/i, '').trim() || 'a valid value';
}

function nodeRange(node: unknown): [number, number, number] | undefined {
  const r = (node as { range?: [number, number, number] } | undefined)?.range;
  return Array.isArray(r) ? r : undefined;
}

/** Finds the YAML node for a path; for a missing node, the nearest existing ancestor. */
function locate(doc: Document, p: readonly PropertyKey[], keyNode: boolean): number {
  const keys = p.map((k) => (typeof k === 'symbol' ? String(k) : k));
  for (let n = keys.length; n >= 0; n--) {
    const sub = keys.slice(0, n);
    if (keyNode && n === keys.length && n > 0) {
      const parent = n - 1 === 0 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
      const last = sub[n - 1];
      if (isMap(parent)) {
        const pair = parent.items.find((it) => {
          const k = it.key as YamlNode | string | number | null;
          const kv = k !== null && typeof k === 'object' && 'value' in k ? (k as { value: unknown }).value : k;
          return String(kv) === String(last);
        });
        const r = nodeRange(pair?.key);
        if (r) return r[0];
      }
      continue;
    }
    const node = n === 0 ? doc.contents : doc.getIn(sub, true);
    if (node !== undefined && node !== null) {
      const r = nodeRange(node);
      if (r) return r[0];
    }
    if (n === 0) break;
    // A path step into a sequence or map that exists but lacks the key: point at the container.
    const parent = n - 1 === 0 ? doc.contents : doc.getIn(sub.slice(0, -1), true);
    if ((isMap(parent) || isSeq(parent)) && nodeRange(parent)) {
      return nodeRange(parent)![0];
    }
  }
  return 0;
}

function issueToConfigIssue(
  iss: Issue,
  file: string,
  data: unknown,
  position: (p: readonly PropertyKey[], isKey: boolean) => { line: number; col: number },
): ConfigIssue {
  let p: PropertyKey[] = [...iss.path];
  let isKey = false;
  let got: string | undefined;
  if (iss.code === 'unrecognized_keys') {
    p = [...p, iss.keys[0] ?? '?'];
    isKey = true;
    got = iss.keys.map((k) => JSON.stringify(k)).join(', ');
  }
  const { expected, showGot } = expectedOf(iss);
  if (showGot) got = describe(valueAt(data, p));
  const pos = position(p, isKey);
  const out: ConfigIssue = { file, line: pos.line, column: pos.col, path: formatPath(p), expected };
  if (got !== undefined) out.got = got;
  return out;
}
