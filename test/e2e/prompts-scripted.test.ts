/**
 * Prompts answered without a person: `--answers FILE`, `--yes`, and the no-terminal default of CI (stdin not a
 * terminal, no table: confirm and pass/fail prompts answered yes/pass). The real CLI on the simulated bench, a
 * sequence asking one question of each kind, the answers checked in the stored record.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { PromptRecord, RunRecord } from '../../src/core/record.ts';
import { terminals } from '../helpers/pty.ts';
import { cpobench as cli, parseJson, tempDirs } from './helpers.ts';

const ASKS = 'test/e2e/fixtures/asks.yaml';
const tmp = tempDirs('cpobench-prompts-');
const ptys = terminals();
afterEach(() => ptys.hangUpAll()); // a failed test leaves nothing running
afterAll(() => tmp.cleanup());

/** The real CLI, killed if it hangs (so a failing test leaves nothing behind). */
const cpobench = (args: string[], input?: string) => cli(args, input, { timeoutMs: 75_000 });
const record = (file: string) => parseJson<RunRecord>(readFileSync(file, 'utf8'), file);
const answers = (rec: RunRecord) =>
  rec.prompts.map((p: PromptRecord) => [p.step, p.kind, p.answer, p.answeredBy, p.answeredAt !== undefined]);
const step = (rec: RunRecord, id: string) => rec.steps.find((s) => s.id === id)!;

function files(): { json: string; db: string; dir: string } {
  const dir = tmp.make();
  return { dir, json: join(dir, 'run.json'), db: join(dir, 'runs.db') };
}

function answerFile(dir: string, table: unknown): string {
  const file = join(dir, 'answers.json');
  writeFileSync(file, JSON.stringify(table));
  return file;
}

describe('operator prompts answered by script', () => {
  it('--answers FILE: each prompt gets the first entry whose match fits; the answers decide the verdicts', async () => {
    const { dir, json, db } = files();
    const table = answerFile(dir, [
      { match: 'fibre bundle', answer: 'yes' },
      { match: '^case temperature', answer: 31.5 },
      { match: 'eye', answer: 'fail' },
      { match: 'eye', answer: 'pass' }, // never reached: the first match wins
    ]);
    const r = await cpobench(['run', ASKS, '--sim', 'mosaic-800g', '--db', db, '--json', json, '--answers', table]);
    expect(r.code, r.stderr).toBe(1); // the eye was judged "fail"
    const rec = record(json);
    expect(rec.outcome).toBe('FAIL');
    expect(answers(rec)).toEqual([
      ['fibre', 'confirm', true, 'script', true],
      ['case-temp', 'value', 31.5, 'script', true],
      ['eye', 'passfail', false, 'script', true],
    ]);
    expect(step(rec, 'case-temp').measurements[0]).toMatchObject({ value: 31.5, verdict: 'PASS' });
    expect(step(rec, 'eye').verdict).toBe('FAIL');
    expect(step(rec, 'energy').verdict).toBe('PASS'); // the run went on after the answers
    expect(r.stderr).not.toMatch(/^\? /m); // nothing was asked
  }, 90_000);

  it('--yes on a terminal asks nothing: confirm and pass/fail are yes/pass; a value prompt is not answered "yes"', async () => {
    const { json, db } = files();
    const t = ptys.cpobench(['run', ASKS, '--sim', 'mosaic-800g', '--db', db, '--json', json, '--yes'], {
      timeoutMs: 75_000,
    });
    expect(await t.exited, t.screen().text()).toBe(2);
    expect(t.plain()).not.toMatch(/^\? /m); // no question on the terminal
    const rec = record(json);
    expect(rec.outcome).toBe('ERROR');
    expect(answers(rec)).toEqual([
      ['fibre', 'confirm', true, 'script', true],
      ['case-temp', 'value', undefined, undefined, false],
    ]);
    // the value prompt ends its step ERROR, saying why; no made-up value is measured
    const caseTemp = step(rec, 'case-temp');
    expect(caseTemp.verdict).toBe('ERROR');
    expect(caseTemp.error).toMatch(
      /Case temperature on the thermocouple \(C\)\?.*no scripted answer matches this value prompt/,
    );
    expect(caseTemp.measurements.filter((m) => m.kind === 'scalar' && m.value !== null)).toEqual([]);
    expect(t.screen().text()).toMatch(/^verdict +ERROR$/m);
  }, 90_000);

  it('--yes with a table answering the value: everything answered, PASS', async () => {
    const { dir, json, db } = files();
    const table = answerFile(dir, [{ match: 'temperature', answer: '22' }]);
    const r = await cpobench([
      'run',
      ASKS,
      '--sim',
      'mosaic-800g',
      '--db',
      db,
      '--json',
      json,
      '--yes',
      '--answers',
      table,
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(answers(record(json))).toEqual([
      ['fibre', 'confirm', true, 'script', true],
      ['case-temp', 'value', 22, 'script', true],
      ['eye', 'passfail', true, 'script', true],
    ]);
  }, 90_000);

  it('no terminal and no table (CI): stdin is never read; yes/pass for confirm and pass/fail, the value prompt ERROR', async () => {
    const { json, db } = files();
    // what is on stdin ("no", "fail") is not an answer: stdin is not a terminal
    const r = await cpobench(['run', ASKS, '--sim', 'mosaic-800g', '--db', db, '--json', json], 'n\n12\nfail\n');
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).not.toMatch(/^\? /m);
    const rec = record(json);
    expect(rec.outcome).toBe('ERROR');
    expect(answers(rec)[0]).toEqual(['fibre', 'confirm', true, 'script', true]);
    expect(step(rec, 'case-temp').error).toMatch(/no scripted answer matches this value prompt/);
    expect(rec.error).toMatch(/case-temp|Case temperature/);
  }, 90_000);

  it('no terminal, a table for the value only: the rest default to yes/pass, PASS (exit 0)', async () => {
    const { dir, json, db } = files();
    const table = answerFile(dir, [{ match: 'thermocouple', answer: 24 }]);
    const r = await cpobench(['run', ASKS, '--sim', 'mosaic-800g', '--db', db, '--json', json, '--answers', table]);
    expect(r.code, r.stderr).toBe(0);
    const rec = record(json);
    expect(rec.outcome).toBe('PASS');
    expect(answers(rec)).toEqual([
      ['fibre', 'confirm', true, 'script', true],
      ['case-temp', 'value', 24, 'script', true],
      ['eye', 'passfail', true, 'script', true],
    ]);
    // the stored record says the same (report from the store, not the --json file)
    const rep = await cpobench(['report', rec.id, '--db', db, '--format', 'json']);
    expect(rep.code, rep.stderr).toBe(0);
    expect(answers(parseJson<RunRecord>(rep.stdout, 'report'))).toEqual(answers(rec));
  }, 90_000);
});
