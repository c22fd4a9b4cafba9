/**
 * Draining a runner node (SIGTERM to `stasis serve` with a checkpoint store): stop taking jobs,
 * checkpoint every running job whose policy allows it and hand it back to the queue (other nodes
 * resume it), requeue the 'requeue' ones to start over, wait for the 'wait' ones, then exit. A
 * second signal or the drain timeout falls back to killing what is left: no result is posted, the
 * jobs go straight back to the queue (resuming from a periodic checkpoint if they have one).
 */
import type { JobConsumer } from '../queue/consumer.js';

/** What a drain did with each job. */
export interface DrainReport {
  checkpointed: string[];
  requeued: string[];
  waited: string[];
  /** Jobs whose checkpoint failed (they were waited for, or killed at the timeout). */
  failed: { jobId: string; error: string }[];
  /** Jobs killed at the timeout or on a second signal. */
  killed: string[];
}

/** Handle on a drain in progress. */
export interface Drain {
  report: DrainReport;
  /** Resolves once every job left the node (or was killed). */
  done: Promise<DrainReport>;
  /** Kills whatever is still running (second signal); `done` then resolves soon. */
  kill(): void;
}

/**
 * Starts draining `consumer`: pauses it (no new jobs), then preempts/requeues/waits per job policy.
 * `close()` is the node's graceful close (waits for processors); it runs once the jobs were handed off.
 */
export function drainNode(consumer: JobConsumer, o: { timeoutMs: number; onError?: (e: unknown) => void }): Drain {
  const report: DrainReport = { checkpointed: [], requeued: [], waited: [], failed: [], killed: [] };
  let killed = false;
  const kill = () => {
    if (killed) return;
    killed = true;
    for (const id of consumer.activeJobs()) {
      report.killed.push(id);
      consumer.attempt(id)?.abandon();
    }
  };
  const done = (async () => {
    consumer.draining = true;
    // The kill comes a little before the timeout, so what it hands back is done by then.
    const timer = setTimeout(kill, Math.max(o.timeoutMs - Math.min(5_000, o.timeoutMs / 4), 0));
    try {
      await consumer.worker.pause(true);
      await Promise.all(
        consumer.activeJobs().map(async (jobId) => {
          // A job being taken right now: wait (briefly) until its policy and task are known.
          for (let i = 0; i < 100 && !killed && !consumer.activeJob(jobId) && consumer.attempt(jobId); i++) {
            await new Promise((r) => setTimeout(r, 100));
          }
          const a = consumer.attempt(jobId);
          if (!a) return;
          const policy = a.drainPolicy;
          if (policy === 'requeue') {
            a.requeue();
            report.requeued.push(jobId);
          } else if (policy === 'checkpoint') {
            try {
              await consumer.preempt(jobId, { reason: 'drain', timeoutMs: o.timeoutMs });
              report.checkpointed.push(jobId);
            } catch (e) {
              report.failed.push({ jobId, error: e instanceof Error ? e.message : String(e) });
              o.onError?.(e);
            }
          } else {
            report.waited.push(jobId);
          }
        }),
      );
      // Wait for the processors of the remaining jobs (checkpointed ones return at once).
      while (consumer.activeJobs().length > 0) await new Promise((r) => setTimeout(r, 100));
    } finally {
      clearTimeout(timer);
    }
    return report;
  })();
  return { report, done, kill };
}
