/**
 * `npm run test:shuffle [-- vitest args]`: the whole suite with files and tests in a random order, the seed printed
 * first so a failing order can be replayed (`npm run test:shuffle -- --sequence.seed N`).
 */
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';

const args = process.argv.slice(2);
const given = args.find((a) => a.startsWith('--sequence.seed'));
const seed = given ? undefined : Math.floor(Math.random() * 2 ** 31);
if (seed !== undefined) args.push(`--sequence.seed=${seed}`);
console.log(`test:shuffle: seed ${seed ?? given} (replay: npm run test:shuffle -- --sequence.seed=${seed ?? '…'})`);
const vitest = join(import.meta.dirname, '..', '..', 'node_modules', '.bin', 'vitest');
const r = spawnSync(vitest, ['run', '--sequence.shuffle', ...args], {
  stdio: 'inherit',
  env: { ...process.env, NO_COLOR: '1' },
});
process.exit(r.status ?? 1);
