// StrykerJS (mutation testing) for `npm run test:mutation`; test/mutation/run.ts sets `mutate` per module.
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts' },
  coverageAnalysis: 'perTest',
  concurrency: 1,
  reporters: ['progress-append-only', 'clear-text', 'json', 'html'],
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  clearTextReporter: { allowColor: false, logTests: false, reportScoreTable: true, reportMutants: true },
  timeoutMS: 10000,
  timeoutFactor: 2,
  tempDirName: '.stryker-tmp',
  ignorePatterns: ['test/artifacts', 'data', 'reports', 'coverage', '*.db', '.stryker-tmp'],
  cleanTempDir: 'always',
  thresholds: { high: 90, low: 80, break: null },
};
