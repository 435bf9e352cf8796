/**
 * Input files the CLI reads (station, sequence, link profile, fault plan, --answers) are bounded before they
 * are read, YAML alias bombs are refused naming the file, and a directory given as a file is named as one.
 * The real CLI; every refusal is exit 2 with one line on stderr, and no run is started.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MAX_CONFIG_BYTES } from '../../src/config/load-yaml.ts';
import { cpobench, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let big: string;
let bigJson: string;
afterAll(() => tmp.cleanup());
beforeAll(() => {
  dir = tmp.make();
  // 2 MiB of comments in front of an otherwise plausible document
  big = join(dir, 'big.yaml');
  writeFileSync(big, `${'# padding padding padding padding padding padding\n'.repeat(42_000)}name: big\n`);
  bigJson = join(dir, 'big.json');
  writeFileSync(bigJson, `[${' '.repeat(2 * MAX_CONFIG_BYTES)}]`);
});

const SIZE_REFUSAL = /a file of at most 1 MiB \(1048576 bytes\), got 2 MiB \(\d+ bytes\)/;

describe('input files over the size limit are refused before they are read', () => {
  const cases: [string, () => string[]][] = [
    ['station', () => ['instruments', '--station', big]],
    ['sequence', () => ['run', big, '--sim', 'mosaic-800g']],
    ['link profile', () => ['run', 'smoke', '--sim', big]],
    ['fault plan', () => ['run', 'smoke', '--sim', 'mosaic-800g', '--faults', big]],
    ['--answers', () => ['run', 'smoke', '--sim', 'mosaic-800g', '--answers', bigJson]],
  ];
  for (const [what, args] of cases) {
    it(`${what}: exit 2 naming the file, its size and the limit`, async () => {
      const argv = args();
      const r = await cpobench(argv[0] === 'run' ? [...argv, '--db', join(dir, 'runs.db')] : argv);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain(what === '--answers' ? bigJson : big);
      expect(r.stderr).toMatch(SIZE_REFUSAL);
      expect(r.stderr).not.toMatch(/^run /m); // no run started
    });
  }
});

describe('YAML alias bombs', () => {
  it('a billion-laughs station file is refused naming the file and the line of the first alias', async () => {
    const bomb = join(dir, 'bomb.yaml');
    const levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      levels.push(`${cur}: &${cur} [${Array(9).fill(`*${prev}`).join(',')}]`);
    }
    writeFileSync(bomb, `${levels.join('\n')}\n`);
    const r = await cpobench(['instruments', '--station', bomb]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${bomb}:2:8`);
    expect(r.stderr).toMatch(/aliases expand to at most 1000 nodes/);
  });
});

describe('a directory given as a file', () => {
  it('cpobench run DIR names the path and says it is a directory; nothing is started', async () => {
    const db = join(dir, 'dir.db');
    const r = await cpobench(['run', dir, '--sim', 'mosaic-800g', '--db', db]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain(`${dir}:`);
    expect(r.stderr).toMatch(/got a directory/);
    expect(r.stderr).not.toMatch(/^run /m);
    const runs = await cpobench(['runs', '--db', db, '--json']);
    expect(JSON.parse(runs.stdout)).toEqual([]);
  });
});
