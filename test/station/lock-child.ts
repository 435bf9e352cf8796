/**
 * A child process for the bench-lock tests: `lock-child.ts <dir> <resource> <mode> [barrier racers]` locks one
 * instrument in <dir> and prints one JSON line: `{"ok":true,"token":...,"tookOver":[pids]}` or
 * `{"ok":false,"code":...,"message":...}`. Then, by mode:
 *   hold   stays alive (holding the lock) until stdin closes, then exits normally
 *   exit   calls process.exit(0) at once without releasing (the exit hook must)
 *   race   like hold, but on finding a stale lock it first waits until <racers> processes have found it
 *          (files in <barrier>), then a random 0-20 ms, so every racer read the stale lock before any took it;
 *          and a random 0-10 ms between reading it again (under the takeover guard) and removing it
 */
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { lockInstruments } from '../../src/station/bench-lock.ts';

const [dir, resource, mode, barrier, racers] = process.argv.slice(2);

async function lineUp(): Promise<void> {
  writeFileSync(join(barrier!, String(process.pid)), '');
  const until = Date.now() + 15_000;
  while (readdirSync(barrier!).length < Number(racers)) {
    if (Date.now() > until) throw new Error('racers never lined up');
    await sleep(2);
  }
  await sleep(Math.random() * 20);
}

try {
  const lock = await lockInstruments([{ role: 'led-driver', resource: resource! }], {
    dir: dir!,
    station: `child-${mode}`,
    ...(mode === 'race' ? { takeoverHooks: { found: lineUp, removing: () => sleep(Math.random() * 10) } } : {}),
  });
  process.stdout.write(
    `${JSON.stringify({ ok: true, token: lock.held[0]!.token, tookOver: lock.tookOver.map((t) => t.owner.pid) })}\n`,
  );
} catch (err) {
  const e = err as Error & { code?: string };
  process.stdout.write(`${JSON.stringify({ ok: false, code: e.code, message: e.message })}\n`);
}
if (mode === 'exit') process.exit(0);
process.stdin.on('data', () => undefined);
process.stdin.on('end', () => process.exit(0));
