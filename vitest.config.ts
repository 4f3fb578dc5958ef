import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    // The fault suite (kills, rollbacks, minute-long outages) runs as `npm run test:faults` (FAULTS=1).
    exclude: ['node_modules/**', '.data/**', ...(process.env.FAULTS ? [] : ['test/faults/**'])],
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
