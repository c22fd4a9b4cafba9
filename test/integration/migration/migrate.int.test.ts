import fs from 'node:fs';
import path from 'node:path';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { StasisClient } from '../../../src/queue/client.js';
import { leftoverTasks, producer, queueName } from '../queue/harness.js';
import { useCluster, MAIN, settledTasks, counter, counts, jobLog, waitForCount } from './nodes.js';

const run = promisify(execFile);

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'migration: migrate a running job between two nodes', () => {
  const cluster = useCluster();
  const node = cluster.node;

  it('stasis job migrate --to B: the count continues on B, one result lists both nodes and the checkpoint', async () => {
    const queue = queueName();
    const a = await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    try {
      const job = await q.add('count', { command: counter(40) });
      await waitForCount(q, job.id!, 5);
      const b = await node('B', queue);
      const { stdout } = await run(process.execPath, [MAIN, 'job', 'migrate', job.id!, '--to', 'B', '--redis', cluster.redis.url, '--queue', queue, '--json']);
      const moved = JSON.parse(stdout) as { from: string; to: string; seq: number; path: string };
      expect(moved).toMatchObject({ from: 'A', to: 'B' });
      expect(moved.seq).toBeGreaterThan(0);
      const result = (await job.waitUntilFinished(events, 60_000)) as JobResult;
      expect(result.reason).toBe('exited');
      expect(result.exitStatus).toBe(0);
      expect(result.nodeId).toBe('B');
      expect(result.nodes).toEqual(['A', 'B']);
      expect(result.checkpoints.map((c) => [c.seq, c.nodeId])).toEqual([[moved.seq, 'A']]);
      // B's own output continues the count: it starts past 0 and ends at 39.
      const onB = counts(result.stdout);
      expect(onB[0]).toBeGreaterThan(4);
      expect(onB.at(-1)).toBe(39);
      // The job's log holds every count exactly once, in order: no restart.
      expect(counts((await jobLog(q, job.id!)).join('\n'))).toEqual([...Array(40).keys()]);
      const fresh = await q.getJob(job.id!);
      expect(fresh!.attemptsMade).toBe(1); // BullMQ counts the one completed attempt; the move did not add one
      expect(result.attempt).toBe(0);
      expect(await settledTasks(() => leftoverTasks(a.dir))).toEqual([]);
      expect(await settledTasks(() => leftoverTasks(b.dir))).toEqual([]);
    } finally {
      await close();
    }
  }, 120_000);

  it('the typed client migrates too (any node); a job that is not running, or a move to its own node, gives a clear error', async () => {
    const queue = queueName();
    await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    const client = await StasisClient.connect({ redis: cluster.redis.url, queue });
    try {
      const job = await q.add('count', { command: counter(25) });
      await waitForCount(q, job.id!, 3);
      // To the node it runs on: refused at once, and the job runs on undisturbed.
      await expect(client.migrate(job.id!, { to: 'A' })).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION', message: expect.stringContaining('already runs on node A') });
      const moved = await client.migrate(job.id!);
      expect(moved.from).toBe('A');
      expect(moved.to).toBeNull();
      const result = (await job.waitUntilFinished(events, 60_000)) as JobResult;
      expect(result.nodes, (await jobLog(q, job.id!)).filter((l) => l.startsWith('[stasis]')).join('\n')).toEqual(['A', 'A']);
      expect(counts((await jobLog(q, job.id!)).join('\n'))).toEqual([...Array(25).keys()]);
      await expect(client.migrate(job.id!)).rejects.toMatchObject({ code: 'ERR_FAILED_PRECONDITION' });
    } finally {
      await client.close();
      await close();
    }
  }, 120_000);

  it('a failed checkpoint (the cluster.store is unusable) does not kill the job: periodic failures go to job.log, migrate answers the error', async () => {
    const queue = queueName();
    await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    const client = await StasisClient.connect({ redis: cluster.redis.url, queue });
    try {
      // Where the job's checkpoints would go is a file: every allocate fails.
      fs.mkdirSync(path.join(cluster.store, 'default'), { recursive: true });
      fs.writeFileSync(path.join(cluster.store, 'default', `${queue}:1`), 'not a directory');
      const job = await q.add('blocked', { command: counter(25), checkpoint: { everySeconds: 1 } });
      expect(job.id).toBe('1');
      await waitForCount(q, job.id!, 8);
      await expect(client.migrate(job.id!)).rejects.toThrow(/checkpoint/i);
      const r = (await job.waitUntilFinished(events, 60_000)) as JobResult;
      expect(r.reason).toBe('exited');
      expect(r.exitStatus).toBe(0);
      expect(r.nodes).toEqual(['A']);
      expect(r.checkpoints).toEqual([]);
      const log = await jobLog(q, job.id!);
      expect(log.some((l) => l.startsWith('[stasis] periodic checkpoint failed (the job keeps running):'))).toBe(true);
      expect(counts(log.join('\n'))).toEqual([...Array(25).keys()]);
    } finally {
      await client.close();
      await close();
    }
  }, 120_000);
});
