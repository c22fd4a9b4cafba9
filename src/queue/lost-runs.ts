/**
 * Runs of a job whose monitor died without recording an exit (`lost`): the node went down with its
 * containers (a runner in a container takes its monitors with it) or something killed the monitor.
 * Such an end is not the job's own, so the job goes back to the queue, like a stall, up to the node's
 * maxStalledCount times; after that its `lost` result is posted. Counted in
 *   <prefix>:<queue>:stasis:lost:<jobId>  (an integer, TTL 7 days, deleted with the job's lineage)
 */
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, type QueueRef } from './cancel.js';

const TTL_SECONDS = 7 * 24 * 3600;

/** The key of a job's lost-run count. */
export function lostRunsKey(q: QueueRef, jobId: string): string {
  return `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}:stasis:lost:${jobId}`;
}

/** Counts one more lost run of the job; resolves to the count so far. */
export async function countLostRun(redis: Redis, q: QueueRef, jobId: string): Promise<number> {
  const key = lostRunsKey(q, jobId);
  const [[, n]] = (await redis.multi().incr(key).expire(key, TTL_SECONDS).exec()) as [[unknown, number], unknown];
  return n;
}
