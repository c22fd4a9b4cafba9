/**
 * The attempts a node holds, by job id, and what keeps their locks honest: each attempt's own lock
 * renewal (besides BullMQ's), what to do when BullMQ could not renew one, and the sweep of detached
 * attempts whose jobs went elsewhere. Attempts outside BullMQ's processors count against the node's
 * concurrency (`onChange` rebalances it).
 */
import type { Job } from 'bullmq';
import type { Redis } from 'ioredis';
import type { JobAttempt } from './attempt.js';
import { lockHolder } from './bullmq-keys.js';
import type { QueueRef } from './cancel.js';
import { FencedError } from './pipeline/fenced.js';

/** The node's attempts. */
export class Attempts {
  private readonly byJob = new Map<string, JobAttempt>();

  constructor(
    private readonly redis: Redis,
    private readonly ref: QueueRef,
    /** Called after an attempt is added or removed (concurrency balance). */
    private readonly onChange: () => void,
    /** A lock that could not be checked for a reason other than an outage (the watch says that once). */
    private readonly onError: (e: unknown) => void = () => undefined,
  ) {}

  /** The attempt of `jobId`, if this node holds one. */
  get(jobId: string): JobAttempt | undefined {
    return this.byJob.get(jobId);
  }

  /** True when this node holds an attempt of `jobId`. */
  has(jobId: string): boolean {
    return this.byJob.has(jobId);
  }

  /** Job ids held here. */
  ids(): string[] {
    return [...this.byJob.keys()];
  }

  /** How many attempts run outside BullMQ's processors (adopted, detached). */
  outsideProcessors(): number {
    let n = 0;
    for (const a of this.byJob.values()) if (a.owner !== 'processor') n++;
    return n;
  }

  /** Registers an attempt (replacing an older one of the same job). */
  add(a: JobAttempt): void {
    this.byJob.set(a.jobId, a);
    this.onChange();
  }

  /** Forgets `a` if it is still the job's attempt. */
  remove(a: JobAttempt): void {
    if (this.byJob.get(a.jobId) === a) this.byJob.delete(a.jobId);
    this.onChange();
  }

  /**
   * Renews the attempt's lock besides BullMQ (which may have untracked a job this worker re-took
   * while its previous take was finishing): a lock another node holds stops the task; a job that
   * left the active list (Redis was away) detaches the attempt until it is given back.
   */
  keepLock(a: JobAttempt): void {
    a.keeping?.();
    a.keeping = a.lock.keep((s) => {
      if (s === 'taken') a.stop('lock-lost');
      else if (a.owner !== 'detached') void a.detach();
    });
  }

  /** BullMQ could not renew these locks: take each back, or stop the copy another node holds, or detach. */
  async lockInDoubt(ids: string[]): Promise<void> {
    for (const id of ids) {
      const a = this.byJob.get(id);
      if (!a) continue;
      const state = await a.lock.reacquire().catch((e: unknown) => {
        this.onError(e);
        return 'unknown' as const;
      });
      if (state === 'taken') a.stop('lock-lost');
      else if (state === 'gone' && a.owner !== 'detached') void a.detach();
    }
  }

  /**
   * Detached attempts (their jobs went back to the queue while Redis was away) whose jobs ended
   * elsewhere or run on another node now: stopped (if running) and given up; nothing is posted.
   */
  async sweepDetached(queue: { getJob(id: string): Promise<Job | undefined> }): Promise<string[]> {
    const dropped: string[] = [];
    for (const a of [...this.byJob.values()]) {
      if (a.owner !== 'detached') continue;
      const job = await queue.getJob(a.jobId);
      const state = job ? await job.getState() : 'unknown';
      const elsewhere = state === 'active' && (await lockHolder(this.redis, this.ref, a.jobId)) !== a.token;
      if (state !== 'completed' && state !== 'failed' && state !== 'unknown' && !elsewhere) continue;
      a.stop('lock-lost');
      a.giveUp(new FencedError(`job ${a.jobId} is ${elsewhere ? "another node's" : state} now; nothing is posted from this node`));
      dropped.push(a.jobId);
    }
    return dropped;
  }
}
