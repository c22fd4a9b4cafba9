/**
 * One job attempt on the main thread: hands it to the pool (run or attach), streams its output into
 * job.log in batches, shows progress, and turns the task's outcome into the result envelope.
 */
import type { Job } from 'bullmq';
import type { TaskHandle, TaskPool } from '../pool/pool.js';
import type { Deadlines, LifecycleOptions, RunSpec, StopReason, TaskEvent, TaskOutcome } from '../pool/protocol.js';
import type { TaskCall } from '../pool/control-verbs.js';
import { buildJobResult, type JobReason, type JobResult, type JobResultMeta } from './result.js';
import { JobOutputWriter } from './output-log.js';
import type { Redis } from 'ioredis';
import type { QueueRef } from './cancel.js';

/** A job attempt's own lifecycle limits (from its effective limits, or its task's annotations after a restart). */
export interface JobLimits {
  killGraceMs: number;
  outputBytes: number;
  deadlines?: Deadlines;
}

/** How the attempt gets its task. */
export type JobTaskSource =
  | { kind: 'run'; spec: RunSpec; limits: JobLimits }
  | { kind: 'attach'; taskId: string; namespace: string; startedAt?: string; limits: JobLimits };

/** A job attempt in flight on this node. */
export interface ActiveJob {
  jobId: string;
  taskId: string;
  namespace: string;
  stop(reason: StopReason): void;
  /** A control call to the thread owning the task (pool.ts TaskHandle.control). */
  control(call: TaskCall, timeoutMs: number): Promise<unknown>;
  /** Checkpoints the task into the store and ends it (migrate/drain); see checkpoint-flow.ts. */
  preempt?(reason: 'migrate' | 'drain', requestId: string): void;
}

/** Everything a job attempt needs from its node. */
export interface JobRunContext {
  pool: TaskPool;
  lifecycle: LifecycleOptions;
  nodeId: string;
  logFlushMs: number;
  /** Errors after the outcome was known (e.g. deleting the task failed). */
  onBackgroundError?: (e: unknown) => void;
  /** Where the exact output stream goes (output-log.ts); without it only job.log is written. */
  redis?: Redis;
  ref?: QueueRef;
}

/** Maps the lifecycle's stop cause to the envelope's reason. */
export function reasonOf(o: TaskOutcome): JobReason {
  return o.cause;
}

/**
 * Runs (or re-attaches) the job's task and resolves to its result envelope. `register` is called with
 * the attempt's stop handle as soon as the pool owns the task, and its return value is called when it
 * ends. Rejects with the pool's StasisError when the task could not be created or started.
 */
export async function runJobTask(
  ctx: JobRunContext,
  job: Job,
  meta: JobResultMeta,
  source: JobTaskSource,
  register: (a: ActiveJob) => () => void,
  /** Events this module does not handle itself (checkpoint, checkpoint-failed), and 'started'. */
  onOther?: (e: TaskEvent) => void,
): Promise<{ result: JobResult; outcome: TaskOutcome }> {
  const logs = new JobOutputWriter(job, ctx.logFlushMs, ctx.redis, ctx.ref);
  const side: Promise<unknown>[] = [];
  let lastProgress = 0;
  const onEvent = (e: TaskEvent) => {
    switch (e.type) {
      case 'started':
        side.push(
          job
            .updateProgress({ status: 'running', pid: e.pid, taskId: meta.taskId, nodeId: ctx.nodeId, startedAt: e.startedAt, attached: e.attached })
            .catch(() => undefined),
        );
        lastProgress = Date.now();
        onOther?.(e);
        return;
      case 'log':
        return logs.add(e.lines);
      case 'output-truncated':
        return logs.truncated(e.stream);
      case 'stats':
        if (Date.now() - lastProgress < 5_000) return;
        lastProgress = Date.now();
        side.push(
          job
            .updateProgress({ status: 'running', taskId: meta.taskId, nodeId: ctx.nodeId, cpuMs: Math.round(e.cpuMs), memoryBytes: e.memoryBytes, peakMemoryBytes: e.peakMemoryBytes })
            .catch(() => undefined),
        );
        return;
      default:
        onOther?.(e);
        return;
    }
  };
  const handle: TaskHandle =
    source.kind === 'run'
      ? ctx.pool.run(source.spec, ctx.lifecycle, onEvent)
      : ctx.pool.attach(
          {
            taskId: source.taskId,
            namespace: source.namespace,
            ...(source.startedAt ? { startedAt: source.startedAt } : {}),
          },
          ctx.lifecycle,
          onEvent,
        );
  const unregister = register({
    jobId: meta.jobId,
    taskId: meta.taskId,
    namespace: meta.namespace,
    stop: (reason) => handle.stop(reason, reason === 'lock-lost' ? 0 : ctx.lifecycle.killGraceMs),
    control: (call, timeoutMs) => handle.control(call, timeoutMs),
    preempt: (reason, requestId) => handle.preempt(reason, requestId),
  });
  try {
    const outcome = await handle.outcome;
    // A failed delete after the outcome must not go unnoticed (nor unhandled).
    handle.done.catch(ctx.onBackgroundError ?? (() => undefined));
    await logs.flush(true);
    await Promise.all(side);
    const result = buildJobResult(meta, {
      startedAt: outcome.startedAt,
      exitedAt: outcome.exit.exitedAt,
      exitStatus: outcome.exit.status,
      signal: outcome.exit.signal,
      reason: reasonOf(outcome),
      cpuMs: outcome.cpuMs,
      peakMemoryBytes: outcome.peakMemoryBytes,
      stdout: outcome.stdout,
      stderr: outcome.stderr,
      stdoutTruncated: outcome.stdoutTruncated,
      stderrTruncated: outcome.stderrTruncated,
      logPath: outcome.logPath,
    });
    return { result, outcome };
  } finally {
    unregister();
    await logs.flush(true);
  }
}
