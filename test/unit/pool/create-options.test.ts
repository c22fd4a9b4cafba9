import { describe, expect, it } from 'vitest';
import type { LifecycleOptions, RunSpec } from '../../../src/pool/protocol.js';
import { createOptions, monitorTimeoutSeconds } from '../../../src/pool/worker/create-options.js';
import { TEST_LIFECYCLE } from '../../helpers/supervision.js';

const NOW = Date.parse('2026-12-01T10:00:00.000Z');
const lifecycle = (o: Partial<LifecycleOptions>): LifecycleOptions => ({ ...TEST_LIFECYCLE, ...o });

const spec: RunSpec = {
  taskId: 'job-1',
  namespace: 'q',
  rootfs: '/images/busybox',
  args: ['sh', '-c', 'exit 0'],
  memoryBytes: 1024,
  cpus: 1,
  pids: 64,
  diskBytes: 2048,
  logMaxBytes: 4096,
  annotations: { 'io.stasis.job.id': '1' },
};

describe('monitorTimeoutSeconds', () => {
  it('is the time left before the deadline plus the grace and 2 s', () => {
    expect(monitorTimeoutSeconds(lifecycle({ killGraceMs: 2_000, deadlines: { timeoutSeconds: 10 } }), NOW)).toBe(14);
    const firstStartedAt = new Date(NOW - 8_000).toISOString();
    expect(monitorTimeoutSeconds(lifecycle({ killGraceMs: 2_000, deadlines: { timeoutSeconds: 10, firstStartedAt } }), NOW)).toBe(6);
  });

  it('is at least 1 s once the deadline has passed, and absent without a timeout', () => {
    const firstStartedAt = new Date(NOW - 3_600_000).toISOString();
    expect(monitorTimeoutSeconds(lifecycle({ killGraceMs: 0, deadlines: { timeoutSeconds: 10, firstStartedAt } }), NOW)).toBe(1);
    expect(monitorTimeoutSeconds(lifecycle({ deadlines: { cpuTimeSeconds: 5 } }), NOW)).toBeUndefined();
  });
});

describe('createOptions', () => {
  it('maps a run spec to CreateTaskOptions with only the fields it sets', () => {
    expect(createOptions(spec, lifecycle({}), undefined)).toEqual({
      id: 'job-1',
      namespace: 'q',
      rootfs: '/images/busybox',
      process: { args: ['sh', '-c', 'exit 0'] },
      limits: { memoryBytes: 1024, cpus: 1, pids: 64, diskBytes: 2048 },
      network: 'none',
      annotations: { 'io.stasis.job.id': '1' },
      stdin: false,
      logMaxBytes: 4096,
    });
  });

  it('carries the process details, an empty stdin, the CPU-time limit and conmon\'s timeout', () => {
    const full: RunSpec = { ...spec, env: ['A=1'], cwd: '/tmp', user: { uid: 1, gid: 2 }, terminal: true, stdin: '', rootfsMapped: true, network: 'host' };
    expect(createOptions(full, lifecycle({ deadlines: { cpuTimeSeconds: 5 } }), 30)).toMatchObject({
      process: { args: spec.args, env: ['A=1'], cwd: '/tmp', user: { uid: 1, gid: 2 }, terminal: true },
      stdin: true,
      rootfsMapped: true,
      network: 'host',
      cpuSeconds: 5,
      timeoutSeconds: 30,
    });
  });
});
