/**
 * Lot, wafer and die position live in the bench's own record: `cpobench run --lot --wafer --die` keeps them in
 * the SQLite file and its outputs, and forwarding carries them from that record into the lab database (no job
 * involved). Bad values are refused before anything starts, naming the option.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import type { Hub } from '../../src/hub/server.ts';
import { cpobench } from '../helpers/cli.ts';
import { startTempPg, type TempPg } from '../helpers/pg.ts';
import { tempDirs } from '../helpers/temp.ts';
import { issueBenchToken, openTestBench, startTestHub } from './helpers.ts';

let pgsrv: TempPg;
let hub: Hub;
const dirs = tempDirs('cpobench-origin-');

beforeAll(async () => {
  pgsrv = await startTempPg();
  hub = await startTestHub(pgsrv.url);
}, 60_000);
afterAll(async () => {
  await hub?.close();
  await pgsrv?.close();
  dirs.cleanup();
});

describe("the DUT's lot, wafer and die in the bench's record", () => {
  it('cpobench run --lot --wafer --die keeps them in its record; forwarding carries them into the hub', async () => {
    const dir = dirs.make();
    const db = join(dir, 'origin-1.db');
    const out = join(dir, 'run.json');
    const runs: string[] = [];
    // twice on one bench: a second run with another die, a third with none
    for (const [die, extra] of [
      ['-2,7', ['--lot', ' L2026-11 ', '--wafer', 'W07']],
      ['3,5', ['--lot', 'L2026-11', '--wafer', 'W07']],
      [undefined, []],
    ] as const) {
      const args = ['run', 'smoke', '--sim', 'mosaic-800g', '--db', db, '--dut', `SN-${runs.length}`, '--json', out];
      const r = await cpobench([...args, ...extra, ...(die ? ['--die', die] : [])], undefined, { timeoutMs: 60_000 });
      expect(r.code, r.stderr).toBe(0);
      const rec = JSON.parse(readFileSync(out, 'utf8')) as RunRecord;
      runs.push(rec.id);
      if (die) {
        const [x, y] = die.split(',').map(Number);
        expect(rec).toMatchObject({ lot: 'L2026-11', wafer: 'W07', die: { x, y } });
      } else {
        expect([rec.lot, rec.wafer, rec.die]).toEqual([undefined, undefined, undefined]);
      }
    }
    // the file joins the lab afterwards: its history is forwarded, lot/wafer/die from the bench's own record
    const bench = await openTestBench(hub.url, await issueBenchToken(hub, 'origin-1'), 'origin-1', dir);
    try {
      await bench.forwarder.flush();
      for (const id of runs) {
        const { lab, ...there } = (await (await fetch(`${hub.url}/api/runs/${id}`)).json()) as RunRecord & {
          lab: { lot: string | null; wafer: string | null; die: unknown; jobId: number | null };
        };
        const own = bench.store.getRun(id);
        expect(there).toEqual(JSON.parse(JSON.stringify(own)));
        expect(lab).toMatchObject({ lot: own.lot ?? null, wafer: own.wafer ?? null, die: own.die ?? null });
        expect(lab.jobId).toBeNull();
      }
      const w = (await (await fetch(`${hub.url}/api/analytics/wafer-map?lot=L2026-11&wafer=W07`)).json()) as {
        dies: { x: number; y: number; runId: string }[];
      };
      expect(w.dies.map((d) => [d.x, d.y, d.runId])).toEqual([
        [-2, 7, runs[0]],
        [3, 5, runs[1]],
      ]);
    } finally {
      await bench.close();
    }
  }, 120_000);

  it('refuses a bad --lot, --wafer or --die before anything starts, naming the option', async () => {
    const base = ['run', 'smoke', '--sim', 'mosaic-800g', '--db', join(dirs.make(), 'none.db'), '--dut', 'SN'];
    const cases: [string[], string][] = [
      [['--die', '1.5,2'], '--die: expected X,Y (two integers, e.g. 3,5), got "1.5,2"'],
      [['--die', '3'], '--die: expected X,Y (two integers, e.g. 3,5), got "3"'],
      [['--die', '3,200000'], '--die: y: expected an integer within ±100000, got 200000'],
      [['--lot', ' '], '--lot: a lot name, when given, is not empty'],
      [['--wafer', 'W\u00077'], '--wafer: no control characters, got \\x07 at position 2'],
    ];
    for (const [extra, msg] of cases) {
      const r = await cpobench([...base, ...extra], undefined, { timeoutMs: 30_000 });
      expect(r.code, extra.join(' ')).toBe(2);
      expect(r.stderr).toContain(msg);
    }
  }, 120_000);
});
