/**
 * An instrument that stops answering (or drops the connection) during the inventory step is an I/O failure
 * of the bench, not a verdict on the DUT: the step and the run are ERROR (exit 2), never FAIL (exit 1).
 * The real CLI on the simulated bench, with a fault plan that hangs one instrument at inventory.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunRecord } from '../../src/core/record.ts';
import { cpobench, parseJson, runIdFrom, tempDirs } from './helpers.ts';

const tmp = tempDirs();
let dir: string;
afterAll(() => tmp.cleanup());
beforeAll(() => {
  dir = tmp.make();
});

// The optical meter answers the five commands of station open (*IDN?, unit, wavelength, averaging, CONF:POW); the
// fault applies from the sixth, the inventory's *IDN?.
function faultPlan(name: string, fault: string): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(file, `name: ${name}\ninstruments:\n  optical-meter: { ${fault} }\n`);
  return file;
}

async function runSmoke(faults: string, db: string, extra: string[] = []) {
  const r = await cpobench([
    'run',
    'smoke',
    '--sim',
    'mosaic-800g',
    '--faults',
    faults,
    '--db',
    db,
    '--dut',
    'SN-INV',
    '--no-progress',
    ...extra,
  ]);
  const id = runIdFrom(r.stderr);
  const rec = parseJson<RunRecord>(
    (await cpobench(['report', id, '--format', 'json', '--db', db])).stdout,
    'report json',
  );
  return { r, rec };
}

describe('inventory with an instrument that stops answering', () => {
  it('a hung instrument makes the inventory step ERROR and the run ERROR (exit 2), naming it and the command', async () => {
    const db = join(dir, 'hang.db');
    const junit = join(dir, 'hang.xml');
    const { r, rec } = await runSmoke(faultPlan('meter-hangs', 'stopAfterCommands: 5'), db, ['--junit', junit]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stdout).toMatch(/^verdict +ERROR$/m);
    expect(rec.outcome).toBe('ERROR');
    const inv = rec.steps.find((s) => s.id === 'inventory')!;
    expect(inv.verdict).toBe('ERROR');
    expect(inv.error).toMatch(/optical-meter: "\*IDN\?" failed: .*no reply/);
    expect(rec.error).toMatch(/optical-meter/);
    // the run stopped there: no later step was judged on a bench with a dead instrument
    expect(rec.steps.map((s) => s.id)).toEqual(['inventory']);
    // JUnit: the step is an error, and so is the run, carrying its reason
    const xml = readFileSync(junit, 'utf8');
    expect(xml).toMatch(/<testsuites [^>]*tests="3" failures="0" errors="2"/);
    expect(xml).toMatch(/<testcase name="run" [^>]*>\s*<error message="[^"]*optical-meter[^"]*" type="ERROR">/);
  });

  it('a connection dropped during inventory is an ERROR too (exit 2)', async () => {
    const db = join(dir, 'drop.db');
    const { r, rec } = await runSmoke(faultPlan('meter-drops', 'dropAfterCommands: 6'), db);
    expect(r.code, r.stderr).toBe(2);
    expect(rec.outcome).toBe('ERROR');
    const inv = rec.steps.find((s) => s.id === 'inventory')!;
    expect(inv.verdict).toBe('ERROR');
    expect(inv.error).toMatch(/optical-meter: "\*IDN\?" failed/);
  });
});
