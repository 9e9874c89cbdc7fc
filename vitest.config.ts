import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // DuckDB and the demo are CPU-heavy; on a 2-core machine more workers only add contention.
    maxWorkers: 2,
  },
})
