/**
 * Redis outages: a quick restart, and an outage longer than the job locks. Containers keep running
 * through both; a job that finished during the outage posts its real result once Redis is back; no
 * job runs twice; the outage is logged once, not once per retry; SIGTERM ends serve with Redis away.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { producer, queueName } from '../queue/harness.js';
import { counter, counts, waitForCount } from '../migration/nodes.js';
import { completions, expectCleanNode, useFaultCluster } from './harness.js';

const range = (n: number) => [...Array(n).keys()];

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'faults: Redis outages', () => {
  const c = useFaultCluster();

  it('a Redis restart: running jobs carry on and post once', async () => {
    const queue = queueName();
    const a = await c.node('A', queue);
    const p = await producer(c.redis, queue);
    try {
      const jobs = await Promise.all([0, 1, 2].map((i) => p.queue.add(`j${i}`, { command: counter(20) })));
      for (const j of jobs) await waitForCount(p.queue, j.id!, 2);
      await c.redis.down();
      await sleep(1000);
      await c.redis.up();
      for (const j of jobs) {
        const r = (await j.waitUntilFinished(p.events, 60_000)) as JobResult;
        expect(r).toMatchObject({ reason: 'exited', exitStatus: 0, attempt: 0 });
        expect(counts(r.stdout)).toEqual(range(20));
        expect(await completions(c.redis, queue, j.id!)).toBe(1);
      }
      expect(await expectCleanNode(a.n, a.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 90_000);

  it('Redis down longer than the locks: nothing is killed, a job that finished meanwhile posts its real result, none runs twice', async () => {
    const queue = queueName();
    const a = await c.node('A', queue); // lock 3 s, stalled check 1 s
    const p = await producer(c.redis, queue);
    try {
      const short = await p.queue.add('short', { command: counter(15) }); // ends during the outage
      const long = await p.queue.add('long', { command: counter(60) }); // runs through it
      await waitForCount(p.queue, short.id!, 2);
      await waitForCount(p.queue, long.id!, 2);
      const downAt = Date.now();
      await c.redis.down();
      await sleep(8000);
      const upAt = Date.now();
      await c.redis.up();
      const rs = (await short.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(rs).toMatchObject({ reason: 'exited', exitStatus: 0, attempt: 0 });
      expect(counts(rs.stdout)).toEqual(range(15));
      expect(Date.parse(rs.exitedAt!)).toBeGreaterThan(downAt);
      expect(Date.parse(rs.exitedAt!)).toBeLessThan(upAt); // its real ExitedAt, not when Redis came back
      const rl = (await long.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(rl).toMatchObject({ reason: 'exited', exitStatus: 0, attempt: 0 });
      expect(counts(rl.stdout)).toEqual(range(60)); // the same container: never restarted
      expect(Date.parse(rl.startedAt!)).toBeLessThan(downAt);
      for (const j of [short, long]) expect(await completions(c.redis, queue, j.id!)).toBe(1);
      // One line per outage and connection, not one per retry.
      const lines = a.n.stderr().split('\n').filter((l) => /unreachable|ECONNREFUSED|ENOENT/.test(l));
      expect(lines.length).toBeLessThanOrEqual(6);
      expect(a.n.stderr()).not.toContain('Unhandled error event');
      expect(await expectCleanNode(a.n, a.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 120_000);

  it('SIGTERM ends serve within its drain timeout while Redis is away; the next start finishes the job once', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--drain-timeout', '4s'] });
    const p = await producer(c.redis, queue);
    try {
      const job = await p.queue.add('through', { command: counter(50) });
      await waitForCount(p.queue, job.id!, 2);
      await c.redis.down();
      await sleep(500);
      const t0 = Date.now();
      a.n.child.kill('SIGTERM');
      const code = await Promise.race([a.n.exited, sleep(20_000).then(() => 'hung' as const)]);
      expect(code).not.toBe('hung');
      expect(Date.now() - t0).toBeLessThan(15_000);
      await c.redis.up();
      const again = await c.node('A', queue, { dir: a.dir });
      const r = (await job.waitUntilFinished(p.events, 90_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0 });
      expect(counts(r.stdout)).toEqual(range(50)); // left running and re-attached: never started over
      expect(a.n.stderr()).toContain('leaving 1 job(s) running');
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 120_000);
});
