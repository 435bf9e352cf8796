/**
 * The edges of SCPI parsing and formatting (IEEE 488.2 / SCPI-99 forms): every special value spelled out, every
 * refusal with its message, quoting, channel lists both ways, blocks, *IDN? and the transcript ring.
 */
import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock, toUint16LE } from '../../src/scpi/block.ts';
import { allLanes, parseChannelList, toChannelList } from '../../src/scpi/channels.ts';
import { parseIdn } from '../../src/scpi/idn.ts';
import {
  formatErrorEntry,
  formatNumber,
  hexPreview,
  parseBool,
  parseBoolList,
  parseErrorEntry,
  parseNumber,
  parseNumberList,
  parseString,
  preview,
  quoteString,
  SCPI_NAN,
  SCPI_OVERFLOW,
  splitList,
} from '../../src/scpi/parse.ts';
import { TranscriptRing } from '../../src/scpi/transcript.ts';

describe('numbers', () => {
  it('accepts NR1/NR2/NR3 forms with signs, padding and bare points', () => {
    expect(parseNumber(' 42 ')).toBe(42);
    expect(parseNumber('+.5')).toBe(0.5);
    expect(parseNumber('5.')).toBe(5);
    expect(parseNumber('1e3')).toBe(1000);
    expect(parseNumber('-2.5E-3')).toBe(-0.0025);
    expect(parseNumber('0')).toBe(0);
  });

  it('maps the SCPI special values and the INF/NINF/NAN mnemonics', () => {
    expect([SCPI_OVERFLOW, SCPI_NAN]).toEqual([9.9e37, 9.91e37]);
    expect(parseNumber('-9.91E37')).toBeNaN();
    expect(parseNumber('9.8E37')).toBe(9.8e37); // only the exact codes are special
    for (const t of ['INF', '+INF', 'inf']) expect(parseNumber(t)).toBe(Number.POSITIVE_INFINITY);
    for (const t of ['NINF', '-INF', '-inf']) expect(parseNumber(t)).toBe(Number.NEGATIVE_INFINITY);
    expect(parseNumber('nan')).toBeNaN();
  });

  it('refuses anything else, naming what was parsed', () => {
    expect(() => parseNumber('', 'VOLT?')).toThrow('VOLT?: expected a number, got ""');
    expect(() => parseNumber('1,2')).toThrow('reply: expected a number, got "1,2"');
    expect(() => parseNumber('e5')).toThrow(/expected a number/);
    expect(() => parseNumber('0x10')).toThrow(/expected a number/);
    expect(() => parseNumber('1 2')).toThrow(/expected a number/);
    expect(() => parseNumber('INFINITY')).toThrow(/expected a number/);
  });

  it('lists number their bad item', () => {
    expect(parseNumberList(' ')).toEqual([]);
    expect(parseNumberList('7')).toEqual([7]);
    expect(() => parseNumberList('1,x,3', 'MEAS:POW?')).toThrow('MEAS:POW? item 2: expected a number, got "x"');
  });

  it('formatNumber gives the shortest exact form with a SCPI exponent', () => {
    expect(formatNumber(0.5)).toBe('0.5');
    expect(formatNumber(1e-7)).toBe('1E-7');
    expect(formatNumber(2.5e21)).toBe('2.5E+21');
    expect(formatNumber(-3)).toBe('-3');
    expect(() => formatNumber(Number.POSITIVE_INFINITY)).toThrow('cannot send Infinity as a SCPI number');
    expect(() => formatNumber(Number.NaN)).toThrow('cannot send NaN as a SCPI number');
  });
});

