/**
 * Cancel requests as a node hears them (cancel.ts publishes them): a job running here is stopped at
 * once; a request for a job not registered here yet is kept for a minute, for the job being taken
 * right now.
 */
import type { Redis } from 'ioredis';
import { watchCancelRequests, type QueueRef } from './cancel.js';

/** How long a request for a job this node does not run yet is remembered. */
const HEARD_TTL_MS = 60_000;

/** The node's cancel listener. */
export class CancelListener {
  private readonly heard = new Map<string, number>();
  private unwatch: (() => Promise<void>) | null = null;

  /** Subscribes; `stop(jobId)` stops the job if it runs here (true) or says it does not (false). */
  async start(subscriber: Redis, ref: QueueRef, stop: (jobId: string) => boolean): Promise<void> {
    this.unwatch = await watchCancelRequests(subscriber, ref, (req) => {
      if (stop(req.jobId)) return;
      const now = Date.now();
      for (const [id, at] of this.heard) if (now - at > HEARD_TTL_MS) this.heard.delete(id);
      this.heard.set(req.jobId, now);
    });
  }

  /** True, once, when a cancel for `jobId` was heard before the job registered here. */
  take(jobId: string): boolean {
    return this.heard.delete(jobId);
  }

  /** Unsubscribes (Redis may be gone already: then there is nothing to unsubscribe from). */
  async close(): Promise<void> {
    await this.unwatch?.().catch(() => undefined);
  }
}
