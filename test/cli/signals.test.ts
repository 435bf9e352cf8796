/**
 * The Ctrl-C handlers of `cpobench run`, with a fake process: which signal aborts, which one arms the forced exit,
 * when that exit fires (vitest's fake clock: exactly 1500 ms, not "some time under 5 s").
 */
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { onSignals, type SignalHost } from '../../src/cli/signals.ts';

class FakeHost implements SignalHost {
  readonly listeners = new Map<string, (sig: NodeJS.Signals) => void>();
  readonly exits: number[] = [];
  readonly stderrText: string[] = [];
  unrefs = 0;
  readonly stderr = { write: (t: string) => this.stderrText.push(t) };
  on(signal: 'SIGINT' | 'SIGTERM', listener: (sig: NodeJS.Signals) => void): void {
    this.listeners.set(signal, listener);
  }
  exit(code: number): void {
    this.exits.push(code);
  }
  setTimeout(fn: () => void, ms: number): { unref(): void } {
    const t = setTimeout(fn, ms);
    return {
      unref: () => {
        this.unrefs++;
        t.unref();
      },
    };
  }
  send(sig: NodeJS.Signals): void {
    this.listeners.get(sig)!(sig);
  }
}

beforeEach(() => {
  vi.useFakeTimers();
});
afterEach(() => {
  vi.useRealTimers();
});

function setup() {
  const host = new FakeHost();
  const aborts: string[] = [];
  const sig = onSignals({ abort: async (by) => void aborts.push(by) }, host);
  return { host, aborts, sig };
}

describe('cpobench run signal handlers', () => {
  it('handles SIGINT and SIGTERM', () => {
    const { host } = setup();
    expect([...host.listeners.keys()].sort()).toEqual(['SIGINT', 'SIGTERM']);
  });

  it('the first Ctrl-C aborts the run (by the operator) and exits nothing', () => {
    const { host, aborts } = setup();
    host.send('SIGINT');
    expect(aborts).toEqual(['operator (Ctrl-C)']);
    expect(host.stderrText.join('')).toBe('\nSIGINT: aborting, bringing instruments to their safe state…\n');
    vi.advanceTimersByTime(60_000);
    expect(host.exits).toEqual([]);
  });

  it('SIGTERM aborts naming the signal', () => {
    const { host, aborts } = setup();
    host.send('SIGTERM');
    expect(aborts).toEqual(['SIGTERM']);
  });

  // Guards the mutant "remove the forced exit on a second Ctrl-C": the exit must come from the armed timer at
  // 1.5 s, whatever the abort is still waiting on.
  it('a second Ctrl-C arms a forced exit (code 2) at exactly 1.5 s that does not keep the process alive', () => {
    const { host, aborts } = setup();
    host.send('SIGINT');
    host.send('SIGINT');
    expect(aborts).toHaveLength(1); // not aborted twice
    expect(host.stderrText.at(-1)).toBe('SIGINT again: abort already under way; exiting within 1.5 s\n');
    expect(host.unrefs).toBe(1);
    vi.advanceTimersByTime(1499);
    expect(host.exits).toEqual([]);
    vi.advanceTimersByTime(1);
    expect(host.exits).toEqual([2]);
  });

  it('once the run finished, any signal exits at once with the run code', () => {
    const { host, aborts, sig } = setup();
    sig.finished(1);
    host.send('SIGINT');
    expect(host.exits).toEqual([1]);
    expect(aborts).toEqual([]);
    sig.finished(0);
    host.send('SIGTERM');
    expect(host.exits).toEqual([1, 0]);
  });
});