describe('lists, booleans, strings, errors', () => {
  it('splitList keeps quoted commas and doubled quotes, trims items, keeps empty items', () => {
    expect(splitList('')).toEqual([]);
    expect(splitList('  ')).toEqual([]);
    expect(splitList('a')).toEqual(['a']);
    expect(splitList(' a , b ')).toEqual(['a', 'b']);
    expect(splitList('a,')).toEqual(['a', '']);
    expect(splitList(',')).toEqual(['', '']);
    expect(splitList('"x "",y",z')).toEqual(['"x "",y"', 'z']);
    expect(splitList("'it''s,ok',1")).toEqual(["'it''s,ok'", '1']);
    expect(splitList('"a\'b",c')).toEqual(['"a\'b"', 'c']); // the other quote does not end it
  });

  it('booleans: 1/0, ON/OFF, TRUE/FALSE in any case; lists of them', () => {
    expect(['1', 'on', 'TRUE', ' true '].map((t) => parseBool(t))).toEqual([true, true, true, true]);
    expect(['0', 'Off', 'false'].map((t) => parseBool(t))).toEqual([false, false, false]);
    expect(() => parseBool('2', 'OUTP?')).toThrow('OUTP?: expected ON/OFF/1/0, got "2"');
    expect(parseBoolList('1,0,ON')).toEqual([true, false, true]);
    expect(parseBoolList('')).toEqual([]);
    expect(() => parseBoolList('1,X', 'STAT:SYNC?')).toThrow('STAT:SYNC? item 2: expected ON/OFF/1/0, got "X"');
  });

  it('strings: quotes removed (either kind, doubled inside), unquoted trimmed', () => {
    expect(parseString(" 'it''s' ")).toBe("it's");
    expect(parseString('""')).toBe('');
    expect(parseString('"')).toBe('"'); // a lone quote is not a quoted string
    expect(parseString('"abc\'')).toBe('"abc\''); // mismatched quotes
    expect(parseString('  plain ')).toBe('plain');
    expect(quoteString('say "hi"')).toBe('"say ""hi"""');
    expect(parseString(quoteString('a "b" c'))).toBe('a "b" c');
  });

  it('error entries: code and message, a message with commas, refusals named', () => {
    expect(parseErrorEntry(' +0 , "No error" ')).toEqual({ code: 0, message: 'No error' });
    expect(parseErrorEntry('-113,"Undefined header; at, here"')).toEqual({
      code: -113,
      message: 'Undefined header; at, here',
    });
    expect(() => parseErrorEntry('garbage')).toThrow('SYST:ERR? reply "garbage" is not <code>,"<message>"');
    expect(() => parseErrorEntry('x-1,"a"')).toThrow(/is not <code>/);
    expect(() => parseErrorEntry('-1x,"a"')).toThrow(/is not <code>/);
    expect(parseErrorEntry('-1,"multi\nline"')).toEqual({ code: -1, message: 'multi\nline' });
    expect(formatErrorEntry({ code: -222, message: 'Data "out" of range' })).toBe('-222,"Data ""out"" of range"');
  });

  it('preview escapes control bytes and clips long text; hexPreview clips long blocks', () => {
    expect(preview('a\nb\x00\x7f\xff')).toBe('a\\x0ab\\x00\\x7f\\xff');
    expect(preview('x'.repeat(61))).toBe(`${'x'.repeat(60)}… (61 chars)`);
    expect(preview('x'.repeat(60))).toBe('x'.repeat(60));
    expect(preview('abcdef', 3)).toBe('abc… (6 chars)');
    expect(preview(Buffer.from([0x41, 0x0d]))).toBe('A\\x0d');
    expect(hexPreview(Buffer.from([1, 0xab, 0x10]))).toBe('01 ab 10');
    expect(hexPreview(Buffer.from([1, 2, 3]), 2)).toBe('01 02 …');
    expect(hexPreview(Buffer.from([1, 2]), 2)).toBe('01 02');
  });
});

describe('channel lists', () => {
  it('toChannelList keeps the order, compresses ascending runs only, refuses bad lanes', () => {
    expect(toChannelList([7])).toBe('(@7)');
    expect(toChannelList([1, 2])).toBe('(@1:2)');
    expect(toChannelList([3, 2, 1])).toBe('(@3,2,1)');
    expect(toChannelList([1, 2, 4, 5, 9])).toBe('(@1:2,4:5,9)');
    expect(toChannelList([0, 1])).toBe('(@0:1)');
    expect(() => toChannelList([])).toThrow('a channel list needs at least one lane');
    expect(() => toChannelList([1, -1])).toThrow('lane -1 is not a non-negative integer');
    expect(() => toChannelList([1.5])).toThrow('lane 1.5 is not a non-negative integer');
  });

  it('parseChannelList reads bodies with or without (@ ), spaces, descending ranges; bounded', () => {
    expect(parseChannelList(' ( @ 1 : 3 , 7 ) ')).toEqual([1, 2, 3, 7]);
    expect(parseChannelList('4:2,9')).toEqual([4, 3, 2, 9]);
    expect(parseChannelList('5')).toEqual([5]);
    expect(() => parseChannelList('(@)')).toThrow('empty channel list "(@)"');
    expect(() => parseChannelList('  ')).toThrow(/empty channel list/);
    expect(() => parseChannelList('1,,2')).toThrow('channel list item "" is not N or N:M');
    expect(() => parseChannelList('-1')).toThrow(/not N or N:M/);
    expect(parseChannelList('1:10', 10)).toHaveLength(10);
    expect(() => parseChannelList('1:10,11', 10)).toThrow('channel list "1:10,11" selects more than 10 channels');
    expect(() => parseChannelList('10:1', 9)).toThrow(/more than 9 channels/);
  });

  it('allLanes is 1..n', () => {
    expect(allLanes(3)).toEqual([1, 2, 3]);
    expect(allLanes(0)).toEqual([]);
  });
});

