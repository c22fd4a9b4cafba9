/**
 * Cross-process cancellation of stasis jobs. BullMQ's own `worker.cancelJob(id)` only reaches the
 * worker object in the same process, so a client elsewhere asks through Redis:
 *
 * - a key   `<prefix>:<queue>:stasis:cancel:<jobId>` = CancelRequest JSON (TTL 7 days), so a node that
 *   picks the job up LATER (it was still waiting/delayed, or is being retried) sees the request and
 *   finishes it at once with reason 'cancelled' without starting a container;
 * - a message on the pub/sub channel `<prefix>:<queue>:stasis:cancel` (CancelRequest JSON), so the
 *   node that is running the job right now stops its container (TERM, grace, KILL) and completes the
 *   job with reason 'cancelled'.
 *
 * Contract for the consumer (Q-core, src/queue/consumer.ts): subscribe with watchCancelRequests() on a
 * dedicated connection; for every request whose job it owns, cancel that task through the pool's
 * control port (and/or `worker.cancelJob(jobId)`); before starting a job, check readCancelRequest()
 * and skip the run if one exists. The result envelope of a cancelled job has reason 'cancelled'.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';

/** Default BullMQ key prefix. */
export const DEFAULT_PREFIX = 'bull';
/** How long a cancel request is kept for nodes that have not picked the job up yet. */
export const CANCEL_TTL_SECONDS = 7 * 24 * 3600;

/** A cancel request as stored in the key and published on the channel. */
export const CancelRequestSchema = z.object({
  jobId: z.string().min(1),
  reason: z.string(),
  requestedAt: z.string(),
});
/** A cancel request as stored in the key and published on the channel. */
export type CancelRequest = z.infer<typeof CancelRequestSchema>;

/** Where a queue lives in Redis. */
export interface QueueRef {
  queue: string;
  prefix?: string;
}

/** The pub/sub channel of cancel requests of a queue. */
export function cancelChannel(q: QueueRef): string {
  return `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}:stasis:cancel`;
}

/** The key that records a cancel request for one job. */
export function cancelKey(q: QueueRef, jobId: string): string {
  return `${cancelChannel(q)}:${jobId}`;
}

/** Parses a channel message or key value; null when it is not a cancel request. */
export function parseCancelRequest(raw: string | null): CancelRequest | null {
  if (raw === null) return null;
  try {
    const r = CancelRequestSchema.safeParse(JSON.parse(raw));
    return r.success ? r.data : null;
  } catch {
    return null;
  }
}

/** Records a cancel request (key) and announces it (channel). Resolves to the number of listeners reached. */
export async function requestCancel(redis: Redis, q: QueueRef, jobId: string, reason = 'cancelled by client'): Promise<number> {
  const req: CancelRequest = { jobId, reason, requestedAt: new Date().toISOString() };
  const json = JSON.stringify(req);
  await redis.set(cancelKey(q, jobId), json, 'EX', CANCEL_TTL_SECONDS);
  return redis.publish(cancelChannel(q), json);
}

/** The pending cancel request of a job, or null. */
export async function readCancelRequest(redis: Redis, q: QueueRef, jobId: string): Promise<CancelRequest | null> {
  return parseCancelRequest(await redis.get(cancelKey(q, jobId)));
}

/** Removes a job's cancel request (after it was honoured, or to resubmit under the same id). */
export async function clearCancelRequest(redis: Redis, q: QueueRef, jobId: string): Promise<void> {
  await redis.del(cancelKey(q, jobId));
}

/**
 * Subscribes `subscriber` (a dedicated connection: it enters subscriber mode) to the queue's cancel
 * channel and calls `onCancel` for each request. Resolves once subscribed, to an unsubscribe function.
 */
export async function watchCancelRequests(
  subscriber: Redis,
  q: QueueRef,
  onCancel: (req: CancelRequest) => void,
): Promise<() => Promise<void>> {
  const channel = cancelChannel(q);
  const listener = (ch: string, message: string) => {
    if (ch !== channel) return;
    const req = parseCancelRequest(message);
    if (req) onCancel(req);
  };
  subscriber.on('message', listener);
  await subscriber.subscribe(channel);
  return async () => {
    subscriber.off('message', listener);
    await subscriber.unsubscribe(channel).catch(() => undefined);
  };
}
