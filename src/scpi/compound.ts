/**
 * IEEE 488.2 compound program messages: several commands in one message (`:INT:ID 2;:SENS:PATT:TYPE PRBS`), one
 * round trip instead of several; the replies of its queries come back in one line separated by `;`.
 */

/** One message of several commands; each starts from the root (`:`), so none depends on the one before. */
export function compound(commands: readonly string[]): string {
  if (commands.length === 0) throw new Error('no commands to join');
  return commands.map((c, i) => (i === 0 || c.startsWith(':') || c.startsWith('*') ? c : `:${c}`)).join(';');
}

/** The replies of a compound query message, split at `;` outside quoted strings; the count is checked. */
export function splitReplies(line: string, expected: number): string[] {
  const out: string[] = [];
  let cur = '';
  let quote: string | null = null;
  for (const c of line) {
    if (quote) {
      if (c === quote) quote = null;
      cur += c;
    } else if (c === '"' || c === "'") {
      quote = c;
      cur += c;
    } else if (c === ';') {
      out.push(cur.trim());
      cur = '';
    } else cur += c;
  }
  out.push(cur.trim());
  if (out.length !== expected) throw new Error(`expected ${expected} replies separated by ";", got ${out.length}`);
  return out;
}
