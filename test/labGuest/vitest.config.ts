// vitest for the runtime tests inside the lab guest (test/lab.test.ts starts them): a read-only root, no cache.

import { defineConfig } from 'vitest/config';

export default defineConfig({
  cacheDir: '/run/vite',
  test: {
    include: ['test/labGuest/**/*.guest.ts'],
    reporters: ['default'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    fileParallelism: false,
  },
});
