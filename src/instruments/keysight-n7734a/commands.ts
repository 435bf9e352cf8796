/**
 * Keysight N7734A-class optical switch, in the routing syntax of Keysight's N77xx / 8159x switch family
 * (N7700 series programming guide): `:ROUT<slot>:CHAN<m> A,<port>` connects the common port A of switch
 * channel m to output port <port>; `:ROUT<slot>:CHAN<m>?` answers `A,<port>`. On a bench each channel's common
 * leads to one instrument input (an error-detector channel, a power-meter head) and each port carries one lane's
 * fibre. Read by the driver (driver.ts) and by the simulated instrument (src/sim/instruments/optical-switch.ts).
 */

import { fields } from '../../scpi/command-fields.ts';
import { control } from '../../scpi/command-table.ts';

/** A route as its two fields, `A,<port>`: the channel's common (always A here) and the port; 0 is none. */
export const route = fields<number>({
  describe: 'A,<port>',
  arity: 2,
  toFields: (port) => ['A', port],
  fromFields: ([common, port]) => {
    if (common!.toUpperCase() !== 'A') throw new Error(`expected the common port A, got "${common}"`);
    const n = Number(port);
    if (!Number.isInteger(n) || n < 0) throw new Error(`expected a port number, got "${port}"`);
    return n;
  },
  parse: (p, i) => (i === 0 ? p.keyword(['A']) : String(p.int())),
});

export const N7734A = {
  route: control(':ROUTe#[:CHANnel#]', route, 'port the common A of channel m (second suffix) is connected to', {
    send: ':ROUT#:CHAN#',
  }),
};
