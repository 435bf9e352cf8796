import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OutputError, writeFileAtomic } from '../../src/core/write-file.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'cpobench-write-file-'));
});
afterEach(() => rmSync(dir, { recursive: true, force: true }));

const MiB = 1 << 20;

describe('writeFileAtomic with chunks', () => {
  it('writes every byte of string and buffer chunks, multi-byte text crossing the 1 MiB buffer', () => {
    // ASCII that leaves 200 bytes of the buffer, then 100 three-byte characters (300 bytes in 100 UTF-16 units)
    const chunks: (string | Buffer)[] = [
      'a'.repeat(MiB - 200),
      '温'.repeat(100),
      Buffer.from([0, 1, 2, 255]),
      'é'.repeat(MiB), // one chunk larger than the buffer
      'end\n',
    ];
    const file = join(dir, 'out', 'x.csv');
    writeFileAtomic(file, chunks);
    const expected = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? Buffer.from(c, 'utf8') : c)));
    const got = readFileSync(file);
    expect(got.length).toBe(expected.length);
    expect(got.equals(expected)).toBe(true);
  });

  it('writes chunks in place to a target that is not a regular file, and keeps the old file on an error', () => {
    const file = join(dir, 'keep.csv');
    writeFileSync(file, 'old\n');
    function* failing(): Generator<string> {
      yield 'new\n';
      throw new Error('the source failed midway');
    }
    expect(() => writeFileAtomic(file, failing())).toThrow(OutputError);
    expect(readFileSync(file, 'utf8')).toBe('old\n');
    expect(readdirSync(dir)).toEqual(['keep.csv']); // no temporary file left behind
    expect(statSync(dir).isDirectory()).toBe(true);
    writeFileAtomic('/dev/null', ['a', Buffer.from('b')]);
  });
});
