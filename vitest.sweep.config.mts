import { defineConfig } from 'vitest/config';

/** The full random kill sweep (npm run sweep:kill): not part of `npm test`, which runs a sample. */
export default defineConfig({
  test: {
    include: ['test/sweeps/**/*.sweep.ts'],
    pool: 'forks',
    isolate: true,
    testTimeout: 6 * 3600_000,
    hookTimeout: 600_000,
    globalSetup: ['test/global-setup.ts'],
    setupFiles: ['test/setup.ts'],
  },
});
