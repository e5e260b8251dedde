import { defineConfig } from 'vitest/config';

/**
 * The in-process unit tests beside the code, for `npm run mutation` (Stryker) only. The integration tests under
 * test/ spawn the prebuilt bundle, which Stryker does not mutate, so they would only slow every mutant down.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['node_modules/**'],
    testTimeout: 30_000,
    pool: 'forks',
  },
});
