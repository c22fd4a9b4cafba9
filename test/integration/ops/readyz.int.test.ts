import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useFaultCluster } from '../faults/harness.js';
import { producer, queueName } from '../queue/harness.js';
import { counter, waitForCount } from '../migration/nodes.js';
import { readyz, scrape, series, until } from './http.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'operations: /readyz', () => {
  const c = useFaultCluster();

  it('/readyz is 200 once the host checks passed, 503 naming Redis while Redis is down, and 200 again when it is back', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--http', '127.0.0.1:0'] });
    await until('ready', async () => ((await readyz(a.n)).status === 200 ? true : undefined));
    expect((await readyz(a.n)).body).toMatchObject({ ready: true, reasons: [] });

    await c.redis.down();
    const down = await until('unready', async () => {
      const r = await readyz(a.n);
      return r.status === 503 ? r : undefined;
    });
    expect(down.body.ready).toBe(false);
    expect(down.body.reasons).toEqual(['Redis is unreachable']);
    // A scrape does not wait for the Redis that is away: the node's own series still come, BullMQ's do not.
    const t = await scrape(a.n);
    expect(series(t, 'stasis_redis_up')).toBe(0);
    expect(series(t, 'stasis_node_ready')).toBe(0);
    expect(series(t, 'bullmq_job_count')).toBeUndefined();

    await c.redis.up();
    await until('ready again', async () => ((await readyz(a.n)).status === 200 ? true : undefined));
    // The outage is one line when it began and one when it ended, however many clients saw it.
    expect(a.n.stderr().split('\n').filter((l) => l.includes('"event":"redis-unreachable"'))).toHaveLength(1);
    expect(a.n.stderr().split('\n').filter((l) => l.includes('"event":"redis-reachable"'))).toHaveLength(1);
  }, 120_000);

  it('/readyz is 503 from the first SIGTERM while the node drains, until it exits', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--http', '127.0.0.1:0'] });
    const p = await producer(c.redis, queue);
    try {
      await until('ready', async () => ((await readyz(a.n)).status === 200 ? true : undefined));
      // onDrain 'wait': the drain waits for the job, so the node stays draining for its last seconds.
      const job = await p.queue.add('wait', { command: counter(25), checkpoint: { onDrain: 'wait' } });
      await waitForCount(p.queue, job.id!, 2);
      a.n.child.kill('SIGTERM');
      const r = await until('unready', async () => {
        const x = await readyz(a.n);
        return x.status === 503 ? x : undefined;
      });
      expect(r.body.reasons).toEqual(['the node is draining']);
      expect(await a.n.exited).toBe(0);
      expect(a.n.stderr()).toContain('"event":"drained"');
      expect(a.n.stderr()).toMatch(/"waited":\["\d+"\]/);
    } finally {
      await p.close();
    }
  }, 120_000);
});
