import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { useFaultCluster } from '../faults/harness.js';
import { producer, queueName } from '../queue/harness.js';
import { counter, waitForCount } from '../migration/nodes.js';
import type { JobResult } from '../../../src/queue/result.js';
import { baseUrl, get, scrape, series, until } from './http.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'operations: /metrics and /healthz', () => {
  const c = useFaultCluster();

  it("/metrics scraped during a job shows it taken and running, and after it its counters and BullMQ's own counts moved", async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--http', '127.0.0.1:0'] });
    const p = await producer(c.redis, queue);
    try {
      expect((await get(`${baseUrl(a.n)}/healthz`)).status).toBe(200);
      const before = await scrape(a.n);
      expect(series(before, 'stasis_jobs_finished_total')).toBeUndefined();
      expect(series(before, 'stasis_redis_up', { node: 'A', queue })).toBe(1);

      const job = await p.queue.add('count', { command: counter(10), namespace: 'team-a' });
      await waitForCount(p.queue, job.id!, 1);
      const during = await scrape(a.n);
      expect(series(during, 'stasis_jobs_taken_total', { namespace: 'team-a', adopted: 'false' })).toBe(1);
      expect(series(during, 'stasis_tasks_running')).toBe(1);
      expect(series(during, 'stasis_job_queue_wait_seconds_count', { namespace: 'team-a' })).toBe(1);
      expect(series(during, 'stasis_job_start_latency_seconds_count', { namespace: 'team-a', restored: 'false' })).toBe(1);
      expect(series(during, 'bullmq_job_count', { queue, state: 'active' })).toBe(1);
      expect(series(during, 'stasis_jobs_finished_total')).toBeUndefined();

      const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(r.reason).toBe('exited');
      // BullMQ emits `completed` after its move; the node counts on its own `completed` event.
      const after = await until('the finished counter', async () => {
        const t = await scrape(a.n);
        return series(t, 'stasis_jobs_finished_total', { namespace: 'team-a', reason: 'exited', state: 'completed' }) === 1 ? t : undefined;
      });
      expect(series(after, 'stasis_tasks_running')).toBe(0);
      expect(series(after, 'stasis_job_run_seconds_count', { namespace: 'team-a', reason: 'exited' })).toBe(1);
      expect(series(after, 'stasis_job_run_seconds_sum', { namespace: 'team-a', reason: 'exited' })).toBeGreaterThan(1);
      expect(series(after, 'bullmq_job_count', { queue, state: 'completed' })).toBe(1);
      expect(series(after, 'bullmq_job_completed_total', { queue })).toBe(1);
      expect(series(after, 'process_resident_memory_bytes')).toBeGreaterThan(0);

      // A second job with a periodic checkpoint: its checkpoints are timed and sized.
      const ck = await p.queue.add('ck', { command: counter(12), checkpoint: { everySeconds: 1 } });
      await ck.waitUntilFinished(p.events, 60_000);
      const t = await scrape(a.n);
      expect(series(t, 'stasis_checkpoint_duration_seconds_count', { reason: 'periodic' })).toBeGreaterThanOrEqual(1);
      expect(series(t, 'stasis_checkpoint_size_bytes_sum', { reason: 'periodic' })).toBeGreaterThan(0);
    } finally {
      await p.close();
    }
  }, 120_000);
});
