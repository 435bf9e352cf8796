import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError } from '../../../src/config/load-yaml.ts';
import {
  activeLanes,
  builtinProfileNames,
  laneCount,
  loadProfile,
  PROFILE_DIR,
  parseProfile,
} from '../../../src/sim/model/profile.ts';

describe('profiles', () => {
  it('ships the five built-in profiles', () => {
    expect(builtinProfileNames()).toEqual([
      'alc-30m',
      'lightbundle-512g',
      'mosaic-800g',
      'mosaic-800g-bert',
      'mosaic-800g-cmos',
    ]);
  });

  it('mosaic-800g-bert: the mosaic-800g link on a BERT bench (ED behind a switch, attenuator, SMU on lane 1)', () => {
    const p = loadProfile('mosaic-800g-bert');
    const m = loadProfile('mosaic-800g');
    expect(p.bench).toEqual({ kind: 'bert', edChannels: 4, switchLossDb: 0.5, attenuatorMaxDb: 40, smuLane: 1 });
    expect(p.runTimeScale).toBe(20000);
    expect({ ...p.emitter, ...p.channel, ...p.link }).toEqual({ ...m.emitter, ...m.channel, ...m.link });
    expect(p.instruments.bert).toMatchObject({ manufacturer: 'ANRITSU', model: 'MP1900A' });
    expect(m.bench).toEqual({ kind: 'kit' });
    expect(() =>
      parseProfile(
        readFileSync(path.join(PROFILE_DIR, 'mosaic-800g-bert.yaml'), 'utf8').replace(/^ {2}smu: .*$/m, ''),
        'no-smu.yaml',
      ),
    ).toThrow(/no-smu\.yaml.* instruments\.smu: expected the identity of the smu \(bench kind bert\)/);
  });

  it('mosaic-800g: 20x20 = 400 lanes at 2 Gb/s, PD receiver, no spares', () => {
    const p = loadProfile('mosaic-800g');
    expect(laneCount(p)).toBe(400);
    expect(p.link.rate).toBe(2e9);
    expect(p.receiver.type).toBe('pd');
    expect(activeLanes(p)).toHaveLength(400);
    expect(p.instruments['power-analyzer']).toMatchObject({ manufacturer: 'Keysight Technologies', model: 'N6705C' });
    expect(p.instruments['led-driver'].manufacturer).toBe('cpobench-sim');
  });

  it('mosaic-800g-cmos has a frame with several pixels per lane', () => {
    const p = loadProfile('mosaic-800g-cmos');
    expect(p.receiver.type).toBe('cmos');
    expect(p.receiver.frame!.width / p.geometry.cols).toBeGreaterThanOrEqual(8);
  });

  it('lightbundle-512g: 320 lanes, 256 active + 64 spare, 2..3.5 Gb/s', () => {
    const p = loadProfile('lightbundle-512g');
    expect(laneCount(p)).toBe(320);
    expect(p.geometry.spareLanes).toHaveLength(64);
    expect(activeLanes(p)).toHaveLength(256);
    expect(p.link.rate).toBe(2e9);
    expect(p.link.rateMax).toBe(3.5e9);
  });

  it('loads by path too', () => {
    expect(loadProfile(path.join(PROFILE_DIR, 'mosaic-800g.yaml')).name).toBe('mosaic-800g');
  });

  it('lists the available names for an unknown profile', () => {
    expect(() => loadProfile('nope-9000')).toThrow(
      /unknown profile "nope-9000"; available: alc-30m, lightbundle-512g, mosaic-800g/,
    );
  });

  const base = readFileSync(path.join(PROFILE_DIR, 'mosaic-800g.yaml'), 'utf8');
  const bad: [string, string, RegExp][] = [
    ['rate 0', base.replace('rate: 2.0e9 ', 'rate: 0 '), /link\.rate: expected a number > 0, got 0/],
    ['negative rows', base.replace('rows: 20', 'rows: -20'), /geometry\.rows: expected a number >= 1, got -20/],
    [
      'spare out of range',
      base.replace('spareLanes: []', 'spareLanes: [401]'),
      /geometry\.spareLanes\[0\]: expected a lane number in 1\.\.400/,
    ],
    [
      'bias+mod above max',
      base.replace('maxA: 600.0e-6', 'maxA: 100.0e-6'),
      /operatingPoint\.maxA: expected maxA >= biasA \+ modA/,
    ],
    ['receiver type', base.replace('type: pd', 'type: apd'), /receiver\.type: expected one of "pd", "cmos", got "apd"/],
  ];
  for (const [label, text, re] of bad) {
    it(`rejects ${label} with a located message`, () => {
      let err: unknown;
      try {
        parseProfile(text, 'fixtures/profiles/x.yaml');
      } catch (e) {
        err = e;
      }
      expect(err).toBeInstanceOf(ConfigError);
      const msg = (err as ConfigError).message;
      expect(msg).toMatch(/^fixtures\/profiles\/x\.yaml:\d+:\d+ /);
      expect(msg).toMatch(re);
    });
  }

  it('locates rate 0 on its line', () => {
    const text = base.replace('rate: 2.0e9 ', 'rate: 0 ');
    const line = text.split('\n').findIndex((l) => l.startsWith('  rate: 0')) + 1;
    try {
      parseProfile(text, 'p.yaml');
      expect.unreachable();
    } catch (e) {
      expect((e as ConfigError).line).toBe(line);
      expect((e as ConfigError).column).toBe(9);
    }
  });
});
