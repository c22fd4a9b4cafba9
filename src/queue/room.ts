/**
 * A node's room for tasks: jobs it runs outside BullMQ's processors (re-attached after a restart,
 * handed over by another node) count against its concurrency. The worker's own concurrency is
 * lowered to what is left, but a BullMQ worker always takes at least one job: with as many jobs
 * outside as the concurrency, that one waits here before it claims its job or starts a task.
 */
import type { JobAttempt } from './attempt.js';

/** How often an attempt waiting for room looks again without being woken (a stop does not wake it). */
const RECHECK_MS = 250;

/** The concurrency balance of one consumer. */
export class NodeRoom {
  private readonly waiters = new Set<() => void>();

  constructor(
    private readonly concurrency: number,
    /** Attempts running outside the processors now. */
    private readonly outside: () => number,
    /** Sets the worker's concurrency. */
    private readonly setWorkerConcurrency: (n: number) => void,
  ) {}

  /** After an attempt came or went: the worker takes what is left, and waiting attempts look again. */
  balance(): void {
    this.setWorkerConcurrency(Math.max(1, this.concurrency - this.outside()));
    for (const wake of [...this.waiters]) wake();
  }

  /** Resolves once a processor's attempt `a` has room, or `a` was stopped (cancel, shutdown). */
  async waitFor(a: JobAttempt): Promise<void> {
    while (a.owner === 'processor' && !a.stopReason && this.outside() >= this.concurrency) {
      await new Promise<void>((resolve) => {
        const wake = () => {
          this.waiters.delete(wake);
          clearTimeout(t);
          resolve();
        };
        const t = setTimeout(wake, RECHECK_MS);
        this.waiters.add(wake);
      });
    }
  }
}
