import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'examples/**/*.test.ts'],
    reporters: ['default'],
    globalSetup: ['test/globalSetup.ts'],
    // Tests with real processes wait on them; the shared 2-core machines are slow at times.
    testTimeout: 15_000,
  },
});
