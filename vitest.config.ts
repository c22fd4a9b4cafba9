import { defineConfig } from 'vitest/config';

// Three projects: unit tests (pure logic, parallel), integration tests (real runc, conmon, CRIU and
// redis-server; sequential, one file at a time, generous timeouts), and the deployable image's test,
// which spends minutes building an image (debootstrap, apt, npm) mostly waiting on downloads.
const DEPLOY = 'test/integration/deploy/**/*.int.test.ts';
/** What both projects of real containers share: one test at a time, generous timeouts. */
const REAL = { environment: 'node', testTimeout: 60_000, hookTimeout: 60_000, sequence: { concurrent: false } } as const;

export default defineConfig({
  test: {
    projects: [
      // Worker threads: a pool apart from the integration fork, so they run beside it, not before it.
      { test: { name: 'unit', include: ['test/unit/**/*.test.ts'], environment: 'node', pool: 'threads' } },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.int.test.ts'],
          exclude: [DEPLOY],
          ...REAL,
          // One fork runs the integration files one after another: they share the host's runc,
          // cgroups and CPU, and assert behaviour that must not depend on a neighbour's load.
          pool: 'forks',
          poolOptions: { forks: { singleFork: true } },
          // This run's test rootfs; removes it and the empty `stasis` parent cgroups runc made at the end.
          globalSetup: ['test/helpers/integration-global.ts'],
        },
      },
      {
        test: {
          // In a worker thread (after the unit files), i.e. beside the integration fork instead of
          // after it; the test lowers its own priority (nice 10, inherited by podman, the build and
          // the containers), so the integration files keep the CPU first. Nothing it touches is shared
          // with them: a private podman root, its own cgroups, state dirs and Redis.
          name: 'deploy',
          include: [DEPLOY],
          ...REAL,
          pool: 'threads',
          poolOptions: { threads: { singleThread: true } },
        },
      },
    ],
  },
});
