import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, loadYamlFile, parseYamlText } from '../../src/config/load-yaml.ts';
import { tempDirs } from '../helpers/temp.ts';

const tmp = tempDirs('cpobench-yaml-');
afterAll(() => tmp.cleanup());

const schema = z.strictObject({
  name: z.string(),
  link: z.strictObject({ rate: z.number().gt(0), lanes: z.number().int().min(1) }),
  mode: z.enum(['pd', 'cmos']).default('pd'),
  items: z.array(z.strictObject({ v: z.number() })).default([]),
});

function expectConfigError(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return e as ConfigError;
  }
  throw new Error('expected a ConfigError');
}

describe('parseYamlText', () => {
  it('returns validated data with defaults', () => {
    const v = parseYamlText('name: a\nlink:\n  rate: 2.0e9\n  lanes: 4\n', 'x.yaml', schema);
    expect(v).toEqual({ name: 'a', link: { rate: 2e9, lanes: 4 }, mode: 'pd', items: [] });
  });

  it('names file:line:column, the key path, the expectation and the value', () => {
    const text = 'name: a\nlink:\n  lanes: 4\n  rate: 0\n';
    const e = expectConfigError(() => parseYamlText(text, 'fixtures/profiles/x.yaml', schema));
    expect(e.message).toBe('fixtures/profiles/x.yaml:4:9 link.rate: expected a number > 0, got 0');
    expect(e.file).toBe('fixtures/profiles/x.yaml');
    expect(e.line).toBe(4);
    expect(e.column).toBe(9);
    expect(e.path).toBe('link.rate');
    expect(e.expected).toBe('expected a number > 0');
  });

  it('reports wrong types, enum values, array items, unknown and missing keys', () => {
    const text = [
      'name: a',
      'link:',
      '  rate: fast',
      '  lanes: -2',
      'mode: laser',
      'items:',
      '  - v: 1',
      '  - v: "two"',
      'extra: 1',
    ].join('\n');
    const e = expectConfigError(() => parseYamlText(text, 'f.yaml', schema));
    const byPath = Object.fromEntries(e.issues.map((i) => [i.path, i]));
    expect(byPath['link.rate']).toMatchObject({ line: 3, column: 9, expected: 'expected a number', got: '"fast"' });
    expect(byPath['link.lanes']).toMatchObject({ line: 4, expected: 'expected a number >= 1', got: '-2' });
    expect(byPath.mode).toMatchObject({ line: 5, column: 7, expected: 'expected one of "pd", "cmos"' });
    expect(byPath['items[1].v']).toMatchObject({ line: 8, column: 8 });
    expect(byPath.extra).toMatchObject({ line: 9, column: 1, got: '"extra"' });
    const missing = expectConfigError(() => parseYamlText('name: a\nlink:\n  rate: 1\n', 'm.yaml', schema));
    expect(missing.path).toBe('link.lanes');
    expect(missing.line).toBe(3); // points at the enclosing mapping
    expect(missing.got).toBe('nothing');
  });

  it('reports YAML syntax errors with their position', () => {
    const e = expectConfigError(() => parseYamlText('name: a\nlink: [1, 2\n', 's.yaml', schema));
    expect(e.file).toBe('s.yaml');
    expect(e.line).toBeGreaterThanOrEqual(2);
    expect(e.expected).toBe('valid YAML');
  });
});

describe('loadYamlFile', () => {
  it('loads a file and labels errors with its path', () => {
    const dir = tmp.make();
    const good = path.join(dir, 'good.yaml');
    writeFileSync(good, 'name: ok\nlink: { rate: 1, lanes: 2 }\n');
    expect(loadYamlFile(good, schema).link.lanes).toBe(2);
    const bad = path.join(dir, 'bad.yaml');
    writeFileSync(bad, 'name: ok\nlink: { rate: 1, lanes: 0 }\n');
    const e = expectConfigError(() => loadYamlFile(bad, schema));
    expect(e.message).toContain('bad.yaml:2:');
    expect(e.message).toContain('link.lanes: expected a number >= 1, got 0');
    const none = expectConfigError(() => loadYamlFile(path.join(dir, 'nope.yaml'), schema));
    expect(none.got).toBe('no such file');
  });
});
