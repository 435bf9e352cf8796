/** What a test opened (servers, sessions, folders), closed after each test in the reverse order of opening. */
import { afterEach } from 'vitest';

export interface Cleanups {
  push(...fns: (() => unknown)[]): void;
}

/** Registers the afterEach that runs them; call at the top of a test file. */
export function cleanupsAfterEach(): Cleanups {
  const list: (() => unknown)[] = [];
  afterEach(async () => {
    for (const c of list.splice(0).reverse()) await c();
  });
  return { push: (...fns) => void list.push(...fns) };
}
