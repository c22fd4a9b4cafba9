/**
 * Tasks a restarted node finds of its own, and the job lock it must keep renewing for a job it
 * re-took itself: the two things a consumer needs to pick a job up again without running it twice.
 */
import type { Job } from 'bullmq';
import type { JobLimits, JobTaskSource } from './job-run.js';

/** A task left by a previous run of this node, to attach to when its job comes back to us. */
export interface OrphanTask {
  jobId: string;
  taskId: string;
  namespace: string;
  startedAt?: string;
  /** Its kill grace, output cap and deadlines (from its annotations). */
  limits: JobLimits;
  /** The lineage hop the task belongs to (io.stasis.job.hop); a newer hop makes it stale. */
  hop?: number;
}

/** The task source that attaches to an orphan instead of starting a new container. */
export function attachToOrphan(o: OrphanTask): JobTaskSource {
  return {
    kind: 'attach',
    taskId: o.taskId,
    namespace: o.namespace,
    ...(o.startedAt ? { startedAt: o.startedAt } : {}),
    limits: o.limits,
  };
}

/**
 * Renews `job`'s lock every third of the lock duration until the returned function is called;
 * `onLost` runs when a renewal reports the lock gone. Needed for a job this worker re-took while
 * BullMQ was still finishing its previous take: BullMQ then stops renewing the new take's lock.
 */
export function keepLock(job: Job, token: string, lockDurationMs: number, onLost: () => void): () => void {
  const t = setInterval(() => {
    job.extendLock(token, lockDurationMs).then(
      (ok) => {
        if (ok !== 1) onLost();
      },
      () => undefined,
    );
  }, Math.max(500, Math.floor(lockDurationMs / 3)));
  return () => clearInterval(t);
}
