// npm run test:system: the packaged agent in a booted Debian 12 container (root only; see README "System test").
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/system/**/*.test.ts'],
    globalSetup: ['test/system/global-setup.ts'],
    // one container at a time on a 2-core machine; files run one after the other
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 300_000,
    hookTimeout: 20 * 60_000,
  },
});
