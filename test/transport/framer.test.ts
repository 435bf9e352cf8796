import { describe, expect, it } from 'vitest';
import { ScpiFramer } from '../../src/transport/framer.ts';

const feed = (f: ScpiFramer, ...chunks: (string | Buffer)[]) =>
  chunks.flatMap((c) => f.push(typeof c === 'string' ? Buffer.from(c, 'latin1') : c));

describe('ScpiFramer', () => {
  it('splits lines and drops CR', () => {
    const f = new ScpiFramer();
    const m = feed(f, 'abc\r\nde', 'f\n\n');
    expect(m.map((x) => (x.kind === 'error' ? 'ERR' : x.data.toString()))).toEqual(['abc', 'def', '']);
  });
  it('reads a definite block whose payload holds LF bytes, split across chunks, and swallows its terminator', () => {
    const payload = Buffer.from([1, 0x0a, 2, 0x0a, 0x0d, 3]);
    const raw = Buffer.concat([Buffer.from('#16'), payload, Buffer.from('\n1.5\n')]);
    const f = new ScpiFramer();
    const out = [];
    for (const byte of raw) out.push(...f.push(Buffer.from([byte])));
    expect(out).toHaveLength(2);
    expect(out[0]).toMatchObject({ kind: 'block' });
    expect(out[0]!.kind === 'block' && out[0]!.data.equals(payload)).toBe(true);
    expect(out[1]!.kind === 'line' && out[1]!.data.toString()).toBe('1.5');
  });
  it('bounds a too-long line even when its terminator is in the same chunk', () => {
    const f = new ScpiFramer({ maxLineBytes: 8 });
    const out = feed(f, 'abcdefg\r\nabcdefghijkl\nok\n');
    expect(out.map((m) => (m.kind === 'error' ? 'ERR' : m.data.toString()))).toEqual(['abcdefg', 'ERR', 'ok']);
  });
  it("swallows a block's terminator that arrives in a later chunk, then reads the next line", () => {
    const f = new ScpiFramer();
    const out = feed(f, '#13abc', '\r', '\n', '42\n');
    expect(out.map((m) => `${m.kind}:${m.kind === 'error' ? '' : m.data.toString()}`)).toEqual([
      'block:abc',
      'line:42',
    ]);
  });
  it('reads an indefinite #0 block up to LF', () => {
    const f = new ScpiFramer();
    const [m] = feed(f, '#0hello\n');
    expect(m!.kind === 'block' && m!.data.toString()).toBe('hello');
  });
  it('bounds a line with no terminator and recovers at the next LF', () => {
    const f = new ScpiFramer({ maxLineBytes: 1024 });
    const big = Buffer.alloc(1024 * 1024, 0x41);
    const out = feed(f, big.subarray(0, 512 * 1024), big.subarray(512 * 1024), '\nOK\n');
    expect(out[0]!.kind).toBe('error');
    expect(out[0]!.kind === 'error' && out[0]!.error.message).toMatch(/exceeds 1024 bytes without a terminator/);
    expect(out.slice(1).map((m) => m.kind === 'line' && m.data.toString())).toEqual(['OK']);
  });
  it('refuses a block header that claims more than the limit', () => {
    const f = new ScpiFramer({ maxBlockBytes: 1000 });
    const [m] = feed(f, '#42000');
    expect(m!.kind === 'error' && m!.error.message).toMatch(/claims 2000 bytes/);
  });
  it('describes a block cut short', () => {
    const f = new ScpiFramer();
    expect(feed(f, '#3100abc')).toEqual([]);
    expect(f.describePartial()).toBe('block ended after 3 of the 100 bytes its header announced');
  });
  it('reports a malformed block header', () => {
    const f = new ScpiFramer();
    const out = feed(f, '#x1\nnext\n');
    expect(out[0]!.kind).toBe('error');
    expect(out[1]!.kind === 'line' && out[1]!.data.toString()).toBe('next');
  });
});
