/** The shared error classes: stable codes (the CLI maps them to exit codes), names and messages. */
import { describe, expect, it } from 'vitest';
import {
  AbortedError,
  ConnectionError,
  CpobenchError,
  errorMessage,
  FramingError,
  InstrumentError,
  isAbortError,
  isProgramError,
  ParseError,
  ResourceError,
  TimeoutError,
} from '../../src/core/errors.ts';
import { notSafeText } from '../../src/core/record.ts';

describe('error classes', () => {
  it('carry their code, their own class name and the cause', () => {
    const cause = new Error('root');
    const cases: [CpobenchError, string, string][] = [
      [new ResourceError('bad'), 'E_RESOURCE', 'ResourceError'],
      [new FramingError('bad'), 'E_FRAMING', 'FramingError'],
      [new ConnectionError('TCPIP0::h::1::SOCKET', 'bad', { cause }), 'E_CONNECTION', 'ConnectionError'],
      [new AbortedError('bad', { cause }), 'E_ABORTED', 'AbortedError'],
      [new ParseError('bad'), 'E_PARSE', 'ParseError'],
    ];
    for (const [err, code, name] of cases) {
      expect(err).toBeInstanceOf(CpobenchError);
      expect(err).toBeInstanceOf(Error);
      expect(err.code).toBe(code);
      expect(err.name).toBe(name);
      expect(err.message).toBe('bad');
    }
    expect(cases[2][0].cause).toBe(cause);
    expect((cases[2][0] as ConnectionError).resource).toBe('TCPIP0::h::1::SOCKET');
    expect(cases[3][0].cause).toBe(cause);
    expect(new AbortedError().message).toBe('operation aborted');
    expect(new CpobenchError('E_X', 'm').name).toBe('CpobenchError');
  });

  it('TimeoutError names the instrument, the command and the timeout', () => {
    const t = new TimeoutError('psu', 'VOLT?', 150);
    expect(t.message).toBe('psu: no reply to "VOLT?" within 150 ms');
    expect([t.code, t.instrument, t.command, t.timeoutMs]).toEqual(['E_TIMEOUT', 'psu', 'VOLT?', 150]);
    const c = new TimeoutError('psu', undefined, 300, 'no connection');
    expect(c.message).toBe('psu: no connection within 300 ms');
    expect(c.command).toBeUndefined();
  });

  it('InstrumentError lists every queued error and exposes the first code', () => {
    const e = new InstrumentError('led', 'SOUR:CURR:BIAS 1', [
      { code: -222, message: 'Data out of range' },
      { code: -100, message: 'Command error' },
    ]);
    expect(e.message).toBe('led: "SOUR:CURR:BIAS 1" caused -222,"Data out of range"; -100,"Command error"');
    expect([e.code, e.instrument, e.command, e.instrumentCode]).toEqual([
      'E_INSTRUMENT',
      'led',
      'SOUR:CURR:BIAS 1',
      -222,
    ]);
    expect(new InstrumentError('led', 'X', []).instrumentCode).toBe(0);
  });
});

describe('error helpers', () => {
  it('isAbortError: ours and the platform’s AbortError, nothing else', () => {
    expect(isAbortError(new AbortedError())).toBe(true);
    const platform = new Error('x');
    platform.name = 'AbortError';
    expect(isAbortError(platform)).toBe(true);
    expect(isAbortError(AbortSignal.abort().reason)).toBe(true);
    expect(isAbortError(new Error('aborted'))).toBe(false);
    expect(isAbortError({ name: 'AbortError' })).toBe(false);
    expect(isAbortError(new TimeoutError('a', 'b', 1))).toBe(false);
  });

  it('errorMessage: the message of an Error, else the value as text', () => {
    expect(errorMessage(new Error('boom'))).toBe('boom');
    expect(errorMessage('plain')).toBe('plain');
    expect(errorMessage(42)).toBe('42');
    expect(errorMessage(undefined)).toBe('undefined');
  });

  it('isProgramError: the errors JavaScript throws on a bug, not ours', () => {
    expect(isProgramError(new TypeError('x'))).toBe(true);
    expect(isProgramError(new RangeError('x'))).toBe(true);
    expect(isProgramError(new ReferenceError('x'))).toBe(true);
    expect(isProgramError(new SyntaxError('x'))).toBe(true);
    expect(isProgramError(new EvalError('x'))).toBe(true);
    expect(isProgramError(new Error('x'))).toBe(false);
    expect(isProgramError(new ParseError('x'))).toBe(false);
    expect(isProgramError('TypeError')).toBe(false);
  });
});

describe('notSafeText', () => {
  it('names each instrument that did not confirm, with its resource and reason, and only those', () => {
    expect(
      notSafeText({
        at: '2025-01-01T00:00:00.000Z',
        safe: false,
        instruments: [
          { role: 'led-driver', resource: 'TCPIP0::h::5025::SOCKET', safe: false, ms: 3, error: 'output on' },
          { role: 'tec', safe: true, ms: 1, observed: 'off' },
          { role: 'pd-receiver', safe: false, ms: 800 },
        ],
      }),
    ).toBe('led-driver (TCPIP0::h::5025::SOCKET): output on; pd-receiver: not confirmed');
    expect(notSafeText({ at: '', safe: true, instruments: [{ role: 'tec', safe: true, ms: 1 }] })).toBe('');
  });
});
