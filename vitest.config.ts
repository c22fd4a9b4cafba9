import { defineConfig } from 'vitest/config';

// Two projects: unit tests (pure logic, parallel) and integration tests (real runc, conmon,
// CRIU and redis-server; two files at a time, generous timeouts).
export default defineConfig({
  test: {
    // The forks pool (integration) runs at most two files at once: every file works under its own
    // state dir, runc root, cgroup tag, queue names and (when it stops one) its own redis-server,
    // and asserts behaviour, not a quiet machine; the tests inside a file run one after another.
    poolOptions: { forks: { minForks: 1, maxForks: 2 } },
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          environment: 'node',
          pool: 'forks',
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { concurrent: false },
        },
      },
    ],
  },
});
