/**
 * Two forms of command-table lines beyond "one value": a value written as several comma-separated fields
 * (`ROUT1:CHAN1 A,17`, `SENS:MEAS:EAL:PER 0,0,25,28`), and a query that names the item it asks for
 * (`CALC:DATA:EAL? "CURRent:EC:TOTal"`). The driver side is here; the simulated instrument registers such a
 * header with `command()` and parses each field with `parseFields` (the same table line, so both ends agree).
 */
import type { ParamReader, ScpiCommand, ScpiValue } from './command-table.ts';
import { formatQuery } from './command-table.ts';
import { quoteString, splitList } from './parse.ts';

/** A value carried by a fixed number of fields. `write`/`read` join and split them (driver side). */
export interface FieldsValue<T> extends ScpiValue<T> {
  readonly arity: number;
  /** Instrument: the value from its fields, one parameter each. */
  parseFields(params: readonly ParamReader[]): T;
  /** Instrument: the reply as its fields. */
  replyFields(v: T): (string | number | boolean)[];
}

/**
 * A value of `arity` fields: `toFields` gives the text of each field to send and `fromFields` the value from the
 * fields read back (text) or received (parameters, through `parse`).
 */
export function fields<T>(o: {
  describe: string;
  arity: number;
  toFields(v: T): (string | number)[];
  fromFields(fields: readonly string[]): T;
  /** How the instrument reads each parameter into text (default: its text as sent). */
  parse?(p: ParamReader, index: number): string;
}): FieldsValue<T> {
  const check = (n: number) => {
    if (n !== o.arity) throw new Error(`expected ${o.arity} fields (${o.describe}), got ${n}`);
  };
  return {
    describe: o.describe,
    arity: o.arity,
    write: (v) => o.toFields(v).join(','),
    read: (text) => {
      const f = splitList(text);
      check(f.length);
      return o.fromFields(f);
    },
    parse: () => {
      throw new Error(`${o.describe} takes ${o.arity} parameters: use parseFields`);
    },
    parseFields: (params) => {
      check(params.length);
      return o.fromFields(params.map((p, i) => (o.parse ? o.parse(p, i) : p.text)));
    },
    reply: (v) => o.toFields(v).join(','),
    replyFields: (v) => o.toFields(v),
  };
}

/** Reads a fields value from its whole reply (driver side); parseReply would cut it at the commas. */
export function readFields<T>(cmd: ScpiCommand<T>, reply: string): T {
  if (!cmd.value) throw new Error(`${cmd.send} has no reply`);
  // Stryker disable next-line MethodExpression: a fields value splits with splitList, which trims each field
  return cmd.value.read(reply.trim());
}

/** The query of one item: `CALC:DATA:EAL? "CURRent:EC:TOTal"`. */
export function formatItemQuery<T>(cmd: ScpiCommand<T>, item: string): string {
  return `${formatQuery(cmd)} ${quoteString(item)}`;
}
