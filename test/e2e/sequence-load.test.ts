/**
 * Sequence files checked at load against the station, before any run starts: each refusal is exit 2 with
 * file:line:column and the key, and the store holds no run afterwards. The real CLI on the simulated
 * mosaic-800g bench (400 lanes, TEC limits 10..95 °C).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cpobench, parseJson, type RunRow, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
let db: string;
afterAll(() => tmp.cleanup());
beforeAll(() => {
  dir = tmp.make();
  db = join(dir, 'runs.db');
});

async function refused(name: string, lines: string[]) {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `${lines.join('\n')}\n`);
  // killed if it runs instead of being refused (a bad watch band used to hold the run forever)
  const r = await cpobench(['run', file, '--sim', 'mosaic-800g', '--db', db, '--no-progress'], undefined, {
    timeoutMs: 20_000,
  });
  expect(r.code, r.stderr).toBe(2);
  expect(r.stderr).not.toMatch(/^run /m);
  const runs = parseJson<RunRow[]>((await cpobench(['runs', '--db', db, '--json'])).stdout, 'runs');
  expect(runs).toEqual([]); // nothing was started
  return { file, stderr: r.stderr };
}

describe('sequence checks at load', () => {
  it('a watch band with low > high (the run would hold forever)', async () => {
    const { file, stderr } = await refused('watch-band', [
      'name: band',
      'steps:',
      '  - { id: inv, type: inventory }',
      'watch:',
      '  - { source: temperature, band: [95, 15] }',
    ]);
    expect(stderr).toContain(`${file}:5:34 watch[0].band: expected a band [low, high] with low ≤ high (95 > 15)`);
  });

  it('a lane list naming a lane the station does not have', async () => {
    const { file, stderr } = await refused('lanes', [
      'name: lanes',
      'steps:',
      '  - id: ber',
      '    type: ber',
      '    params: { rate: 2.0e9, lanes: [1, 2, 401] }',
    ]);
    expect(stderr).toContain(`${file}:5:42 steps[0].params.lanes[2]: expected a lane of the station, 1..400, got 401`);
  });

  it('temperature setpoints and the idle temperature outside the TEC limits', async () => {
    const { file, stderr } = await refused('tec', [
      'name: tec',
      'steps:',
      '  - id: sweep',
      '    type: temperature-sweep',
      '    params: { setpoints: [25, 120], idleC: 5 }',
    ]);
    expect(stderr).toContain(
      `${file}:5:31 steps[0].params.setpoints[1]: expected a temperature within the TEC limits 10..95 °C, got 120`,
    );
    expect(stderr).toContain(
      `${file}:5:44 steps[0].params.idleC: expected a temperature within the TEC limits 10..95 °C, got 5`,
    );
  });

  it('operator-prompt limits with low > high', async () => {
    const { file, stderr } = await refused('prompt', [
      'name: prompt',
      'steps:',
      '  - id: length',
      '    type: operator-prompt',
      '    params: { kind: value, message: "Fibre length (m)?", low: 50, high: 1 }',
    ]);
    expect(stderr).toContain(`${file}:5:63 steps[0].params.low: expected low ≤ high (low 50 > high 1), got 50`);
  });

  it('a sequence limit that crosses the step limit it is merged over', async () => {
    const { file, stderr } = await refused('prompt-merged', [
      'name: prompt-merged',
      'steps:',
      '  - id: length',
      '    type: operator-prompt',
      '    params: { kind: value, name: fibre_m, low: 50 }',
      '    limits: { fibre_m: { high: 1 } }',
    ]);
    expect(stderr).toContain(
      `${file}:6:32 steps[0].limits.fibre_m.high: low ≤ high once merged over the step's own limits (low 50 > high 1)`,
    );
  });

  it('timeouts and poll intervals longer than a timer can hold, naming the maximum', async () => {
    const { file, stderr } = await refused('timers', [
      'name: timers',
      'steps:',
      '  - id: inv',
      '    type: inventory',
      '    timeoutS: 3000000',
      '  - id: sweep',
      '    type: temperature-sweep',
      '    params: { settleTimeoutS: 3000000, pollMs: 3000000000 }',
      'watch:',
      '  - { source: temperature, band: [15, 95], pollS: 2200000 }',
    ]);
    const max = 'expected at most 2147483.647 s (2^31-1 ms, the longest a timer can wait)';
    expect(stderr).toContain(`${file}:5:15 steps[0].timeoutS: ${max}, got 3000000`);
    expect(stderr).toContain(`${file}:8:31 steps[1].params.settleTimeoutS: ${max}, got 3000000`);
    expect(stderr).toContain(
      `${file}:8:48 steps[1].params.pollMs: expected at most 2147483647 ms (2^31-1 ms, the longest a timer can wait), got 3000000000`,
    );
    expect(stderr).toContain(`${file}:10:51 watch[0].pollS: ${max}, got 2200000`);
  });
});
