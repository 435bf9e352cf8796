/**
 * Nothing imports up the stack. Every relative import between the folders of src/ is read from the sources and
 * checked against the layer order the README draws: bytes (transport) under SCPI under the instrument drivers
 * under the station, the orchestrator and its steps above them, the server and the wiring (app, cli) on top.
 * The simulator is a peer of the station (it implements the drivers' command tables, on the device side) that
 * only the wiring may start: no step, store or server code depends on simulated instruments.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const SRC = new URL('../src', import.meta.url).pathname;

/** Each folder of src/ and its height: a module imports only from folders strictly below its own. */
const LAYER: Record<string, number> = {
  core: 0,
  // reads files into core's types
  config: 0.5,
  shared: 1,
  transport: 1,
  scpi: 2,
  instruments: 3,
  station: 4,
  sim: 4,
  discover: 4,
  store: 4,
  report: 4,
  orchestrator: 5,
  fleet: 5,
  steps: 6,
  server: 6,
  hub: 6,
  app: 7,
  cli: 8,
};
/** Only the wiring starts simulated benches. */
const SIM_USERS = new Set(['app', 'cli', 'sim']);

interface Edge {
  file: string;
  line: number;
  from: string;
  to: string;
}

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') ? [join(dir, e.name)] : [],
  );
}

function edges(): Edge[] {
  const out: Edge[] = [];
  for (const file of sources(SRC)) {
    const from = relative(SRC, file).split('/')[0]!;
    readFileSync(file, 'utf8')
      .split('\n')
      .forEach((text, i) => {
        for (const m of text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)) {
          const target = relative(SRC, normalize(join(dirname(file), m[1]!)));
          if (target.startsWith('..')) continue;
          const to = target.split('/')[0]!;
          if (to !== from) out.push({ file: relative(SRC, file), line: i + 1, from, to });
        }
      });
  }
  return out;
}

describe('layers', () => {
  const all = edges();

  it('reads the imports (the check has something to check)', () => {
    expect(all.length).toBeGreaterThan(100);
    expect(all.some((e) => e.from === 'scpi' && e.to === 'transport')).toBe(true);
  });

  it('every folder of src/ has a place in the order', () => {
    const folders = readdirSync(SRC, { withFileTypes: true })
      .filter((e) => e.isDirectory())
      .map((e) => e.name);
    expect(folders.filter((f) => !(f in LAYER))).toEqual([]);
  });

  it('nothing imports up the stack, nor across at its own height', () => {
    const up = all
      .filter((e) => LAYER[e.to]! >= LAYER[e.from]!)
      .map((e) => `src/${e.file}:${e.line}: ${e.from} imports ${e.to}`);
    expect(up).toEqual([]);
  });

  it('only the wiring depends on the simulator', () => {
    const bad = all
      .filter((e) => e.to === 'sim' && !SIM_USERS.has(e.from))
      .map((e) => `src/${e.file}:${e.line}: ${e.from} imports sim`);
    expect(bad).toEqual([]);
  });
});
