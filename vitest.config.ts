import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    reporters: ['default', './test/helpers/summary-reporter.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    pool: 'forks',
    globalSetup: ['./test/setup/harness.ts'],
    // the tests describe a fixed containerd, not whatever this machine runs; node-facts tests unset these
    env: { MIRRORAUTH_CONTAINERD_VERSION: '2.3.4', MIRRORAUTH_CONTAINERD_CONFIG: '' },
    coverage: {
      provider: 'v8',
      // what the in-process tests reach; code run only in spawned CLI processes is not counted
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      // the floor, just under the figures measured when it was set (2026-12-01, second session: lines 70.1 %, statements 67.1 %,
      // functions 64.8 %, branches 59.4 %); raise it, never lower it (CONTRIBUTING.md)
      thresholds: { lines: 73, statements: 70, functions: 69, branches: 60 },
    },
  },
});
