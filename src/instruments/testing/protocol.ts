/**
 * Driver-author toolkit: protocol tests. A driver's test (src/instruments/<model>/<model>.test.ts) lists the exact
 * (command, reply) pairs the vendor's manual gives for each call, in order; the scripted peer checks every command
 * and that every pair was consumed. No server, no simulator: what is tested is what goes on the wire.
 */
import type { Duplex } from 'node:stream';
import { expect } from 'vitest';
import { ScpiSession } from '../../scpi/session.ts';
import { PairTransport } from '../../transport/pair.ts';

/** One expected exchange: the exact command, and the reply (text line, raw bytes such as a block, or none). */
export type Exchange = readonly [command: string, reply: string | Buffer | null];

export interface Protocol {
  session: ScpiSession;
  /** Commands received so far. */
  received: string[];
  /** Asserts every pair was consumed and nothing unexpected arrived; closes the session. */
  done(): Promise<void>;
  /** Drops the connection (an instrument lost mid-call). */
  drop(): void;
}

/**
 * A scripted peer on a PairTransport, no server: each command the driver sends must equal the next pair's
 * command; its reply (if any) is sent back. An unexpected command is recorded and the link is dropped, so the
 * driver fails at once instead of waiting for a timeout. `hang` names a command that is swallowed without a
 * reply and leaves the script waiting (a hung instrument).
 */
export async function expectProtocol(
  pairs: readonly Exchange[],
  options: { timeoutMs?: number; onCommand?: (line: string, peer: Duplex) => boolean } = {},
): Promise<Protocol> {
  const queue = [...pairs];
  const received: string[] = [];
  const problems: string[] = [];
  let peer: Duplex | undefined;
  const transport = new PairTransport(
    'PAIR::scripted',
    (end) => {
      peer = end;
      let buf = '';
      end.on('data', (d: Buffer) => {
        buf += d.toString('latin1');
        for (let i = buf.indexOf('\n'); i >= 0; i = buf.indexOf('\n')) {
          const line = buf.slice(0, i);
          buf = buf.slice(i + 1);
          received.push(line);
          if (options.onCommand?.(line, end)) continue;
          const next = queue.shift();
          if (!next || next[0] !== line) {
            const problem = next
              ? `expected "${next[0]}", got "${line}"`
              : `unexpected "${line}" after the script ended`;
            problems.push(problem);
            process.stderr.write(`expectProtocol: ${problem}\n`);
            end.destroy();
            return;
          }
          const reply = next[1];
          if (reply === null) continue;
          end.write(typeof reply === 'string' ? `${reply}\n` : reply);
        }
      });
      return true;
    },
    { reconnect: false },
  );
  const session = new ScpiSession(transport, { name: 'scripted', timeoutMs: options.timeoutMs ?? 1000 });
  await session.open();
  return {
    session,
    received,
    async done() {
      await new Promise((r) => setImmediate(r));
      await new Promise((r) => setImmediate(r));
      expect(problems, `protocol problems; received: ${received.join(' | ')}`).toEqual([]);
      expect(
        queue.map((q) => q[0]),
        'commands the script expected but the driver never sent',
      ).toEqual([]);
      await session.close();
    },
    drop() {
      peer?.destroy();
    },
  };
}

export const NO_ERROR = '0,"No error"';

/**
 * A setting command with the error-queue check the drivers make (checkErrors): one compound message,
 * `<command>;:SYST:ERR?`, answered by the first queue entry.
 */
export function ok(command: string): Exchange[] {
  return [[`${command};:SYST:ERR?`, NO_ERROR]];
}

/** A setting command without the error check (safeState commands). */
export function send(command: string): Exchange {
  return [command, null];
}
