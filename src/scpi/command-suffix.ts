/**
 * Numeric header suffixes of a command-table line (`INPut#:ATTenuation`: `INP2:ATT` is channel 2 of a
 * multi-channel attenuator). The table writes the `#` in `send` (`INP#:ATT`); a driver fills it in per call and
 * sends the result like any other line (`_set`, `_get`); the simulated instrument registers the header and reads
 * the suffixes from its command context.
 */
import type { ScpiCommand } from './command-table.ts';

/** The line with each `#` of its `send` form replaced by the next suffix: `INP#:ATT` + 2 -> `INP2:ATT`. */
export function withSuffix<T>(cmd: ScpiCommand<T>, ...suffixes: number[]): ScpiCommand<T> {
  let i = 0;
  const send = cmd.send.replace(/#/g, () => {
    const n = suffixes[i++];
    // Number.isInteger(undefined) is false: a missing suffix fails the first test
    if (!Number.isInteger(n) || n! < 1) {
      throw new Error(`${cmd.send}: expected a suffix >= 1 for each #, got ${suffixes.join(', ') || 'none'}`);
    }
    return String(n);
  });
  if (i !== suffixes.length) throw new Error(`${cmd.send}: ${suffixes.length} suffixes for ${i} # in the header`);
  return { ...cmd, send };
}
