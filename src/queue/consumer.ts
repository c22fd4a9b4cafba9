/**
 * The BullMQ side of a runner node: a Worker on the main thread whose processor runs each job as a
 * JobAttempt through the pipeline (src/queue/pipeline): validate → claim → source → run → settle →
 * post. An attempt may outlive its processor (its job went back to the queue while Redis was away)
 * and be run outside any processor (adopted after a restart, or handed over by another node); the
 * fencing rule (docs/queue.md) decides who posts. Cancellation, lost locks, drain, recovery and
 * control reach attempts through this class' methods.
 */
import { randomUUID } from 'node:crypto';
import { DelayedError, MetricsTime, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { errors } from '../errors.js';
import type { StopReason, TaskCheckpoint } from '../pool/protocol.js';
import { JobAttempt, type ActiveJob, type AttemptOwner } from './attempt.js';
import { readCancelRequest, type QueueRef } from './cancel.js';
import { CancelListener } from './cancel-listener.js';
import { CheckpointFlow } from './checkpoint-flow.js';
import { toJobError } from './failure.js';
import { JobLock } from './job-lock.js';
import { clearLineage } from './lineage.js';
import type { OrphanTask } from './orphans.js';
import type { JobResult } from './result.js';
import { taskIdFor } from './run-spec.js';
import { runPipeline } from './pipeline/pipeline.js';
import type { PipelineDeps } from './pipeline/deps.js';
import { FencedError } from './pipeline/fenced.js';
import { OutageWatch } from './outage.js';
import { UnpostedTasks } from './unposted.js';
import { NodeRoom } from './room.js';
import { Attempts } from './attempts.js';
import { noEvents } from '../events/node-events.js';
import type { JobConsumerOptions } from './consumer-options.js';

export type { JobConsumerOptions } from './consumer-options.js';
import { postedEvent } from './pipeline/events.js';
import { keepJobsOptions } from './keep-jobs.js';

/** Moves a stage made itself: the processor passes them on to BullMQ untouched. */
function moved(e: unknown): boolean {
  return e instanceof WaitingError || e instanceof DelayedError;
}

/** The runner node's BullMQ consumer. */
export class JobConsumer {
  readonly worker: Worker;
  readonly flow: CheckpointFlow;
  /** Tasks found at start whose jobs were back in the queue: attach instead of starting anew. */
  readonly orphans = new Map<string, OrphanTask>();
  /** Set by a drain: a job taken now (a fetch that was already blocking) goes straight back to the queue. */
  draining = false;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly attempts: Attempts;
  /** Stopped tasks kept until their jobs are posted (unposted.ts). */
  private readonly unposted = new UnpostedTasks();
  private readonly cancels = new CancelListener();
  private readonly deps: PipelineDeps;
  private readonly room: NodeRoom;
  private readonly ref: QueueRef;
  /** Redis reachability as this consumer's clients see it. */
  readonly outage: OutageWatch;

  constructor(private readonly o: JobConsumerOptions) {
    const c = o.config;
    this.ref = { queue: c.queue, prefix: c.prefix };
    const onError = o.onError ?? (() => undefined);
    const events = o.events ?? noEvents;
    this.outage = o.outage ?? new OutageWatch(onError);
    this.redis = this.outage.watch(new Redis(o.connection), 'commands');
    this.room = new NodeRoom(c.concurrency, () => this.attempts.outsideProcessors(), (n) => {
      if (this.worker && this.worker.concurrency !== n) this.worker.concurrency = n;
    });
    this.attempts = new Attempts(this.redis, this.ref, () => this.room.balance(), onError);
    this.subscriber = this.outage.watch(new Redis(o.connection), 'cancel subscriber');
    this.flow = new CheckpointFlow(c, this.redis, this.ref, o.binaries ?? { criu: '/usr/local/bin/stasis-criu', runc: '/usr/sbin/runc' }, undefined, o.userns);
    this.deps = {
      config: c,
      policy: o.policy,
      rootfs: o.rootfs,
      userns: o.userns,
      ...(o.images ? { images: o.images } : {}),
      redis: this.redis,
      ref: this.ref,
      pool: o.pool,
      flow: this.flow,
      onError,
      warn: o.warn ?? ((e) => onError(e)),
      events,
      draining: () => this.draining,
      room: (a) => this.room.waitFor(a),
      takeOrphan: (taskId) => {
        const orphan = this.orphans.get(taskId);
        this.orphans.delete(taskId);
        return orphan;
      },
      handOff: o.handOff ?? (async () => false),
    };
    // Three declared parameters: BullMQ then passes the job's AbortSignal (worker.cancelJob).
    const processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => this.process(job, token ?? '', signal);
    this.worker = new Worker(c.queue, processor, {
      connection: o.connection,
      prefix: c.prefix,
      concurrency: c.concurrency,
      lockDuration: c.lockDurationMs,
      stalledInterval: c.stalledIntervalMs,
      // A node that keeps dying costs its jobs time, not attempts; past this the job fails saying so.
      maxStalledCount: c.maxStalledCount,
      // Finished jobs leave Redis by age and count (a producer's own removeOnComplete/removeOnFail win).
      ...keepJobsOptions(c),
      // BullMQ's per-minute completed/failed counts (bullmq_job_*_total), kept in the finishing script itself.
      metrics: { maxDataPoints: MetricsTime.ONE_WEEK },
      autorun: false,
    });
    this.worker.on('completed', (job: Job, result: unknown) => {
      events(postedEvent(job, 'completed', { result }));
      this.unposted.posted(job.id!);
      void clearLineage(this.redis, this.ref, job.id!).catch(onError);
    });
    this.worker.on('failed', (job: Job | undefined, error: Error) => {
      if (!job) return;
      events(postedEvent(job, 'failed', { error }));
      this.unposted.posted(job.id!);
    });
    this.worker.on('lockRenewalFailed', (ids: string[]) => void this.attempts.lockInDoubt(ids));
    this.worker.on('error', (e) => this.outage.error('worker', e));
  }

  /** Starts listening for cancel requests and taking jobs. A worker loop that fails ends in `onFatal`. */
  async start(onFatal: (e: unknown) => void): Promise<void> {
    await this.cancels.start(this.subscriber, this.ref, (jobId) => this.stop(jobId, 'cancelled'));
    this.worker.run().catch(onFatal);
    await this.worker.waitUntilReady();
  }

  /** Stops the job's task if this node runs it; true when it does. */
  stop(jobId: string, reason: StopReason): boolean {
    const a = this.attempts.get(jobId);
    if (!a) return false;
    a.stop(reason);
    return true;
  }

  /**
   * Checkpoints a job running here into the store (not leaving it running) and hands it over: to
   * `to` directly when that node takes it, else back to the queue. Resolves to the checkpoint.
   */
  preempt(jobId: string, o: { to?: string; reason?: 'migrate' | 'drain'; timeoutMs?: number } = {}): Promise<TaskCheckpoint> {
    const a = this.attempts.get(jobId);
    const node = this.o.config.nodeId;
    if (!a?.running) return Promise.reject(errors.failedPrecondition(`job ${jobId} is not running on node ${node}`, { jobId }));
    if (!this.flow.enabled) return Promise.reject(errors.failedPrecondition(`node ${node} has no checkpoint store (--checkpoint-dir); job ${jobId} cannot be checkpointed`, { jobId }));
    if (!a.checkpointable) return Promise.reject(errors.failedPrecondition(`job ${jobId} may not be checkpointed (checkpoint.allow is false)`, { jobId }));
    return a.preempt({ ...(o.to ? { to: o.to } : {}), reason: o.reason ?? 'migrate', timeoutMs: o.timeoutMs ?? 120_000, requestId: randomUUID() });
  }

  /** The running job `jobId` on this node, if any (control requests go through it). */
  activeJob(jobId: string): ActiveJob | undefined {
    const a = this.attempts.get(jobId);
    return a?.running ? { jobId, ...a.runningTask } : undefined;
  }

  /** Job ids this node works on now (taking, running, or holding a result to post). */
  activeJobs(): string[] {
    return this.attempts.ids();
  }

  /** Whether a BullMQ lock token is this node's worker's: a job it holds, or is taking right now. */
  ownsLockToken(token: string): boolean {
    return token.startsWith(`${this.worker.id}:`);
  }

  /** The attempt of `jobId` on this node (drain asks it to checkpoint, requeue or abandon). */
  attempt(jobId: string): JobAttempt | undefined {
    return this.attempts.get(jobId);
  }

  /**
   * Stops taking jobs. Graceful: waits for running jobs. `force`: returns at once; running
   * containers keep running under their monitors and a restart with the same node id re-attaches.
   */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    await this.cancels.close();
    this.subscriber.disconnect();
    this.redis.disconnect();
  }

  /** The Redis client for commands (not the subscriber). */
  get commands(): Redis {
    return this.redis;
  }

  /**
   * Runs a job outside BullMQ's processor under a lock token this node was given: a job adopted after
   * a restart (`orphan`: its task), or handed over by another node. Posts (or fails) the job itself.
   * A job this node still holds an attempt for (it finished, or runs on) continues that attempt.
   */
  adopt(job: Job, token: string, o: { orphan?: OrphanTask } = {}): Promise<void> {
    const existing = this.attempts.get(job.id!);
    if (existing?.finished) {
      existing.reown(token, 'adopted');
      return this.postAdopted(existing);
    }
    const a = this.newAttempt(job, token, 'adopted');
    if (o.orphan) a.orphan = o.orphan;
    a.finished = this.runAttempt(a);
    return this.postAdopted(a);
  }

  /** Keeps the lock of an attempt run outside the processor and posts (or fails) its job under its token. */
  private async postAdopted(a: JobAttempt): Promise<void> {
    this.attempts.keepLock(a);
    try {
      const result = await a.finished!;
      a.keeping?.();
      if (a.owner !== 'adopted') return;
      await a.job.moveToCompleted(result, a.token, false);
      this.deps.events(postedEvent(a.job, 'completed', { result }));
      this.unposted.posted(a.jobId);
      await clearLineage(this.redis, this.ref, a.jobId).catch(this.deps.onError);
    } catch (e) {
      a.keeping?.();
      if (moved(e) || e instanceof FencedError || a.owner !== 'adopted') return;
      const err = toJobError(e);
      try {
        await a.job.moveToFailed(err, a.token, false);
      } catch (post) {
        // The lock is gone (another node, or the stalled check, has the job): nothing to post from here.
        throw new Error(`job ${a.jobId} failed on this node (${err.message}), and its failure could not be posted: ${(post as Error).message}`, { cause: post });
      }
      this.deps.events(postedEvent(a.job, 'failed', { error: err }));
      this.unposted.posted(a.jobId);
    }
  }

  /** Keeps the attempt's stopped task until its result is posted (unposted.ts). */
  private holdUntilPosted(a: JobAttempt): void {
    if (a.releaseTask) this.unposted.hold(a.jobId, a.token, a.releaseTask);
  }

  private newAttempt(job: Job, token: string, owner: AttemptOwner, signal?: AbortSignal): JobAttempt {
    const a = new JobAttempt(job, new JobLock(this.redis, this.ref, job.id!, token, this.o.config.lockDurationMs), owner, signal);
    this.attempts.add(a);
    if (signal) signal.addEventListener('abort', () => a.stop('cancelled'), { once: true });
    if (this.cancels.take(a.jobId)) a.stop('cancelled');
    return a;
  }

  /** The pipeline of one attempt; the attempt leaves the registry and its task is released at the end. */
  private async runAttempt(a: JobAttempt): Promise<JobResult> {
    try {
      const r = await runPipeline(a, this.deps, (jobId) => readCancelRequest(this.redis, this.ref, jobId).then((c) => c !== null));
      this.holdUntilPosted(a);
      return r;
    } catch (e) {
      // Handed over, back in the queue, or another node's now: nothing to post from this task. A
      // failure is posted as the job's failure: the task waits for that like a result.
      if (moved(e) || e instanceof FencedError) a.releaseTask?.();
      else this.holdUntilPosted(a);
      throw e;
    } finally {
      this.attempts.remove(a);
    }
  }

  private async process(job: Job, token: string, signal: AbortSignal | undefined): Promise<JobResult> {
    const existing = this.attempts.get(job.id!);
    let a: JobAttempt;
    if (existing && existing.owner === 'detached') {
      // The job came back to this node while its attempt ran on (or held a result): go on under this take.
      existing.reown(token, 'processor');
      a = existing;
    } else {
      // Synchronously, before any await: the orphan sweep must see that this node owns the job now.
      a = this.newAttempt(job, token, 'processor', signal);
      // BullMQ set the lock under this token in the move that gave the job: no renewal needed to post soon.
      a.lock.confirmed();
      a.orphan = this.deps.takeOrphan(taskIdFor(a.jobId, a.attempt));
      a.finished = this.runAttempt(a);
      this.attempts.keepLock(a);
    }
    try {
      const r = await Promise.race([a.finished!, a.whenDetached().then(() => null)]);
      a.keeping?.();
      // Detached (the job went back to the queue while Redis was away; the attempt waits to be given it
      // again), or handed to this node under another take's token: not this processor's to post.
      if (r === null || a.owner !== 'processor') throw new WaitingError();
      return r;
    } catch (e) {
      if (moved(e) || e instanceof UnrecoverableError) throw e;
      if (e instanceof FencedError) throw new WaitingError();
      throw toJobError(e);
    } finally {
      if (a.owner === 'processor') a.keeping?.();
    }
  }

  /**
   * Detached attempts whose jobs ended elsewhere or run on another node now are given up, and
   * stopped tasks whose post can no longer come from here are let go (attempts.ts, unposted.ts).
   */
  async sweepDetached(queue: { getJob(id: string): Promise<Job | undefined> }): Promise<string[]> {
    const dropped = await this.attempts.sweepDetached(queue);
    await this.unposted.sweep(this.redis, this.ref, queue, (jobId) => this.attempts.has(jobId));
    return dropped;
  }
}
