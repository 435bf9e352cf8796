import { EXIT } from './exit-codes.ts';

/** How long a second Ctrl-C lets the abort go on before the process exits anyway. */
export const FORCED_EXIT_MS = 1500;

/** The part of `process` the handlers use; tests pass a fake. */
export interface SignalHost {
  on(signal: 'SIGINT' | 'SIGTERM', listener: (sig: NodeJS.Signals) => void): unknown;
  exit(code: number): void;
  stderr: { write(text: string): unknown };
  setTimeout(fn: () => void, ms: number): { unref(): unknown };
}

/** The real process. */
export const processSignalHost: SignalHost = {
  on: (signal, listener) => process.on(signal, listener),
  exit: (code) => process.exit(code),
  stderr: process.stderr,
  setTimeout: (fn, ms) => setTimeout(fn, ms),
};

/**
 * First Ctrl-C (or SIGTERM) aborts: safe state, then the record. A second one exits within 1.5 s, never hangs.
 * Once the run has finished, a signal during the bench's teardown exits at once with the run's exit code.
 * The handlers stay until the process ends, so no signal ever meets the default handler mid-cleanup.
 */
export function onSignals(
  handle: { abort(by: string): Promise<void> },
  host: SignalHost = processSignalHost,
): { finished(code: number): void } {
  let count = 0;
  let finalCode: number | undefined;
  const onSignal = (sig: NodeJS.Signals) => {
    count++;
    if (finalCode !== undefined) {
      host.exit(finalCode);
    } else if (count === 1) {
      host.stderr.write(`\n${sig}: aborting, bringing instruments to their safe state…\n`);
      void handle.abort(sig === 'SIGINT' ? 'operator (Ctrl-C)' : sig);
    } else {
      host.stderr.write(`${sig} again: abort already under way; exiting within 1.5 s\n`);
      host.setTimeout(() => host.exit(EXIT.ERROR), FORCED_EXIT_MS).unref();
    }
  };
  host.on('SIGINT', onSignal);
  host.on('SIGTERM', onSignal);
  return {
    finished(code) {
      finalCode = code;
    },
  };
}
