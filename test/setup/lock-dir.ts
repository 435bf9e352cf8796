/**
 * Every test file gets a bench-lock directory of its own (the CLI processes it spawns inherit it), so tests
 * never see each other's locks, nor those of a cpobench running on this machine.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll } from 'vitest';

const dir = mkdtempSync(join(tmpdir(), 'cpobench-test-locks-'));
process.env.CPOBENCH_LOCK_DIR = dir;
afterAll(() => rmSync(dir, { recursive: true, force: true }));
