/**
 * Stopped tasks whose results are not posted yet, by job id. A task is deleted only once BullMQ
 * moved its job (completed or failed), so a node that dies between the exit and the post finds the
 * task after its restart and posts then, instead of running the job again.
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import { failpoint } from '../os/failpoint.js';
import type { QueueRef } from './cancel.js';
import { lockHolder } from './bullmq-keys.js';

/** One stopped task waiting for its job's post: the lock token it will be posted under, and how to let it go. */
interface Waiting {
  token: string;
  release: () => void;
}

/** The node's unposted tasks. */
export class UnpostedTasks {
  private readonly byJob = new Map<string, Waiting[]>();

  /** Keeps a task until `jobId` is posted (under `token`). */
  hold(jobId: string, token: string, release: () => void): void {
    this.byJob.set(jobId, [...(this.byJob.get(jobId) ?? []), { token, release }]);
  }

  /** The job's result is posted (BullMQ moved it): its stopped tasks may go. */
  posted(jobId: string): void {
    failpoint('post:after');
    const waiting = this.byJob.get(jobId);
    this.byJob.delete(jobId);
    for (const w of waiting ?? []) w.release();
  }

  /**
   * Lets go of tasks whose post can no longer come from this node (the lock went elsewhere while it
   * tried): not when the job is taken again here (`here`), nor while the lock is ours or merely lapsed.
   */
  async sweep(redis: Redis, ref: QueueRef, queue: { getJob(id: string): Promise<Job | undefined> }, here: (jobId: string) => boolean): Promise<void> {
    for (const [jobId, waiting] of [...this.byJob]) {
      if (here(jobId)) continue; // taken again here: its new attempt attaches to the task
      const holder = await lockHolder(redis, ref, jobId);
      if (waiting.some((w) => w.token === holder)) continue;
      const job = await queue.getJob(jobId);
      if (job && (await job.getState()) === 'active' && holder === null) continue; // a lapse: BullMQ retries the post
      this.posted(jobId);
    }
  }
}
