/**
 * BullMQ's own series of the queue (`Queue.exportPrometheusMetrics`: bullmq_job_count by state, and
 * the completed/failed totals the workers record), fetched from Redis once per scrape. A scrape
 * never waits for a Redis that is away: it is skipped while the node sees an outage, and cut short
 * after `timeoutMs`; the series are then absent from that scrape.
 */
import type { Queue } from 'bullmq';

/** BullMQ's series of `queue`, or null when Redis did not answer (unreachable, or too slow). */
export async function queueMetricsText(queue: Pick<Queue, 'exportPrometheusMetrics'>, o: { reachable: boolean; timeoutMs: number }): Promise<string | null> {
  if (!o.reachable) return null;
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<null>((resolve) => {
    timer = setTimeout(() => resolve(null), o.timeoutMs);
    timer.unref();
  });
  try {
    return await Promise.race([queue.exportPrometheusMetrics(), late]);
  } finally {
    clearTimeout(timer);
  }
}
