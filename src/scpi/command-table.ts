/**
 * One command table per instrument model, as data: each property is one line (header, value type, unit, what it
 * means), in the manner of PyMeasure's `Instrument.control`. The driver builds what it sends and parses what it
 * reads from the table; the simulated instrument registers the same headers and parses the same values from it. A
 * command written in one place cannot drift from the other.
 *
 * Headers are SCPI patterns: upper case is the short form, brackets mark optional nodes
 * (`[SOURce]:TEMPerature[:SPOint]`). A driver sends the short form of the required nodes (`TEMP`), unless the table
 * gives the form a vendor's manual shows (`send: 'SOUR:TEMP'`). An instrument accepts the long and short forms of
 * every node, the optional ones present or not.
 */
import { toChannelList } from './channels.ts';
import { formatNumber, parseBool, parseNumber, parseString, quoteString, splitList } from './parse.ts';

/** What the keywords `MIN`, `MAX` and `DEF` of a numeric parameter stand for on one instrument. */
export interface NumericKeywords {
  MIN?: number;
  MAX?: number;
  DEF?: number;
}

/** What an instrument-side parameter offers (the simulated instruments' Param satisfies it). */
export interface ParamReader {
  readonly text: string;
  number(unit?: string, keywords?: NumericKeywords): number;
  int(): number;
  bool(): boolean;
  keyword(allowed: readonly string[]): string;
  string(): string;
}

/** One item of an instrument's reply, before it is formatted (numbers in NR1/NR3, booleans as 1/0). */
export type ReplyItem = string | number | boolean;

/** One value on the wire: how a driver writes and reads it, how an instrument parses and answers it. */
export interface ScpiValue<T> {
  /** For messages and docs: "a number in A", "ON|OFF". */
  readonly describe: string;
  /** The reply is an IEEE 488.2 block (binary), read with a block query, not as text. */
  readonly block?: boolean;
  /** Driver: a parameter as sent. */
  write(v: T): string;
  /** Driver: one reply item. */
  read(text: string): T;
  /** Instrument: one parameter; `keywords` are what MIN/MAX/DEF mean on this instrument, if it takes them. */
  parse(p: ParamReader, keywords?: NumericKeywords): T;
  /** Instrument: the reply (one item; several for a list value; bytes for a block). */
  reply(v: T): ReplyItem | readonly ReplyItem[] | Buffer;
}

/** A number; `unit` is the SI unit an instrument accepts as a suffix (`100uA`), `suffix` what a driver appends. */
export function num(unit?: string, o: { suffix?: string } = {}): ScpiValue<number> {
  return {
    describe: unit ? `a number in ${unit}` : 'a number',
    write: (v) => `${formatNumber(v)}${o.suffix ?? ''}`,
    read: (t) => parseNumber(t),
    parse: (p, keywords) => p.number(unit, keywords),
    reply: (v) => v,
  };
}

export const int: ScpiValue<number> = {
  describe: 'an integer',
  write: (v) => formatNumber(v),
  read: (t) => {
    const v = parseNumber(t);
    if (!Number.isInteger(v)) throw new Error(`expected an integer, got "${t}"`);
    return v;
  },
  parse: (p) => p.int(),
  reply: (v) => v,
};

export const bool: ScpiValue<boolean> = {
  describe: 'ON|OFF',
  write: (v) => (v ? 'ON' : 'OFF'),
  read: (t) => parseBool(t),
  parse: (p) => p.bool(),
  reply: (v) => v,
};

/**
 * One of a fixed set of keywords, written as SCPI writes them: upper case the short form, lower case the rest
 * (`PRBS7`, `Celsius` = `C` or `CELSIUS`). A driver sends the short form; an instrument accepts either.
 */
export function keyword<K extends string>(allowed: readonly K[]): ScpiValue<K> {
  const upper = allowed.map((a) => a.toUpperCase());
  const short = (v: string) => v.replace(/[a-z]+$/, '').toUpperCase();
  return {
    describe: upper.join('|'),
    write: (v) => short(v),
    read: (t) => {
      const u = parseString(t).toUpperCase();
      const i = upper.findIndex((a, k) => a === u || allowed[k]!.replace(/[a-z]+$/, '').toUpperCase() === u);
      if (i < 0) throw new Error(`expected ${upper.join('|')}, got "${t}"`);
      return allowed[i]!;
    },
    parse: (p) => {
      const long = p.keyword(allowed);
      return allowed[upper.indexOf(long)]!;
    },
    reply: (v) => short(v),
  };
}

export const str: ScpiValue<string> = {
  describe: 'a quoted string',
  write: (v) => quoteString(v),
  read: (t) => parseString(t),
  parse: (p) => p.string(),
  reply: (v) => quoteString(v),
};

/** Text taken whole, unquoted (arbitrary ASCII response data: a sensor head's identity, a module model). */
export const text: ScpiValue<string> = {
  describe: 'text',
  write: (v) => v,
  read: (t) => t.trim(),
  parse: (p) => p.text,
  reply: (v) => v,
};

/**
 * A fixed number of comma-separated items in one reply (`SENS:FRAM:SIZE?` answers `width,height`). A reply only:
 * as a parameter it would be several parameters, which a table line does not describe.
 */
export function listOf<E>(item: ScpiValue<E>, count: number): ScpiValue<E[]> {
  return {
    describe: `${count} comma-separated values (each ${item.describe})`,
    write: (v) => v.map((x) => item.write(x)).join(','),
    read: (t) => {
      const items = splitList(t);
      if (items.length !== count) throw new Error(`expected ${count} values, got ${items.length}`);
      return items.map((x) => item.read(x));
    },
    parse: () => {
      throw new Error(`a list of ${count} values is a reply, not a parameter`);
    },
    reply: (v) => v.map((x) => item.reply(x) as ReplyItem),
  };
}

