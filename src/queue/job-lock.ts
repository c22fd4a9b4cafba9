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
  private tokenNow: string;
  /** When the lock was last known set under `token` (performance.now(), taken before the request). */
  private confirmedAt: number | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly q: QueueRef,
    readonly jobId: string,
    token: string,
    readonly durationMs: number,
  ) {
    this.tokenNow = token;
  }

  /** The token the lock is held under; a new one is unconfirmed until set or renewed. */
  get token(): string {
    return this.tokenNow;
  }
  set token(t: string) {
    if (t !== this.tokenNow) this.confirmedAt = undefined;
    this.tokenNow = t;
  }

  /** Records that the lock was set under the current token at `at` (BullMQ just gave the job with it). */
  confirmed(at = performance.now()): void {
    this.confirmedAt = at;
  }

  /**
   * True while the lock is certainly still ours: set or renewed under this token less than a third of
   * its duration ago, so at least two thirds of its expiry remain and nobody else can have taken it.
   */
  fresh(now = performance.now()): boolean {
    return this.confirmedAt !== undefined && now - this.confirmedAt < this.durationMs / 3;
  }

  /** Renews (or takes back) the lock; see reacquireLock. A Redis that does not answer throws. */
  async reacquire(): Promise<LockState> {
    const token = this.tokenNow;
    const at = performance.now();
    const state = await reacquireLock(this.redis, this.q, this.jobId, token, this.durationMs);
    if (token === this.tokenNow) this.confirmedAt = state === 'ours' ? at : undefined;
    return state;
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
