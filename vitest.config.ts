import { defineConfig } from 'vitest/config';

// Unit and integration tests live in test/, mirroring src/. Browser tests (test/browser) drive
// Debian's Chromium through playwright-core and need a built site; they run in the same suite.
export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    pool: 'forks',
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 20_000,
  },
});
