import { defineConfig } from 'vitest/config';

/**
 * The in-process unit tests beside the code, for `npm run mutation` (Stryker) only. The integration tests under
 * test/ spawn the prebuilt bundle, which Stryker does not mutate, so they would only slow every mutant down;
 * src/pki/certificate.test.ts builds openssl trees for a module that is not mutated.
 */
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    exclude: ['node_modules/**', 'src/pki/certificate.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 120_000,
    pool: 'forks',
  },
});
