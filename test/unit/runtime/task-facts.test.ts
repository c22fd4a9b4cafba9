import { describe, expect, it } from 'vitest';
import { observeTask, type ObserveProbes } from '../../../src/runtime/task-facts.js';
import { taskPaths } from '../../../src/runtime/layout.js';
import type { RuntimeContext } from '../../../src/runtime/context.js';
import type { TaskRecord } from '../../../src/runtime/records.js';

const p = taskPaths('/nonexistent-stasis-test/tasks', 'default', 't-1');
const rec = {
  version: 1,
  info: { id: 't-1', namespace: 'default', containerId: 'default+t-1', bundle: p.bundle },
  rootfs: '/',
  limits: {},
  network: 'none',
  terminal: false,
  stdin: false,
  pid: 42,
  startedAt: '2026-11-28T10:00:00.000Z',
} as unknown as TaskRecord;
const ctx = {} as RuntimeContext;

/** A conmon that writes its exit file and exits at the moment `at` is first probed. */
function racyMonitor(at: 'monitorAlive' | 'readExit'): ObserveProbes {
  let exited = false;
  const exit = { status: 0, exitedAt: '2026-11-28T10:00:01.000Z', oom: false, timedOut: false };
  return {
    runcState: async () => ({ id: 'default+t-1', pid: 42, status: 'running', bundle: p.bundle, created: '' }),
    monitorAlive: async () => {
      if (at === 'monitorAlive') exited = true;
      return !exited;
    },
    readExit: async () => {
      const seen = exited ? exit : null;
      if (at === 'readExit') exited = true;
      return seen;
    },
  };
}

describe('observeTask', () => {
  it('sees a task whose monitor exits during the observation as stopped, never lost', async () => {
    for (const at of ['monitorAlive', 'readExit'] as const) {
      const o = await observeTask(ctx, rec, p, racyMonitor(at));
      expect(o.lost).toBe(false);
      expect(['running', 'stopped']).toContain(o.status);
      if (o.status === 'stopped') expect(o.exit).toMatchObject({ status: 0, reason: 'exited' });
    }
  });
});
