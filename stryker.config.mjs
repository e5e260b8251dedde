// StrykerJS: mutation testing of the pure and transaction modules (`npm run mutation`, not part of `npm test`).
// Only the in-process unit tests beside the code run (vitest.mutation.config.ts): spawned-CLI tests run the
// prebuilt bundle, which Stryker does not mutate. Concurrency 2 and incremental mode because the CPU is shared;
// the incremental file and reports stay out of git (.gitignore). Static mutants (module-level constants: the config
// schema table, the blocker texts) are ignored: each one reruns the whole unit suite, which took the full run far past
// 20 minutes on the shared CPU; the tests assert those constants anyway (README, Testing notes).
/** @type {import('@stryker-mutator/api/core').PartialStrykerOptions} */
export default {
  packageManager: 'npm',
  testRunner: 'vitest',
  vitest: { configFile: 'vitest.mutation.config.ts', related: false },
  coverageAnalysis: 'perTest',
  mutate: [
    'src/plan/policy.ts',
    'src/plan/plan.ts',
    'src/plan/decide.ts',
    'src/inventory/documents.ts',
    'src/restart/manifest.ts',
    'src/apply/transaction.ts',
    'src/apply/lock.ts',
    'src/config/config.ts',
    'src/config/duration.ts',
    'src/apply/undo.ts',
  ],
  concurrency: 2,
  incremental: true,
  ignoreStatic: true,
  incrementalFile: 'reports/stryker-incremental.json',
  tempDirName: '.stryker-tmp',
  reporters: ['clear-text', 'progress-append-only', 'html', 'json'],
  htmlReporter: { fileName: 'reports/mutation/mutation.html' },
  jsonReporter: { fileName: 'reports/mutation/mutation.json' },
  clearTextReporter: { allowColor: false, logTests: false, reportTests: false, reportMutants: false, reportScoreTable: true },
  thresholds: { high: 90, low: 85, break: 85 },
  timeoutMS: 10_000,
};
