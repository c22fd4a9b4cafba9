/** Tasks a restarted node finds of its own: attached to (not started anew) when their jobs come back to it. */
import type { JobLimits, JobTaskSource } from './pipeline/task-source.js';

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
