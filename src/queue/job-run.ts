/**
 * One job attempt on the main thread: hands it to the pool (run or attach), streams its output into
 * job.log in batches, shows progress, and turns the task's outcome into the result envelope.
 */
import type { Job } from 'bullmq';
import type { TaskHandle, TaskPool } from '../pool/pool.js';
import type { LifecycleOptions, RunSpec, StopReason, TaskEvent, TaskOutcome } from '../pool/protocol.js';
import type { TaskCall } from '../pool/control-verbs.js';
import { buildJobResult, type JobReason, type JobResult, type JobResultMeta } from './result.js';

/** Prefix of stderr lines in job.log (stdout lines have none). */
export const STDERR_LOG_PREFIX = '[stderr] ';
/** At most this many lines of a job attempt are streamed into job.log; the full log stays on the node. */
export const MAX_JOB_LOG_LINES = 10_000;

/** How the attempt gets its task. */
export type JobTaskSource =
  | { kind: 'run'; spec: RunSpec }
  | { kind: 'attach'; taskId: string; namespace: string; startedAt?: string; timeoutSeconds?: number };

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
  killGraceMs: number;
  logFlushMs: number;
  /** Errors after the outcome was known (e.g. deleting the task failed). */
  onBackgroundError?: (e: unknown) => void;
}

/** Maps the lifecycle's stop cause to the envelope's reason. */
export function reasonOf(o: TaskOutcome): JobReason {
  return o.cause;
}

/** Writes log lines into job.log in batches; flush() resolves once everything queued so far is written. */
class JobLogWriter {
  private pending: string[] = [];
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<unknown> = Promise.resolve();
  private rows = 0;
  constructor(
    private readonly job: Job,
    private readonly everyMs: number,
  ) {}

  add(lines: { stream: 'stdout' | 'stderr'; data: string }[]): void {
    for (const l of lines) {
      this.rows++;
      if (this.rows > MAX_JOB_LOG_LINES + 1) break;
      if (this.rows === MAX_JOB_LOG_LINES + 1) {
        this.pending.push(`[stasis] more than ${MAX_JOB_LOG_LINES} lines; the rest is in the result's logPath on the node`);
        break;
      }
      this.pending.push(l.stream === 'stderr' ? `${STDERR_LOG_PREFIX}${l.data}` : l.data);
    }
    this.timer ??= setTimeout(() => void this.flush(), this.everyMs);
  }

  flush(): Promise<unknown> {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const rows = this.pending;
    this.pending = [];
    if (rows.length > 0) {
      this.writing = this.writing.then(() => Promise.all(rows.map((r) => this.job.log(r).catch(() => 0))));
    }
    return this.writing;
  }
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
  /** Events this module does not handle itself (checkpoint, checkpoint-failed). */
  onOther?: (e: TaskEvent) => void,
): Promise<{ result: JobResult; outcome: TaskOutcome }> {
  const logs = new JobLogWriter(job, ctx.logFlushMs);
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
        return;
      case 'log':
        return logs.add(e.lines);
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
            ...(source.timeoutSeconds !== undefined ? { timeoutSeconds: source.timeoutSeconds } : {}),
          },
          ctx.lifecycle,
          onEvent,
        );
  const unregister = register({
    jobId: meta.jobId,
    taskId: meta.taskId,
    namespace: meta.namespace,
    stop: (reason) => handle.stop(reason, reason === 'lock-lost' ? 0 : ctx.killGraceMs),
    control: (call, timeoutMs) => handle.control(call, timeoutMs),
    preempt: (reason, requestId) => handle.preempt(reason, requestId),
  });
  try {
    const outcome = await handle.outcome;
    // A failed delete after the outcome must not go unnoticed (nor unhandled).
    handle.done.catch(ctx.onBackgroundError ?? (() => undefined));
    await logs.flush();
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
    await logs.flush();
  }
}
