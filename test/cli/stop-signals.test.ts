import { describe, expect, it } from 'vitest';
import { stopSignals } from '../../src/cli/commands/stop-signals.ts';

describe('stop signals of cpobench serve', () => {
  it('one Ctrl-C delivered twice (terminal + npm passing it on) is one keypress; a later one is a second', () => {
    let t = 1000;
    const which = stopSignals(() => t);
    expect(which('SIGINT')).toBe('first');
    t += 12; // npm's copy, a few ms behind the terminal's
    expect(which('SIGINT')).toBe('same keypress');
    t += 600; // a person pressing Ctrl-C again
    expect(which('SIGINT')).toBe('again');
  });

  it('another signal is never taken for the first one', () => {
    let t = 0;
    const which = stopSignals(() => t);
    expect(which('SIGTERM')).toBe('first');
    t += 1;
    expect(which('SIGINT')).toBe('again');
  });
});
