/**
 * The small pieces both ends of a link are built from, each on its own: the value types of a command-table line
 * (what they say, write, read, parse and answer), table lines without a query or a value, header suffixes, compound
 * messages, blocks at the limits of their headers, channel lists, and the parsing helpers' defaults. Expected values
 * are written out by hand.
 */
import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock } from '../../src/scpi/block.ts';
import { parseChannelList } from '../../src/scpi/channels.ts';
import { fields, readFields } from '../../src/scpi/command-fields.ts';
import { withSuffix } from '../../src/scpi/command-suffix.ts';
import {
  action,
  block,
  bool,
  control,
  formatQuery,
  formatSet,
  int,
  keyword,
  listOf,
  measure,
  num,
  type ParamReader,
  parseReply,
  setting,
  str,
  text,
} from '../../src/scpi/command-table.ts';
import { compound, splitReplies } from '../../src/scpi/compound.ts';
import { parseIdn } from '../../src/scpi/idn.ts';
import {
  formatNumber,
  parseBool,
  parseBoolList,
  parseNumber,
  parseNumberList,
  parseString,
  preview,
} from '../../src/scpi/parse.ts';

/** An instrument-side parameter as the simulated instruments hand it over, reduced to its text. */
function param(t: string): ParamReader {
  return {
    text: t,
    number: (unit) => (unit === 'A' ? Number.parseFloat(t) * 1e-3 : Number(t)),
    int: () => Number.parseInt(t, 10),
    bool: () => t === 'ON',
    keyword: () => t.toUpperCase(),
    string: () => t.slice(1, -1),
  };
}

describe('value types of a table line', () => {
  it('say what they are', () => {
    expect(num('A').describe).toBe('a number in A');
    expect(num().describe).toBe('a number');
    expect(int.describe).toBe('an integer');
    expect(bool.describe).toBe('ON|OFF');
    expect(keyword(['PRBS7', 'Celsius']).describe).toBe('PRBS7|CELSIUS');
    expect(str.describe).toBe('a quoted string');
    expect(text.describe).toBe('text');
    expect(listOf(int, 2).describe).toBe('2 comma-separated values (each an integer)');
    expect(block.describe).toBe('an IEEE 488.2 definite-length block');
  });

  it('write, read, parse and answer', () => {
    expect(int.write(42)).toBe('42');
    expect(int.parse(param('7'))).toBe(7);
    expect(bool.write(false)).toBe('OFF');
    expect(bool.write(true)).toBe('ON');
    expect(bool.parse(param('ON'))).toBe(true);
    expect(bool.reply(true)).toBe(true);
    expect(str.read('"a ""b"""')).toBe('a "b"');
    expect(str.parse(param('"x"'))).toBe('x');
    expect(str.reply('say "hi"')).toBe('"say ""hi"""');
    expect(text.write('TED4015 rev 2')).toBe('TED4015 rev 2');
    expect(text.read('  S120C,12345 \n')).toBe('S120C,12345');
    expect(text.parse(param('S120C'))).toBe('S120C');
    expect(listOf(num(), 2).write([1, 2.5])).toBe('1,2.5');
    expect(() => listOf(int, 2).parse(param('1'))).toThrow('a list of 2 values is a reply, not a parameter');
    expect(() => block.write(Buffer.alloc(1))).toThrow('a block is a reply, not a parameter');
    expect(() => block.read('#11x')).toThrow('a block is read with a block query, not as text');
    expect(() => block.parse(param('#11x'))).toThrow('a block is a reply, not a parameter');
  });

  it('a value of several fields: written joined, answered joined, never parsed as one parameter', () => {
    const route = fields<[string, number]>({
      describe: 'port and channel',
      arity: 2,
      toFields: ([p, c]) => [p, c],
      fromFields: ([p, c]) => [p!, Number(c)],
    });
    expect(route.reply(['A', 17])).toBe('A,17');
    expect(() => route.parse(param('A'))).toThrow('port and channel takes 2 parameters: use parseFields');
    expect(() => readFields(action('SYST:PRES', 'preset'), '1')).toThrow('SYST:PRES has no reply');
  });
});

