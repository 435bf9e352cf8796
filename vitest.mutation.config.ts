import { defineConfig } from 'vitest/config';

/**
 * Vitest as Stryker runs it (`npm run test:mutation`): only the test files of the module under test
 * (CPOBENCH_MUTATION_TESTS, comma-separated globs, set by test/mutation/run.ts), no JUnit output.
 */
const include = (process.env.CPOBENCH_MUTATION_TESTS ?? 'test/**/*.test.ts').split(',').filter(Boolean);

export default defineConfig({
  test: {
    include,
    exclude: ['test/e2e/**', 'test/dashboard/**', '**/node_modules/**'],
    setupFiles: ['test/setup/lock-dir.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['dot'],
  },
});
