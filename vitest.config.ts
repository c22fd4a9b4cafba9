import { defineConfig } from 'vitest/config';

// Two projects: unit tests (pure logic, parallel) and integration tests (real runc, conmon,
// CRIU and redis-server; sequential, one file at a time, generous timeouts).
export default defineConfig({
  test: {
    projects: [
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node' } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          environment: 'node',
          // One fork runs the integration files one after another: they share the host's runc,
          // cgroups and CPU, and assert behaviour that must not depend on a neighbour's load.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 60_000,
          hookTimeout: 60_000,
          sequence: { concurrent: false },
          // This run's test rootfs; removes it and the empty `stasis` parent cgroups runc made at the end.
          globalSetup: ['test/helpers/integration-global.ts'],
        },
      },
    ],
  },
});
