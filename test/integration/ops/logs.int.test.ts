import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useFaultCluster } from '../faults/harness.js';
import { producer, queueName } from '../queue/harness.js';
import { counter, stopNode } from '../migration/nodes.js';

type Line = Record<string, unknown> & { level: string; time: string; msg: string; event?: string };

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'operations: structured logs', () => {
  const c = useFaultCluster();

  it("every stderr line of serve is one JSON object; a job's lifecycle events carry jobId, taskId, nodeId, namespace, reason and durations", async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--log-format', 'json'] });
    const p = await producer(c.redis, queue);
    let lines: Line[];
    let jobId: string;
    let failedId: string;
    try {
      const job = await p.queue.add('ok', { command: counter(8), namespace: 'team-l', checkpoint: { everySeconds: 1 } });
      const bad = await p.queue.add('bad', { command: ['true'], limits: { memory: '-1' } });
      jobId = job.id!;
      failedId = bad.id!;
      await job.waitUntilFinished(p.events, 60_000);
      await expect(bad.waitUntilFinished(p.events, 60_000)).rejects.toThrow(/limits.memory/);
    } finally {
      await p.close();
    }
    await stopNode(a.n);
    const raw = a.n.stderr().split('\n').filter((l) => l.length > 0);
    lines = raw.map((l) => {
      try {
        return JSON.parse(l) as Line;
      } catch {
        throw new Error(`not a JSON line: ${l}`);
      }
    });
    for (const l of lines) {
      expect(['debug', 'info', 'warn', 'error']).toContain(l.level);
      expect(new Date(l.time).toISOString()).toBe(l.time);
      expect(l.nodeId).toBe('A');
      expect(typeof l.msg).toBe('string');
    }
    const of = (id: string, event: string) => lines.filter((l) => l.jobId === id && l.event === event);
    const ids = { jobId, taskId: `${jobId}-0`, nodeId: 'A', namespace: 'team-l' };
    expect(of(jobId, 'taken')).toEqual([expect.objectContaining({ ...ids, level: 'info', adopted: false, queueWaitMs: expect.any(Number) })]);
    expect(of(jobId, 'started')).toEqual([expect.objectContaining({ ...ids, startLatencyMs: expect.any(Number), restored: false })]);
    expect(of(jobId, 'exited')).toEqual([expect.objectContaining({ ...ids, reason: 'exited', exitStatus: 0, runMs: expect.any(Number), cpuMs: expect.any(Number) })]);
    expect(of(jobId, 'posted')).toEqual([expect.objectContaining({ ...ids, reason: 'exited', state: 'completed', totalMs: expect.any(Number) })]);
    const cks = of(jobId, 'checkpointed');
    expect(cks.length).toBeGreaterThanOrEqual(1);
    expect(cks[0]).toMatchObject({ ...ids, reason: 'periodic', seq: expect.any(Number), durationMs: expect.any(Number), bytes: expect.any(Number) });
    expect(lines.filter((l) => l.level === 'warn' || l.level === 'error').filter((l) => l.jobId === jobId)).toEqual([]);
    // In a job's order: taken, started, exited, posted.
    const order = lines.filter((l) => l.jobId === jobId && l.event !== 'checkpointed').map((l) => l.event);
    expect(order).toEqual(['taken', 'started', 'exited', 'posted']);
    // A refused payload is one warning: failed, with BullMQ's reason.
    expect(of(failedId, 'posted')).toEqual([expect.objectContaining({ level: 'warn', state: 'failed', reason: 'error', namespace: 'default', error: expect.stringContaining('limits.memory') })]);
    // The node's own life: recovered at start; SIGTERM drains it (it has a checkpoint store).
    expect(lines.some((l) => l.event === 'recovered' && Array.isArray(l.adopted) && typeof l.durationMs === 'number')).toBe(true);
    expect(lines.some((l) => l.event === 'draining')).toBe(true);
    expect(lines.some((l) => l.event === 'drained' && typeof l.durationMs === 'number')).toBe(true);
  }, 120_000);

  it('the ready line stays the first stdout line and logs stay off stdout; --log-level warn drops the info lines', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--log-level', 'warn'] });
    const p = await producer(c.redis, queue);
    try {
      const job = await p.queue.add('quiet', { command: ['true'] });
      await job.waitUntilFinished(p.events, 60_000);
    } finally {
      await p.close();
    }
    await stopNode(a.n);
    expect(a.n.ready).toMatchObject({ nodeId: 'A' });
    expect(a.n.stderr()).not.toContain('"level":"info"');
  }, 120_000);
});
