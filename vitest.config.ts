import { defineConfig } from 'vitest/config';

// Unit tests live beside the code (src/**/*.test.ts); slower suites that start real servers,
// kill processes or run benchmarks-as-checks live in test/. Files run in parallel.
export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