describe('table lines', () => {
  it('a setting with no query form; an action takes no value and has no query', () => {
    const mode = setting('OUTPut:MODE', keyword(['CW', 'PULSe']), 'output mode');
    expect([mode.settable, mode.queryable]).toEqual([true, false]);
    expect(formatSet(mode, 'PULSe')).toBe('OUTP:MODE PULS');
    expect(() => formatQuery(mode)).toThrow('OUTP:MODE has no query form');
    const zero = action('SENSe:CORRection:COLLect:ZERO', 'zero the head');
    expect(zero.queryable).toBe(false);
    expect(() => formatQuery(zero)).toThrow('SENS:CORR:COLL:ZERO has no query form');
    expect(() => parseReply(zero, '1')).toThrow('SENS:CORR:COLL:ZERO has no reply');
  });

  it('says which channels it takes and in which unit, and refuses what it lacks', () => {
    const level = measure('MEASure:VOLTage', num('V'), 'voltage', { unit: 'V' });
    expect(level.channels).toBe('none');
    expect(level.unit).toBe('V');
    expect(measure('MEASure:VOLTage', num(), 'voltage')).not.toHaveProperty('unit');
    const bias = control('CURRent:BIAS', num('A'), 'bias', { channels: 'list' });
    expect(() => formatSet(bias)).toThrow('CURR:BIAS needs a value (a number in A)');
    expect(() => formatQuery(bias)).toThrow('CURR:BIAS? needs a channel list');
    // without channels given, a list reply is taken whole; a line without a channel list answers one value
    expect(parseReply(bias, '1,2')).toEqual([1, 2]);
    expect(parseReply(level, '1.5', [1, 2])).toEqual([1.5]);
  });

  it('header suffixes: each # needs an integer >= 1, and the error says what came', () => {
    const att = control('INPut#:ATTenuation', num('dB'), 'attenuation', { send: 'INP#:ATT' });
    const route = control('ROUTe#:CHANnel#', int, 'route', { send: 'ROUT#:CHAN#' });
    expect(() => withSuffix(att)).toThrow('INP#:ATT: expected a suffix >= 1 for each #, got none');
    expect(() => withSuffix(att, 1.5)).toThrow('INP#:ATT: expected a suffix >= 1 for each #, got 1.5');
    expect(() => withSuffix(route, 2)).toThrow('ROUT#:CHAN#: expected a suffix >= 1 for each #, got 2');
    expect(withSuffix(route, 2, 3).send).toBe('ROUT2:CHAN3');
    expect(() => withSuffix(route, 2, 3, 4)).toThrow('ROUT#:CHAN#: 3 suffixes for 2 # in the header');
    const three = control('A#:B#:C#', int, 'three', { send: 'A#:B#:C#' });
    expect(() => withSuffix(three, 1, 2)).toThrow('A#:B#:C#: expected a suffix >= 1 for each #, got 1, 2');
  });
});

describe('compound messages', () => {
  it('every command after the first starts from the root', () => {
    expect(compound(['A 1', 'B 2', ':C 3', '*OPC?'])).toBe('A 1;:B 2;:C 3;*OPC?');
    expect(() => compound([])).toThrow('no commands to join');
  });

  it('splits replies at ; outside single or double quotes, trimmed', () => {
    expect(splitReplies(" 1 ;'a;b'; 3 ", 3)).toEqual(['1', "'a;b'", '3']);
  });
});

describe('blocks at the limits of their headers', () => {
  it('a 9-digit length is the longest a definite-length header holds', () => {
    const nineDigits = { length: 999_999_999, buffer: new ArrayBuffer(0), byteOffset: 0, byteLength: 0 };
    expect(encodeBlock(nineDigits as unknown as Uint8Array).toString('latin1')).toBe('#9999999999');
    const tenDigits = { length: 1_000_000_000, buffer: new ArrayBuffer(0), byteOffset: 0, byteLength: 0 };
    expect(() => encodeBlock(tenDigits as unknown as Uint8Array)).toThrow(
      'block of 1000000000 bytes is too long for a definite-length header',
    );
    expect(decodeBlock(Buffer.from('#9000000003abc')).toString()).toBe('abc');
  });
});

describe('channel lists', () => {
  it('only a whole (@...) is a list; a blank one is empty; a long one is quoted clipped', () => {
    expect(() => parseChannelList('x(@1)')).toThrow('channel list item "x(@1)" is not N or N:M');
    expect(() => parseChannelList('(@1)x')).toThrow('channel list item "(@1)x" is not N or N:M');
    expect(() => parseChannelList('(@ )')).toThrow('empty channel list "(@ )"');
    const long = '(@1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20)';
    expect(() => parseChannelList(long, 5)).toThrow(
      'channel list "(@1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16" selects more than 5 channels',
    );
  });
});

describe('parsing helpers', () => {
  it('numbers with only a fractional part; exponents written in upper case', () => {
    expect(parseNumber('.25')).toBe(0.25);
    expect(formatNumber(1e-7)).toBe('1E-7');
    expect(formatNumber(1e21)).toBe('1E+21');
  });

  it('errors say "reply" unless told what', () => {
    expect(() => parseNumberList('1,x')).toThrow('reply item 2: expected a number, got "x"');
    expect(() => parseBool('maybe')).toThrow('reply: expected ON/OFF/1/0, got "MAYBE"');
    expect(() => parseBoolList('1,x')).toThrow('reply item 2: expected ON/OFF/1/0, got "X"');
    expect(parseNumberList(' ')).toEqual([]);
    expect(parseBoolList('')).toEqual([]);
  });

  it('a lone quote is not a quoted string; bytes are previewed as latin1', () => {
    expect(parseString('"')).toBe('"');
    expect(parseString('xyx')).toBe('xyx'); // begins and ends alike, but not with a quote
    expect(preview(Buffer.from([0xe9, 0x41]))).toBe('\\xe9A');
  });

  it('*IDN? fields past the third are the firmware, commas kept', () => {
    expect(parseIdn('A,B,C,1.0,build 7')).toMatchObject({ manufacturer: 'A', firmware: '1.0,build 7' });
    expect(parseIdn('')).toMatchObject({ manufacturer: '', model: '', firmware: '' });
  });
});
