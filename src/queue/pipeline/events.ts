/**
 * The lifecycle events (src/events) a job attempt's pipeline emits, built from the attempt: one small
 * function per event, so each stage emits with one line. Durations are measured here on this node's
 * clock, except a migration's downtime, which spans the old node's dump and this node's restore.
 */
import type { Job } from 'bullmq';
import type { HandBackReason, JobRef, NodeEvent, PostedEvent, StartedEvent } from '../../events/node-events.js';
import type { TaskEvent } from '../../pool/protocol.js';
import type { JobAttempt } from '../attempt.js';
import type { JobResult } from '../result.js';
import { FAILED_RESULT_KEY } from '../job-schema.js';
import { taskIdFor } from '../run-spec.js';

/** The attempt's job, task and namespace (validated: the pipeline's first stage set them). */
export function refOf(a: JobAttempt): JobRef {
  return { jobId: a.jobId, taskId: a.meta?.taskId ?? '', namespace: a.meta?.namespace ?? 'default' };
}

/** Added (or its delay ended) → taken, on the job's very first take only; else undefined. */
export function queueWaitMs(job: Pick<Job, 'attemptsStarted' | 'processedOn' | 'timestamp' | 'delay'>): number | undefined {
  if (job.attemptsStarted !== 1 || !job.processedOn || !job.timestamp) return undefined;
  return Math.max(0, job.processedOn - job.timestamp - (job.delay || 0));
}

/** The job was taken (after its payload passed the door). */
export function takenEvent(a: JobAttempt): NodeEvent {
  const wait = a.owner === 'processor' ? queueWaitMs(a.job) : undefined;
  return { event: 'taken', ...refOf(a), attempt: a.attempt, adopted: a.owner !== 'processor', ...(wait !== undefined ? { queueWaitMs: wait } : {}) };
}

/** The attempt's task started (or was restored, or re-attached). */
export function startedEvent(a: JobAttempt, e: Extract<TaskEvent, { type: 'started' }>, now = Date.now()): NodeEvent {
  const restored = !e.attached && a.restore !== undefined;
  const ev: StartedEvent = { event: 'started', ...refOf(a), attached: e.attached, restored };
  if (!e.attached) ev.startLatencyMs = Math.max(0, now - a.takenAt);
  if (e.restoreMs !== undefined) ev.restoreMs = e.restoreMs;
  if (e.warm) ev.warm = e.warm;
  // The checkpoint restored was a move's: the process froze when that dump began.
  const ck = restored ? a.lineage?.resume : undefined;
  if (ck && ck.seq === a.restore!.seq && (ck.reason === 'migrate' || ck.reason === 'drain')) {
    const frozeAt = Date.parse(ck.at) - (ck.durationMs ?? 0);
    const at = Date.parse(e.startedAt);
    if (Number.isFinite(frozeAt) && Number.isFinite(at)) ev.downtimeMs = Math.max(0, at - frozeAt);
  }
  return ev;
}

/** The attempt's task ended with this envelope. */
export function exitedEvent(a: JobAttempt, r: JobResult): NodeEvent {
  return {
    event: 'exited',
    ...refOf(a),
    reason: r.reason,
    exitStatus: r.exitStatus,
    signal: r.signal,
    runMs: r.wallMs,
    cpuMs: r.cpuMs,
    peakMemoryBytes: r.peakMemoryBytes,
  };
}

/** A checkpoint of the attempt's task was committed. */
export function checkpointedEvent(a: JobAttempt, e: Extract<TaskEvent, { type: 'checkpoint' }>): NodeEvent {
  const ck = e.checkpoint;
  return {
    event: 'checkpointed',
    ...refOf(a),
    reason: ck.reason,
    seq: ck.seq,
    ...(ck.durationMs !== undefined ? { durationMs: ck.durationMs } : {}),
    ...(ck.bytes !== undefined ? { bytes: ck.bytes } : {}),
  };
}

/** A migrate/drain checkpoint ended the task: the job went to `to`, or back to the queue. */
export function migratedEvent(a: JobAttempt, reason: string, seq: number, to: string | null): NodeEvent {
  return { event: 'migrated', ...refOf(a), reason: reason === 'drain' ? 'drain' : 'migrate', seq, to };
}

/** The job went back to the queue without a result. */
export function handedBackEvent(a: JobAttempt, reason: HandBackReason, detail?: string): NodeEvent {
  return { event: 'handed-back', ...refOf(a), reason, ...(detail ? { detail } : {}) };
}

const NAMESPACE = /^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,62}$/;

/**
 * BullMQ moved the job to completed (`result`: the envelope) or failed (`error`): from the envelope
 * when there is one (a failed job keeps it under `stasisResult`), else from the job itself.
 */
export function postedEvent(job: Job, state: 'completed' | 'failed', o: { result?: unknown; error?: unknown } = {}): NodeEvent {
  const data = (job.data ?? {}) as Record<string, unknown>;
  const env = (state === 'completed' ? o.result : data[FAILED_RESULT_KEY]) as Partial<JobResult> | undefined;
  const ns = typeof env?.namespace === 'string' ? env.namespace : typeof data.namespace === 'string' && NAMESPACE.test(data.namespace) ? data.namespace : 'default';
  // A failed job's attemptsMade already counts the attempt that failed.
  const attempt = state === 'failed' ? Math.max(0, job.attemptsMade - 1) : job.attemptsMade - 1;
  const ev: PostedEvent = {
    event: 'posted',
    jobId: job.id!,
    taskId: typeof env?.taskId === 'string' ? env.taskId : taskIdFor(job.id!, Math.max(0, attempt)),
    namespace: ns,
    state,
    reason: typeof env?.reason === 'string' ? env.reason : 'error',
  };
  if (job.finishedOn && job.processedOn) ev.totalMs = Math.max(0, job.finishedOn - job.processedOn);
  if (state === 'failed') ev.error = o.error instanceof Error ? o.error.message : String(o.error ?? job.failedReason ?? '');
  return ev;
}
