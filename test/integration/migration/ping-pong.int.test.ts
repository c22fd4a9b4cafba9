import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { StasisClient } from '../../../src/queue/client.js';
import { lockHolder } from '../../../src/queue/bullmq-keys.js';
import { producer, queueName } from '../queue/harness.js';
import { useCluster, counter, counts, jobLog, waitForCount } from './nodes.js';

/** Migrates the job to `to`, asking again while it is still starting on the node it was last moved to. */
async function migrateWhenRunning(client: StasisClient, jobId: string, to: string, path: string[]): Promise<{ from: string; to: string | null }> {
  const end = Date.now() + 10_000;
  for (;;) {
    try {
      return await client.migrate(jobId, { to, timeoutMs: 20_000 });
    } catch (e) {
      const starting = /not running on node|has not started/.test((e as Error).message);
      if (!starting || Date.now() > end) throw new Error(`move ${path.length} (${path.join(' → ')} → ${to}): ${(e as Error).message}`, { cause: e });
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'migration: quick moves back and forth', () => {
  const cluster = useCluster();

  // Locks of 5 s here, renewed every 1.7 s by the node holding the job; each move (and the first count after
  // it) takes about a second, so the moves together outlast the lock taken when the job first started.
  const LOCK = ['--lock-duration', '5000'];
  it('a job handed back and forth faster than its lock is renewed keeps its lock: every move is answered, the count never restarts', async () => {
    const queue = queueName();
    await cluster.node('A', queue, undefined, LOCK);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    const client = await StasisClient.connect({ redis: cluster.redis.url, queue });
    try {
      const job = await q.add('count', { command: counter(60) });
      await waitForCount(q, job.id!, 2);
      await cluster.node('B', queue, undefined, LOCK);
      const started = Date.now();
      const path: string[] = ['A'];
      let to = 'B';
      while (Date.now() - started < 10_000) {
        const before = Math.max(...counts((await jobLog(q, job.id!)).join('\n')));
        const moved = await migrateWhenRunning(client, job.id!, to, path);
        expect(moved).toMatchObject({ from: path.at(-1), to });
        path.push(to);
        to = moved.from;
        // The job's lock is held by the node it runs on, under the token it was handed.
        expect(await lockHolder((await q.client) as never, { queue }, job.id!)).not.toBeNull();
        await waitForCount(q, job.id!, before + 1); // running on `to` again
      }
      expect(path.length).toBeGreaterThan(4);
      const result = (await job.waitUntilFinished(events, 60_000)) as JobResult;
      expect(result.reason).toBe('exited');
      expect(result.nodes).toEqual(path);
      expect(counts((await jobLog(q, job.id!)).join('\n'))).toEqual([...Array(60).keys()]);
    } finally {
      await client.close();
      await close();
    }
  }, 120_000);
});
