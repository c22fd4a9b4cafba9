import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { leftoverTasks, producer, queueName } from '../queue/harness.js';
import { Redis } from 'ioredis';
import { useCluster, settledTasks, counter, counts, jobLog, waitForCheckpoints, waitForCount } from './nodes.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'migration: drain and lost nodes', () => {
  const cluster = useCluster();
  const node = cluster.node;

  it('SIGTERM drains A: its jobs are checkpointed, handed back, and finish on B without restarting', async () => {
    const queue = queueName();
    const a = await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    try {
      const jobs = await Promise.all([q.add('c1', { command: counter(30) }), q.add('c2', { command: counter(30) })]);
      for (const j of jobs) await waitForCount(q, j.id!, 3);
      const b = await node('B', queue);
      a.n.child.kill('SIGTERM');
      expect(await a.n.exited).toBe(0);
      expect(a.n.stderr()).toContain('drained');
      for (const j of jobs) {
        const r = (await j.waitUntilFinished(events, 60_000)) as JobResult;
        expect(r.reason).toBe('exited');
        expect(r.nodes).toEqual(['A', 'B']);
        expect(r.checkpoints).toHaveLength(1);
        expect(r.checkpoints[0]).toMatchObject({ nodeId: 'A', reason: 'drain' });
        expect(counts(r.stdout)[0]).toBeGreaterThan(2);
        expect(counts((await jobLog(q, j.id!)).join('\n'))).toEqual([...Array(30).keys()]);
      }
      // A's log says why, should a task be left behind.
      expect(await settledTasks(() => leftoverTasks(a.dir)), a.n.stderr()).toEqual([]);
      expect(await settledTasks(() => leftoverTasks(b.dir))).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('drain policies: requeue starts over on B, wait finishes on A; a second SIGTERM kills what is left and hands it back', async () => {
    const queue = queueName();
    const a = await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    try {
      const requeue = await q.add('requeue', { command: counter(20), checkpoint: { onDrain: 'requeue' } });
      const wait = await q.add('wait', { command: counter(25), checkpoint: { onDrain: 'wait' } });
      for (const j of [requeue, wait]) await waitForCount(q, j.id!, 3);
      const b = await node('B', queue);
      a.n.child.kill('SIGTERM');
      const rq = (await requeue.waitUntilFinished(events, 60_000)) as JobResult;
      expect(rq.nodes).toEqual(['A', 'B']);
      expect(rq.checkpoints).toEqual([]);
      expect(counts(rq.stdout)).toEqual([...Array(20).keys()]); // started over on B
      const wt = (await wait.waitUntilFinished(events, 60_000)) as JobResult;
      expect(wt.nodes).toEqual(['A']);
      expect(counts(wt.stdout)).toEqual([...Array(25).keys()]);
      expect(await a.n.exited).toBe(0);

      // B drains a job whose policy is 'wait'; a second signal kills it and hands it back to A (restarted).
      const long = await q.add('long', { command: counter(30), checkpoint: { onDrain: 'wait' } });
      await waitForCount(q, long.id!, 3);
      b.n.child.kill('SIGTERM');
      await new Promise((r) => setTimeout(r, 500));
      b.n.child.kill('SIGTERM');
      expect(await b.n.exited).toBe(0);
      expect(b.n.stderr()).toMatch(/"killed":\["\d+"\]/);
      await node('A', queue, a.dir);
      const lr = (await long.waitUntilFinished(events, 60_000)) as JobResult;
      expect(lr.nodes).toEqual(['B', 'A']);
      expect(counts(lr.stdout)).toEqual([...Array(30).keys()]);
      expect(await settledTasks(() => leftoverTasks(a.dir))).toEqual([]);
      expect(await settledTasks(() => leftoverTasks(b.dir))).toEqual([]);
    } finally {
      await close();
    }
  }, 150_000);

  it('a SIGKILLed A: B resumes the job from its last periodic checkpoint; A restarted discards its stale copy', async () => {
    const queue = queueName();
    const a = await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    try {
      const completed: string[] = [];
      events.on('completed', ({ jobId }) => completed.push(jobId));
      const job = await q.add('periodic', { command: counter(60), checkpoint: { everySeconds: 1 } });
      // Two committed periodic checkpoints, however slow the dumps are on this machine.
      const r0 = new Redis(cluster.redis.options);
      await waitForCheckpoints(r0, queue, job.id!, 2).finally(() => r0.disconnect());
      a.n.child.kill('SIGKILL');
      await a.n.exited;
      const b = await node('B', queue);
      const r = (await job.waitUntilFinished(events, 90_000)) as JobResult;
      expect(r.reason).toBe('exited');
      expect(r.nodeId).toBe('B');
      expect(r.nodes).toEqual(['A', 'B']);
      const periodic = r.checkpoints.filter((c) => c.reason === 'periodic' && c.nodeId === 'A');
      expect(periodic.length).toBeGreaterThan(0);
      // B restored the last checkpoint: its output does not start at 0.
      expect(counts(r.stdout)[0]).toBeGreaterThan(0);
      expect(counts(r.stdout).at(-1)).toBe(59);
      // A comes back: its copy of the job is stale (B restored it) and is discarded, never posted.
      const again = await node('A', queue, a.dir);
      expect(again.n.ready.recovery.discarded.length).toBe(1);
      await new Promise((res) => setTimeout(res, 2000));
      expect(completed.filter((id) => id === job.id)).toEqual([job.id]);
      expect(await settledTasks(() => leftoverTasks(a.dir))).toEqual([]);
      expect(await settledTasks(() => leftoverTasks(b.dir))).toEqual([]);
    } finally {
      await close();
    }
  }, 150_000);
});
