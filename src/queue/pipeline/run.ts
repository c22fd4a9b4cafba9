/**
 * Stage 4 of a job attempt: the pool runs (or attaches to) its task and the attempt follows it to its
 * end. Output goes to job.log and the output stream, progress to job.progress, the job's first start
 * and every committed checkpoint to its lineage; stop, preempt and control requests reach the task
 * through the attempt. Resolves to the task's outcome and the envelope built from it.
 */
import type { LifecycleOptions, TaskEvent, TaskOutcome } from '../../pool/protocol.js';
import type { TaskHandle } from '../../pool/pool.js';
import type { JobAttempt } from '../attempt.js';
import { buildEnvelope } from '../envelope.js';
import { writeLineage } from '../lineage.js';
import { JobOutputWriter } from '../output-log.js';
import type { JobResult } from '../result.js';
import type { PipelineDeps } from './deps.js';
import type { JobTaskSource } from './task-source.js';
import { checkpointedEvent, refOf, startedEvent } from './events.js';

/** The lifecycle options of an attempt: the node's settings, the job's limits, its checkpoints. */
export function lifecycleOf(a: JobAttempt, d: PipelineDeps, source: JobTaskSource): LifecycleOptions {
  const c = d.config;
  const l = source.limits;
  const o: LifecycleOptions = {
    killGraceMs: l.killGraceMs,
    statsIntervalMs: c.statsIntervalMs,
    outputBytes: l.outputBytes,
    streamLogs: true,
    keepLogs: c.keepLogs,
    ...(l.deadlines ? { deadlines: l.deadlines } : {}),
  };
  const ck = a.lineage ? d.flow.settings(a.payload!, a.jobId, a.attempt, a.lineage.hop) : undefined;
  const digest = source.kind === 'run' ? source.spec.image?.digest : undefined;
  if (ck) o.checkpoint = digest ? { ...ck, rootfsDigest: digest } : ck;
  return o;
}

/** Hands the source to the pool. */
function start(d: PipelineDeps, source: JobTaskSource, lifecycle: LifecycleOptions, onEvent: (e: TaskEvent) => void): TaskHandle {
  if (source.kind === 'run') return d.pool.run(source.spec, lifecycle, onEvent);
  const at = { taskId: source.taskId, namespace: source.namespace, ...(source.startedAt ? { startedAt: source.startedAt } : {}) };
  return d.pool.attach(at, lifecycle, onEvent);
}

/** Follows the events of the attempt's task: output, progress, lineage writes, checkpoint failures. */
class EventSink {
  readonly output: JobOutputWriter;
  private side: Promise<unknown>[] = [];
  private writes: Promise<unknown> = Promise.resolve();
  private lastProgress = 0;

  constructor(
    private readonly a: JobAttempt,
    private readonly d: PipelineDeps,
  ) {
    this.output = new JobOutputWriter(a.job, d.config.logFlushMs, d.redis, d.ref, (e) =>
      d.warn(e, { ...refOf(a), what: 'output lost: a write to job.log or the output stream failed' }),
    );
  }

  on(e: TaskEvent): void {
    const { a, d } = this;
    const base = { taskId: a.meta!.taskId, nodeId: d.config.nodeId };
    switch (e.type) {
      case 'started':
        d.events(startedEvent(a, e));
        this.progress({ status: 'running', pid: e.pid, ...base, startedAt: e.startedAt, attached: e.attached });
        // The job's first start: its wall-clock deadline counts from here on every later node.
        if (a.lineage && !e.attached && !a.lineage.firstStartedAt) {
          a.lineage.firstStartedAt = e.startedAt;
          this.lineage(() => writeLineage(d.redis, d.ref, a.jobId, a.lineage!));
        }
        return;
      case 'log':
        return this.output.add(e.lines);
      case 'output-truncated':
        return this.output.truncated(e.stream);
      case 'stats':
        if (Date.now() - this.lastProgress < 5_000) return;
        this.progress({ status: 'running', ...base, cpuMs: Math.round(e.cpuMs), memoryBytes: e.memoryBytes, peakMemoryBytes: e.peakMemoryBytes });
        return;
      case 'checkpoint':
        d.events(checkpointedEvent(a, e));
        if (a.lineage) this.lineage(() => d.flow.recorded(a.jobId, a.lineage!, e.checkpoint));
        return;
      case 'checkpoint-failed':
        // A checkpoint that found its task stopping, or met its exit mid-dump, is no failure worth a
        // line in the node's log or the job's (the run ends anyway); a requester still gets the error.
        if (e.error.code !== 'ERR_FAILED_PRECONDITION') {
          d.warn(e.error, { ...refOf(a), what: `${e.reason} checkpoint failed (the job keeps running)` });
          this.side.push(a.job.log(`[stasis] ${e.reason} checkpoint failed (the job keeps running): ${e.error.message}`).catch(() => 0));
        }
        a.checkpointFailed(e.requestId, e.error.message);
        return;
      case 'warning':
        d.warn(e.error ?? new Error(e.message), { ...refOf(a), what: e.message });
        return;
      default:
        return;
    }
  }

  private progress(p: Record<string, unknown>): void {
    this.lastProgress = Date.now();
    // Progress is informational: a failed update (Redis away) is not worth failing the job for.
    this.side.push(this.a.job.updateProgress(p).catch(() => undefined));
  }

  /** Lineage writes happen one at a time, in order; a failed one goes to the node's error log. */
  private lineage(write: () => Promise<unknown>): void {
    this.writes = this.writes.then(write).catch((err: unknown) => this.d.onError(err));
  }

  /** Resolves once every write so far is done. */
  async settled(): Promise<void> {
    await this.output.flush(true);
    await Promise.all(this.side);
    await this.writes;
  }
}

/** Runs the attempt's task to its end; resolves to the outcome and the envelope. */
export async function runTask(a: JobAttempt, d: PipelineDeps, source: JobTaskSource): Promise<{ result: JobResult; outcome: TaskOutcome }> {
  const sink = new EventSink(a, d);
  const lifecycle = lifecycleOf(a, d, source);
  const handle = start(d, source, lifecycle, (e) => sink.on(e));
  a.bind({
    taskId: source.kind === 'run' ? source.spec.taskId : source.taskId,
    namespace: source.kind === 'run' ? source.spec.namespace : source.namespace,
    stop: (reason) => handle.stop(reason, reason === 'lock-lost' ? 0 : lifecycle.killGraceMs),
    control: (call, timeoutMs) => handle.control(call, timeoutMs),
    preempt: (reason, requestId) => handle.preempt(reason, requestId),
  });
  a.releaseTask = () => handle.release();
  try {
    const outcome = await handle.outcome;
    // A failed delete after the outcome must not go unnoticed (nor unhandled).
    handle.done.catch(d.onError);
    await sink.settled();
    a.ended(outcome);
    return { result: buildEnvelope(a.meta!, outcome, a.lineage), outcome };
  } finally {
    a.unbind();
    await sink.settled();
  }
}
