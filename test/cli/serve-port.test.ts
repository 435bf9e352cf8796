import { describe, expect, it } from 'vitest';
import { DEFAULT_PORT, servePort } from '../../src/cli/commands/serve.ts';

describe('cpobench serve: the port', () => {
  it('is --port, else CPOBENCH_PORT, else 8080; an empty CPOBENCH_PORT counts as unset', () => {
    expect(servePort('9001', '9002')).toBe(9001);
    expect(servePort(undefined, '9002')).toBe(9002);
    expect(servePort(undefined, '0')).toBe(0);
    expect(servePort(undefined, '')).toBe(DEFAULT_PORT);
    expect(servePort(undefined, undefined)).toBe(8080);
  });

  it('refuses anything but an integer 0..65535, naming where it came from', () => {
    expect(() => servePort('65536', undefined)).toThrow('--port must be an integer 0..65535, got "65536"');
    expect(() => servePort('-1', undefined)).toThrow('--port must be an integer 0..65535, got "-1"');
    expect(() => servePort('', undefined)).toThrow('--port must be an integer 0..65535, got ""');
    expect(() => servePort(undefined, '80x')).toThrow('CPOBENCH_PORT must be an integer 0..65535, got "80x"');
    expect(() => servePort(undefined, '0x50')).toThrow('CPOBENCH_PORT must be an integer 0..65535, got "0x50"');
    expect(() => servePort(undefined, '1e3')).toThrow('CPOBENCH_PORT must be an integer 0..65535, got "1e3"');
  });
});
