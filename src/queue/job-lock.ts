/**
 * A job's BullMQ lock as one attempt holds it: the token, renewal for attempts BullMQ does not track
 * (a job adopted after a restart or handed over by another node), and taking it back after a Redis
 * outage let it expire (bullmq-keys.ts). The fencing rule (docs/queue.md): only the holder of the
 * lock posts a result; a node that finds another token on the lock stops its copy.
 */
import type { Redis } from 'ioredis';
import type { QueueRef } from './cancel.js';
import { reacquireLock, type LockState } from './bullmq-keys.js';

/** The lock of one job attempt. */
export class JobLock {
  constructor(
    private readonly redis: Redis,
    private readonly q: QueueRef,
    readonly jobId: string,
    public token: string,
    readonly durationMs: number,
  ) {}

  /** Renews (or takes back) the lock; see reacquireLock. A Redis that does not answer throws. */
  reacquire(): Promise<LockState> {
    return reacquireLock(this.redis, this.q, this.jobId, this.token, this.durationMs);
  }

  /**
   * Renews the lock every third of its duration until the returned function is called. `onLost` runs
   * once when the lock is another node's or the job left the active list. A renewal that fails because
   * Redis is away is tried again at the next tick (the lock is taken back if it expired meanwhile).
   */
  keep(onLost: (state: Exclude<LockState, 'ours'>) => void): () => void {
    let lost = false;
    const t = setInterval(() => {
      if (lost) return;
      this.reacquire().then(
        (s) => {
          if (s !== 'ours' && !lost) {
            lost = true;
            onLost(s);
          }
        },
        () => undefined, // Redis unreachable: the next tick tries again
      );
    }, Math.max(500, Math.floor(this.durationMs / 3)));
    return () => clearInterval(t);
  }
}