/** An IEEE 488.2 definite-length block `#<n><len><bytes>` (a reply; the driver reads it with a block query). */
export const block: ScpiValue<Buffer> = {
  describe: 'an IEEE 488.2 definite-length block',
  block: true,
  write: () => {
    throw new Error('a block is a reply, not a parameter');
  },
  read: () => {
    throw new Error('a block is read with a block query, not as text');
  },
  parse: () => {
    throw new Error('a block is a reply, not a parameter');
  },
  reply: (v) => v,
};

/** Channels a command addresses: none, or a channel list (lanes of an array, rails of a mainframe, ports). */
export type Channels = 'none' | 'list';

export interface ScpiCommand<T> {
  /** Header pattern: long/short forms, optional nodes in brackets. */
  readonly header: string;
  /** What a driver sends (derived from the header unless the table names a vendor's form). */
  readonly send: string;
  readonly value: ScpiValue<T> | undefined;
  readonly channels: Channels;
  /** A setting takes one value per listed channel (`v1,v2,...,(@list)`) as well as one for all. */
  readonly perChannel: boolean;
  readonly settable: boolean;
  readonly queryable: boolean;
  readonly unit?: string;
  readonly doc: string;
}

/** The short form of a header's required nodes: `[SOURce]:TEMPerature[:SPOint]` -> `TEMP`. */
export function shortForm(header: string): string {
  const nodes = header
    .replace(/\[[^\]]*\]/g, '')
    .split(':')
    .filter(Boolean);
  // A node's optional tail is its lower-case letters and a `#` suffix, at its end; a common command (`*RST`) has none.
  return nodes.map((n) => n.replace(/[a-z#]+$/, '')).join(':');
}

interface CommandOptions {
  channels?: Channels;
  perChannel?: boolean;
  unit?: string;
  send?: string;
}

function make<T>(
  header: string,
  value: ScpiValue<T> | undefined,
  doc: string,
  settable: boolean,
  queryable: boolean,
  o: CommandOptions,
): ScpiCommand<T> {
  return {
    header,
    send: o.send ?? shortForm(header),
    value,
    channels: o.channels ?? 'none',
    perChannel: o.perChannel ?? false,
    settable,
    queryable,
    ...(o.unit ? { unit: o.unit } : {}),
    doc,
  };
}

/** A property that is set and read back. */
export function control<T>(header: string, value: ScpiValue<T>, doc: string, o: CommandOptions = {}): ScpiCommand<T> {
  return make(header, value, doc, true, true, o);
}

/** A value that is only read (a measurement, a count, a status). */
export function measure<T>(header: string, value: ScpiValue<T>, doc: string, o: CommandOptions = {}): ScpiCommand<T> {
  return make(header, value, doc, false, true, o);
}

/** A setting with no query form. */
export function setting<T>(header: string, value: ScpiValue<T>, doc: string, o: CommandOptions = {}): ScpiCommand<T> {
  return make(header, value, doc, true, false, o);
}

/** A command with no parameter and no reply (`SENS:CORR:COLL:ZERO`). */
export function action(header: string, doc: string, o: CommandOptions = {}): ScpiCommand<undefined> {
  return make<undefined>(header, undefined, doc, true, false, o);
}

// ---------------------------------------------------------------- driver side

/** The setting as sent: `SOUR:CURR:BIAS 0.0001,(@1:400)`, or one value per channel `v1,v2,(@1:2)`. */
export function formatSet<T>(cmd: ScpiCommand<T>, value?: T | readonly T[], channels?: readonly number[]): string {
  if (!cmd.settable) throw new Error(`${cmd.send} is not a setting`);
  const parts: string[] = [];
  if (cmd.value) {
    if (value === undefined) throw new Error(`${cmd.send} needs a value (${cmd.value.describe})`);
    const values = Array.isArray(value) ? (value as readonly T[]) : [value as T];
    if (values.length > 1 && !cmd.perChannel) throw new Error(`${cmd.send} takes one value, not ${values.length}`);
    const first = cmd.value.write(values[0]!);
    const written = values.map((v) => cmd.value!.write(v));
    parts.push(written.every((w) => w === first) ? first : written.join(','));
  }
  if (cmd.channels === 'list') {
    if (!channels?.length) throw new Error(`${cmd.send} needs a channel list`);
    parts.push(toChannelList(channels));
  }
  return parts.length ? `${cmd.send} ${parts.join(',')}` : cmd.send;
}

/** The query as sent: `SOUR:CURR:BIAS? (@1:400)`. */
export function formatQuery<T>(cmd: ScpiCommand<T>, channels?: readonly number[]): string {
  if (!cmd.queryable) throw new Error(`${cmd.send} has no query form`);
  if (cmd.channels === 'list') {
    if (!channels?.length) throw new Error(`${cmd.send}? needs a channel list`);
    return `${cmd.send}? ${toChannelList(channels)}`;
  }
  return `${cmd.send}?`;
}

/** A reply: one value, or one per channel when the command takes a channel list (the count is checked). */
export function parseReply<T>(cmd: ScpiCommand<T>, reply: string, channels?: readonly number[]): T[] {
  if (!cmd.value) throw new Error(`${cmd.send} has no reply`);
  if (cmd.value.block) throw new Error(`${cmd.send}? answers a block: read it with a block query`);
  // Stryker disable next-line MethodExpression: every value type's read trims its text too
  const items = cmd.channels === 'list' ? splitList(reply) : [reply.trim()];
  const expected = cmd.channels === 'list' ? (channels?.length ?? items.length) : 1;
  if (items.length !== expected) throw new Error(`expected ${expected} values, got ${items.length}`);
  return items.map((t) => cmd.value!.read(t));
}
