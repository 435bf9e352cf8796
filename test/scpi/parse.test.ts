import { describe, expect, it } from 'vitest';
import { decodeBlock, encodeBlock } from '../../src/scpi/block.ts';
import { parseChannelList, toChannelList } from '../../src/scpi/channels.ts';
import { parseIdn } from '../../src/scpi/idn.ts';
import {
  parseBool,
  parseErrorEntry,
  parseNumber,
  parseNumberList,
  parseString,
  splitList,
} from '../../src/scpi/parse.ts';

describe('SCPI reply parsing', () => {
  it('parses NR1, NR2, NR3 and the special values', () => {
    expect(parseNumber('42')).toBe(42);
    expect(parseNumber('-4.25')).toBe(-4.25);
    expect(parseNumber('+1.000000E-04')).toBe(1e-4);
    expect(parseNumber('9.9E37')).toBe(Number.POSITIVE_INFINITY);
    expect(parseNumber('-9.9E+37')).toBe(Number.NEGATIVE_INFINITY);
    expect(parseNumber('9.91E37')).toBeNaN();
    expect(() => parseNumber('1.2.3')).toThrow(/expected a number, got "1.2.3"/);
    expect(() => parseNumber('-------')).toThrow(/expected a number/);
  });
  it('parses lists, booleans and quoted strings', () => {
    expect(parseNumberList('1,2.5,3E-3')).toEqual([1, 2.5, 0.003]);
    expect(parseNumberList('')).toEqual([]);
    expect(splitList('1,"a,b",\'c\'')).toEqual(['1', '"a,b"', "'c'"]);
    expect([parseBool('ON'), parseBool('off'), parseBool('1'), parseBool('0')]).toEqual([true, false, true, false]);
    expect(() => parseBool('maybe')).toThrow(/expected ON\/OFF\/1\/0/);
    expect(parseString('"say ""hi"""')).toBe('say "hi"');
    expect(parseErrorEntry('-222,"Data out of range"')).toEqual({ code: -222, message: 'Data out of range' });
    expect(parseErrorEntry('0,"No error"').code).toBe(0);
  });
  it('parses *IDN? into its four fields', () => {
    expect(parseIdn('Keysight Technologies,N6705C,MY12345678,D.01.09\n')).toMatchObject({
      manufacturer: 'Keysight Technologies',
      model: 'N6705C',
      serial: 'MY12345678',
      firmware: 'D.01.09',
    });
  });
  it('builds channel lists with ranges compressed, in list order, and parses them back', () => {
    const lanes = [...Array.from({ length: 10 }, (_, i) => i + 1), 21, 40, 41, 42, 43, 44, 45];
    expect(toChannelList(lanes)).toBe('(@1:10,21,40:45)');
    expect(parseChannelList('(@1:10,21,40:45)')).toEqual(lanes);
    expect(toChannelList([5, 3, 4])).toBe('(@5,3:4)');
    expect(parseChannelList('(@3:1)')).toEqual([3, 2, 1]);
    expect(toChannelList(Array.from({ length: 400 }, (_, i) => i + 1))).toBe('(@1:400)');
    expect(() => parseChannelList('(@1:x)')).toThrow(/not N or N:M/);
    expect(() => parseChannelList('(@1:1000000)', 1000)).toThrow(/more than 1000 channels/);
  });
  it('encodes and decodes definite-length blocks', () => {
    const payload = Buffer.from([0x0a, 0, 255, 0x0a]);
    const block = encodeBlock(payload);
    expect(block.subarray(0, 3).toString()).toBe('#14');
    expect(decodeBlock(block).equals(payload)).toBe(true);
    expect(() => decodeBlock(Buffer.from('#15abc'))).toThrow(/holds 3 of the 5 bytes/);
  });
});