describe('blocks', () => {
  it('definite-length: header digits match the length; the payload is exact even with a trailing LF', () => {
    expect(encodeBlock(Buffer.alloc(0)).toString('latin1')).toBe('#10');
    expect(encodeBlock(Buffer.alloc(12)).subarray(0, 4).toString('latin1')).toBe('#212');
    const payload = Buffer.from('hello');
    expect(decodeBlock(Buffer.concat([encodeBlock(payload), Buffer.from('\n')])).toString()).toBe('hello');
    const sub = new Uint8Array([9, 8, 7, 6]).subarray(1, 3);
    expect([...decodeBlock(encodeBlock(sub))]).toEqual([8, 7]);
  });

  it('indefinite #0 blocks end at the buffer end, a final LF dropped', () => {
    expect(decodeBlock(Buffer.from('#0abc\n')).toString()).toBe('abc');
    expect(decodeBlock(Buffer.from('#0abc')).toString()).toBe('abc');
  });

  it('refuses a missing #, a bad digit count, a bad length and a short block', () => {
    expect(() => decodeBlock(Buffer.from('14abcd'))).toThrow('block does not start with "#"');
    expect(() => decodeBlock(Buffer.from('#A'))).toThrow('block header digit count is not 1..9');
    expect(() => decodeBlock(Buffer.from('#/'))).toThrow('block header digit count is not 1..9');
    expect(() => decodeBlock(Buffer.from('#2x1ab'))).toThrow('block header length is not a number');
    expect(() => decodeBlock(Buffer.from('#15abcd'))).toThrow('block holds 4 of the 5 bytes its header announced');
    expect(decodeBlock(Buffer.from('#15abcdeXYZ')).toString()).toBe('abcde');
  });

  it('toUint16LE reads little-endian words from any offset; odd lengths are refused', () => {
    const buf = Buffer.from([0xff, 0x34, 0x12, 0xff, 0x00]);
    expect([...toUint16LE(buf.subarray(1, 5))]).toEqual([0x1234, 0x00ff]);
    expect(() => toUint16LE(Buffer.from([1, 2, 3]))).toThrow('block of 3 bytes is not whole 16-bit words');
  });
});

describe('*IDN?', () => {
  it('fills missing fields with empty strings and keeps commas of the firmware field', () => {
    expect(parseIdn('ACME')).toEqual({ manufacturer: 'ACME', model: '', serial: '', firmware: '', raw: 'ACME' });
    expect(parseIdn(' A , B , C , 1.0,rev 2 \n')).toEqual({
      manufacturer: 'A',
      model: 'B',
      serial: 'C',
      firmware: '1.0,rev 2',
      raw: 'A , B , C , 1.0,rev 2',
    });
  });
});

describe('TranscriptRing', () => {
  const e = (n: number) => ({ t: n, instrument: 'x', dir: 'tx' as const, text: `c${n}` });

  it('keeps the newest `capacity` entries, oldest first', () => {
    const r = new TranscriptRing(3);
    expect(r.entries()).toEqual([]);
    for (let i = 1; i <= 2; i++) r.add(e(i));
    expect(r.entries().map((x) => x.t)).toEqual([1, 2]);
    expect(r.size).toBe(2);
    for (let i = 3; i <= 7; i++) r.add(e(i));
    expect(r.entries().map((x) => x.t)).toEqual([5, 6, 7]);
    expect(r.size).toBe(3);
    r.clear();
    expect([r.size, r.entries()]).toEqual([0, []]);
    r.add(e(8));
    expect(r.entries().map((x) => x.t)).toEqual([8]);
  });

  it('has a capacity of at least 1 (default 2000) and tells subscribers until they unsubscribe', () => {
    expect(new TranscriptRing().capacity).toBe(2000);
    const one = new TranscriptRing(0);
    expect(one.capacity).toBe(1);
    one.add(e(1));
    one.add(e(2));
    expect(one.entries().map((x) => x.t)).toEqual([2]);
    const seen: number[] = [];
    const off = one.subscribe((x) => seen.push(x.t));
    one.add(e(3));
    off();
    one.add(e(4));
    expect(seen).toEqual([3]);
  });
});
