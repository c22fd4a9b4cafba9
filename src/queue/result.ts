/**
 * The result envelope: a job's BullMQ return value. Plain JSON, so producers without stasis code can
 * read it from `job.returnvalue` or `QueueEvents`' `completed` event.
 */
import type { ErrorData } from '../errors.js';
import type { StopCause, TaskOutput } from '../pool/protocol.js';

/**
 * Why the job's process stopped (or never ran): the lifecycle's own causes, one enum.
 *   exited           ended on its own (any status) or by a signal nobody here sent
 *   oom              the kernel OOM-killed it inside its memory limit
 *   timeout          it ran past limits.timeout and was stopped (TERM, grace, KILL), whatever it exited with
 *   cpu-time         it used more than limits.cpuTime seconds of CPU and was stopped
 *   cancelled        a cancel request stopped it
 *   failed-to-start  its program or working directory was not there or not executable (127 / 126)
 *   preempted        checkpointed to move elsewhere
 *   lost             its monitor died without recording an exit (status unknown, 255)
 */
export type JobReason = StopCause;

/** Whether the process ran and stopped, or never ran. */
export type JobRunStatus = 'exited' | 'not-started' | 'checkpointed';

/** One checkpoint taken while the job ran (its lineage; docs/migration.md). */
export interface JobCheckpointRef {
  /** Sequence number in the checkpoint store. */
  seq: number;
  /** The node that took it. */
  nodeId: string;
  /** When it was taken (ISO 8601). */
  at: string;
  /** The checkpoint directory in the store (gone once pruned). */
  path: string;
  /** 'periodic', 'migrate' or 'drain'. */
  reason?: string;
}

/** The result envelope, the job's return value. Times are ISO 8601. */
export interface JobResult extends TaskOutput {
  jobId: string;
  /** 0 for the first attempt (BullMQ attemptsMade when the attempt began). */
  attempt: number;
  nodeId: string;
  taskId: string;
  namespace: string;
  status: JobRunStatus;
  /** Exit status as a shell reports it (code, or 128 + signal); null when it never ran. */
  exitStatus: number | null;
  /** Signal name when it died by a signal ('SIGKILL'), else null. */
  signal: string | null;
  reason: JobReason;
  startedAt: string | null;
  exitedAt: string | null;
  /** startedAt → exitedAt in ms (0 when it never ran). */
  wallMs: number;
  checkpoints: JobCheckpointRef[];
  /** The nodes the job ran on, in order (more than one after a migration, drain or lost node). */
  nodes: string[];
  /** Set when the job could not run at all (a bad payload, a refusal). */
  error?: ErrorData;
  /** The image the job ran on, when it named one: the reference and the digest it resolved to. */
  image?: { ref: string; digest: string };
}

/** Who ran the job: the part of the envelope known before the process starts. */
export interface JobResultMeta {
  jobId: string;
  attempt: number;
  nodeId: string;
  taskId: string;
  namespace: string;
  /** The image the job runs on, when it named one. */
  image?: { ref: string; digest: string };
}

/** Builds the envelope of a job that never started (used in failed-job data and by `stasis result`). */
export function buildNotStartedResult(meta: JobResultMeta, error: ErrorData, reason: JobReason = 'failed-to-start'): JobResult {
  return {
    ...meta,
    status: 'not-started',
    exitStatus: null,
    signal: null,
    reason,
    startedAt: null,
    exitedAt: null,
    wallMs: 0,
    cpuMs: 0,
    peakMemoryBytes: 0,
    stdout: '',
    stderr: '',
    stdoutTruncated: false,
    stderrTruncated: false,
    logPath: null,
    checkpoints: [],
    nodes: [],
    error,
  };
}

/** True when `v` looks like a JobResult (for clients reading `job.returnvalue`). */
export function isJobResult(v: unknown): v is JobResult {
  if (typeof v !== 'object' || v === null) return false;
  const r = v as Partial<JobResult>;
  return typeof r.jobId === 'string' && typeof r.reason === 'string' && typeof r.status === 'string';
}

/** A job's return value (object, or JSON text as some BullMQ paths give it) as a JobResult, or null. */
export function toJobResult(v: unknown): JobResult | null {
  let x = v;
  if (typeof x === 'string') {
    try {
      x = JSON.parse(x);
    } catch {
      return null;
    }
  }
  return isJobResult(x) ? x : null;
}
