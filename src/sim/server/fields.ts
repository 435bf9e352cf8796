/**
 * Serves a command-table line whose value has several fields (`ROUT1:CHAN3 A,42`, src/scpi/command-fields.ts):
 * the header from the table, each field parsed by the table's value, the reply written by it. The handlers get
 * the command context (its numeric suffixes say which slot and channel).
 */
import type { FieldsValue } from '../../scpi/command-fields.ts';
import type { ScpiCommand } from '../../scpi/command-table.ts';
import { ScpiCommandError } from './errors.ts';
import type { ScpiInstrument } from './instrument.ts';
import type { CommandContext } from './tree.ts';

export function serveFields<T>(
  inst: ScpiInstrument,
  cmd: ScpiCommand<T>,
  h: { set?: (value: T, ctx: CommandContext) => void; get?: (ctx: CommandContext) => T },
): void {
  const value = cmd.value as FieldsValue<T> | undefined;
  if (!value || typeof value.parseFields !== 'function') throw new Error(`${cmd.send} is not a fields value`);
  inst.command(cmd.header, {
    ...(cmd.settable && h.set
      ? {
          set: (c: CommandContext) => {
            if (c.params.length !== value.arity)
              throw new ScpiCommandError(c.params.length < value.arity ? -109 : -108, `expected ${value.describe}`);
            let v: T;
            try {
              v = value.parseFields(c.params);
            } catch (err) {
              if (err instanceof ScpiCommandError) throw err;
              throw new ScpiCommandError(-224, (err as Error).message.slice(0, 60));
            }
            h.set!(v, c);
          },
          setParams: [0, value.arity + 8] as [number, number],
        }
      : {}),
    ...(cmd.queryable && h.get
      ? { query: (c: CommandContext) => value.replyFields(h.get!(c)), queryParams: [0, 0] as [number, number] }
      : {}),
  });
}
