/**
 * The node's Prometheus series: names, help, labels and buckets in one table, and the cap on the
 * `namespace` label (namespaces come from producers, so their number is not the operator's to
 * bound: past the cap they are counted under `_other`). Pure.
 */

/** Label of namespaces past the cap. */
export const OTHER_NAMESPACE = '_other';

/** Namespaces with their own label value, by default; later ones are `_other`. */
export const DEFAULT_MAX_NAMESPACES = 100;

const SECONDS_SHORT = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const SECONDS_WAIT = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600];
const SECONDS_RUN = [0.01, 0.05, 0.1, 0.5, 1, 5, 10, 30, 60, 300, 900, 3600, 4 * 3600, 24 * 3600];
const SECONDS_CHECKPOINT = [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300];
const BYTES_CHECKPOINT = [64, 256, 1024, 4096, 16384, 65536, 262144].map((k) => k * 1024);

/** A series of the node: its name, help, labels and (histograms) buckets. */
export interface SeriesSpec {
  name: string;
  help: string;
  labels: readonly string[];
  buckets?: readonly number[];
}

/** Every series NodeMetrics exports (besides prom-client's process_* and nodejs_* defaults). */
export const SERIES = {
  jobsTaken: { name: 'stasis_jobs_taken_total', help: 'Jobs this node took (from the queue, or adopted after a restart or a handover)', labels: ['namespace', 'adopted'] },
  jobsFinished: {
    name: 'stasis_jobs_finished_total',
    help: "Jobs this node posted a result for, by the envelope's reason (error: failed without one) and BullMQ state",
    labels: ['namespace', 'reason', 'state'],
  },
  jobsHandedBack: {
    name: 'stasis_jobs_handed_back_total',
    help: 'Jobs that left this node without a result: migrate/drain checkpoints, refused claims, drain requeues and kills, lost monitors',
    labels: ['reason'],
  },
  queueWait: { name: 'stasis_job_queue_wait_seconds', help: "Added (or its delay ended) → taken by this node, on a job's first take", labels: ['namespace'], buckets: SECONDS_WAIT },
  startLatency: { name: 'stasis_job_start_latency_seconds', help: 'Taken → its task started (create or restore included)', labels: ['namespace', 'restored'], buckets: SECONDS_SHORT },
  runTime: { name: 'stasis_job_run_seconds', help: "Wall time of a job's run on this node (startedAt → exitedAt)", labels: ['namespace', 'reason'], buckets: SECONDS_RUN },
  checkpointDuration: { name: 'stasis_checkpoint_duration_seconds', help: 'CRIU dump and commit of one checkpoint into the store', labels: ['reason'], buckets: SECONDS_CHECKPOINT },
  checkpointSize: { name: 'stasis_checkpoint_size_bytes', help: 'Size of one committed checkpoint in the store', labels: ['reason'], buckets: BYTES_CHECKPOINT },
  restoreDuration: { name: 'stasis_restore_duration_seconds', help: 'Verification and CRIU restore of a checkpoint on this node', labels: [], buckets: SECONDS_CHECKPOINT },
  migrationDowntime: {
    name: 'stasis_migration_downtime_seconds',
    help: 'A migrated or drained job: the dump froze it on the old node → it runs again here (clocks of two nodes)',
    labels: [],
    buckets: SECONDS_CHECKPOINT,
  },
  warmStarts: { name: 'stasis_warm_pool_starts_total', help: 'Tasks that could use a prepared sandbox: hit (adopted a ready one), waited (one being prepared) or miss (created their own)', labels: ['result'] },
  tasksRunning: { name: 'stasis_tasks_running', help: 'Tasks running on this node now', labels: [] },
  jobsActive: { name: 'stasis_jobs_active', help: 'Jobs this node holds now (taking, running, or holding a result to post)', labels: [] },
  redisUp: { name: 'stasis_redis_up', help: '1 while Redis is reachable from this node, else 0', labels: [] },
  ready: { name: 'stasis_node_ready', help: '1 while /readyz answers 200', labels: [] },
} as const satisfies Record<string, SeriesSpec>;

/** Keeps the `namespace` label bounded: the first `max` namespaces seen keep their name. */
export class LabelCap {
  private readonly seen = new Set<string>();

  constructor(private readonly max = DEFAULT_MAX_NAMESPACES) {}

  /** The label value of `namespace`. */
  of(namespace: string): string {
    if (this.seen.has(namespace)) return namespace;
    if (this.seen.size >= this.max) return OTHER_NAMESPACE;
    this.seen.add(namespace);
    return namespace;
  }
}

/** Milliseconds as the seconds Prometheus wants. */
export function seconds(ms: number): number {
  return Math.max(0, ms) / 1000;
}
