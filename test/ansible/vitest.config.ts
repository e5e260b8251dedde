// npm run test:ansible: the role and playbooks against three booted Debian 12 containers (root only; see README
// "Installing with Ansible").
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/ansible/**/*.test.ts'],
    globalSetup: ['test/ansible/global-setup.ts'],
    fileParallelism: false,
    pool: 'forks',
    testTimeout: 600_000,
    hookTimeout: 20 * 60_000,
  },
});
