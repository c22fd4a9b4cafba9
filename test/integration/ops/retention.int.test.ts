import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useFaultCluster } from '../faults/harness.js';
import { producer, queueName } from '../queue/harness.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'operations: retention of finished jobs', () => {
  const c = useFaultCluster();

  it("completed jobs leave Redis by count and by age; a job's own removeOnComplete wins over the node's", async () => {
    const queue = queueName();
    await c.node('A', queue, { extra: ['--keep-completed-count', '2', '--keep-completed', '3s'] });
    const p = await producer(c.redis, queue);
    const run = async (name: string, opts: Record<string, unknown> = {}) => {
      const j = await p.queue.add(name, { command: ['true'] }, opts);
      await j.waitUntilFinished(p.events, 60_000);
      return j.id!;
    };
    const present = async (ids: string[]) => (await Promise.all(ids.map((id) => p.queue.getJob(id)))).map((j) => j !== undefined);
    try {
      const [j1, j2, j3] = [await run('one'), await run('two'), await run('three')];
      // By count: the oldest beyond 2 went when the third finished (its logs key with it).
      expect(await present([j1, j2, j3])).toEqual([false, true, true]);
      expect((await p.queue.getJobLogs(j1)).count).toBe(0);
      expect(await p.queue.getJobCountByTypes('completed')).toBe(2);

      // The producer's own option: this one is removed at once, although the node keeps 2.
      const gone = await run('own-option', { removeOnComplete: true });
      expect(await present([gone, j2, j3])).toEqual([false, true, true]);

      // By age: once older than 3 s they go when the next job finishes.
      await new Promise((r) => setTimeout(r, 3_500));
      const j5 = await run('five');
      expect(await present([j2, j3, j5])).toEqual([false, false, true]);
    } finally {
      await p.close();
    }
  }, 120_000);

  it('failed jobs leave Redis by count too', async () => {
    const queue = queueName();
    await c.node('A', queue, { extra: ['--keep-failed-count', '1'] });
    const p = await producer(c.redis, queue);
    try {
      const ids: string[] = [];
      for (const name of ['bad1', 'bad2']) {
        const j = await p.queue.add(name, { command: ['true'], limits: { memory: '-1' } });
        await expect(j.waitUntilFinished(p.events, 60_000)).rejects.toThrow(/limits.memory/);
        ids.push(j.id!);
      }
      expect(await p.queue.getJob(ids[0]!)).toBeUndefined();
      expect(await p.queue.getJob(ids[1]!)).toBeDefined();
    } finally {
      await p.close();
    }
  }, 120_000);
});
