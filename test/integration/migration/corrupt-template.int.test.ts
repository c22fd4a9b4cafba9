import fs from 'node:fs';
import path from 'node:path';
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { StasisClient } from '../../../src/queue/client.js';
import { leftoverTasks, producer, queueName } from '../queue/harness.js';
import { useCluster, settledTasks, counter, counts, jobLog, waitForCount } from './nodes.js';

/** Flips bytes in the middle of the biggest CRIU image file of a checkpoint. */
function corrupt(ckPath: string): string {
  const dir = path.join(ckPath, 'criu');
  const biggest = fs
    .readdirSync(dir)
    .map((f) => ({ f, size: fs.statSync(path.join(dir, f)).size }))
    .sort((x, y) => y.size - x.size)[0]!;
  const p = path.join(dir, biggest.f);
  const fd = fs.openSync(p, 'r+');
  fs.writeSync(fd, Buffer.from('tampered'), 0, 8, Math.floor(biggest.size / 2));
  fs.closeSync(fd);
  return `criu/${biggest.f}`;
}

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'migration: corrupt checkpoints and template restores', () => {
  const cluster = useCluster();
  const node = cluster.node;

  it('a tampered checkpoint is refused with a clear error: the job fails (default) or starts over (onCorrupt: restart)', async () => {
    const queue = queueName();
    const a = await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    const client = await StasisClient.connect({ redis: cluster.redis.url, queue });
    try {
      const failing = await q.add('strict', { command: counter(100) });
      const restarting = await q.add('lenient', { command: counter(20), checkpoint: { onCorrupt: 'restart' } });
      for (const j of [failing, restarting]) await waitForCount(q, j.id!, 3);
      // Reserve both for B, which is not up yet: A hands them back until B comes.
      const moved = [await client.migrate(failing.id!, { to: 'B' }), await client.migrate(restarting.id!, { to: 'B' })];
      const files = moved.map((m) => corrupt(m.path));
      const b = await node('B', queue);
      await expect(failing.waitUntilFinished(events, 60_000)).rejects.toThrow(/ERR_CHECKPOINT: refusing to restore checkpoint .*does not match its digest in the manifest \(tampered or corrupt\)/);
      const failed = await q.getJob(failing.id!);
      expect(failed!.failedReason).toContain(files[0]);
      expect(failed!.attemptsMade).toBe(1);
      const r = (await restarting.waitUntilFinished(events, 60_000)) as JobResult;
      expect(r.reason).toBe('exited');
      expect(r.nodes).toEqual(['A', 'B']);
      // It started over on B: B's output begins at count 0.
      expect(counts(r.stdout)).toEqual([...Array(20).keys()]);
      expect((await jobLog(q, restarting.id!)).join('\n')).toMatch(/does not match its digest.*starting the job over/);
      expect(await settledTasks(() => leftoverTasks(a.dir))).toEqual([]);
      expect(await settledTasks(() => leftoverTasks(b.dir))).toEqual([]);
    } finally {
      await client.close();
      await close();
    }
  }, 150_000);

  it('a template checkpoint seeds two new jobs, each restored under its own id and overlay', async () => {
    const queue = queueName();
    const a = await node('A', queue);
    const { queue: q, events, close } = await producer(cluster.redis, queue);
    const client = await StasisClient.connect({ redis: cluster.redis.url, queue });
    try {
      // The template: a job that wrote a file into its rootfs, then counts; checkpointed by a migration.
      const tpl = await q.add('template', { command: ['sh', '-c', 'echo warm > /warm; i=0; while [ $i -lt 15 ]; do echo count $i; i=$((i+1)); sleep 0.2; done'] });
      await waitForCount(q, tpl.id!, 4);
      const moved = await client.migrate(tpl.id!);
      await tpl.waitUntilFinished(events, 60_000);
      const seeded = await Promise.all([
        q.add('warm1', { command: ['true'], restoreFrom: { jobId: tpl.id!, seq: moved.seq } }),
        q.add('warm2', { command: ['true'], restoreFrom: { path: moved.path } }),
      ]);
      for (const j of seeded) {
        const r = (await j.waitUntilFinished(events, 60_000)) as JobResult;
        expect(r.reason).toBe('exited');
        expect(r.exitStatus).toBe(0);
        expect(r.taskId).toBe(`${j.id}-0`);
        expect(r.nodes).toEqual(['A']);
        const c = counts(r.stdout);
        expect(c[0]).toBeGreaterThan(3); // restored mid-count, not started from the command
        expect(c.at(-1)).toBe(14);
      }
      expect(await settledTasks(() => leftoverTasks(a.dir))).toEqual([]);
    } finally {
      await client.close();
      await close();
    }
  }, 150_000);
});
