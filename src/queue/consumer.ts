/**
 * The BullMQ side of a runner node: a Worker on the main thread whose processor validates the
 * payload and hands the job to the task pool. It honours cancellation (BullMQ's worker.cancelJob
 * signal, and stasis' cross-process cancel requests), stops containers whose lock was lost, and can
 * adopt a task found after a restart so its result is posted exactly once.
 */
import { DelayedError, UnrecoverableError, WaitingError, Worker, type Job } from 'bullmq';
import { Redis, type RedisOptions } from 'ioredis';
import type { RunnerConfig } from '../config/runner.js';
import { randomUUID } from 'node:crypto';
import { errors, hasCode } from '../errors.js';
import type { TaskPool } from '../pool/pool.js';
import { JOB_ANNOTATIONS, type LifecycleOptions, type RestoreSource, type StopReason, type TaskCheckpoint, type TaskEvent } from '../pool/protocol.js';
import { CheckpointFlow } from './checkpoint-flow.js';
import { clearLineage, readLineage, writeLineage, type Lineage } from './lineage.js';
import { clearCancelRequest, readCancelRequest, watchCancelRequests, type QueueRef } from './cancel.js';
import { failureMessage, toJobError } from './failure.js';
import { parseJobPayload, DEFAULT_OUTPUT_BYTES, FAILED_RESULT_KEY, type JobPayload } from './job-schema.js';
import { runJobTask, type ActiveJob, type JobLimits, type JobRunContext, type JobTaskSource } from './job-run.js';
import { policyRequest } from './policy-request.js';
import type { PolicyDecision } from '../policy/apply.js';
import type { ImageStore } from '../image/store.js';
import { resolveJobImage } from './job-image.js';
import type { JobProcess } from './run-spec.js';
import { buildNotStartedResult, type JobResult, type JobResultMeta } from './result.js';
import { DEFAULT_JOB_NAMESPACE, runSpecFor, taskIdFor } from './run-spec.js';
import { attachToOrphan, keepLock, type OrphanTask } from './orphans.js';
import { applyPolicy } from '../policy/apply.js';
import type { RootfsContext } from '../policy/rootfs.js';
import type { IdMapping } from '../config/schema.js';
import type { NodePolicy } from '../policy/schema.js';

/** Options of JobConsumer. */
export interface JobConsumerOptions {
  config: RunnerConfig;
  connection: RedisOptions;
  pool: TaskPool;
  /** The node policy's view of the node: its default rootfs, state dir, checkpoint store. */
  rootfs: RootfsContext;
  /** The node's user-namespace mapping (payload ids must fit in it). */
  userns: IdMapping | null;
  /** The operator's node policy (limits, rootfs, network, images). */
  policy: NodePolicy;
  /** The node's image store (jobs that name an `image`). */
  images?: ImageStore;
  /** Background errors (a task that could not be deleted after its result was known). */
  onError?: (e: unknown) => void;
  /** CRIU and runc binaries (checkpoint manifests, compatibility checks). */
  binaries?: { criu: string; runc: string };
}

/** What a job attempt with checkpoint lineage carries through execute() (docs/migration.md). */
export interface LineageHooks {
  lineage: Lineage;
  token: string;
}

/** The runner node's BullMQ consumer. */
export class JobConsumer {
  readonly worker: Worker;
  private readonly redis: Redis;
  private readonly subscriber: Redis;
  private readonly active = new Map<string, ActiveJob>();
  /** Cancel requests heard for jobs not (yet) registered here, by job id → when heard. */
  private readonly heardCancels = new Map<string, number>();
  /** Jobs whose processor is running here (from its first line, before any await). */
  private readonly taking = new Set<string>();
  /** Tasks found at start whose jobs were back in the queue: attach instead of starting anew. */
  readonly orphans = new Map<string, OrphanTask>();
  private unwatch: (() => Promise<void>) | null = null;
  /** What a drain does with each job running here (the job's checkpoint.onDrain, or 'wait' without checkpoints). */
  readonly drainPolicy = new Map<string, 'checkpoint' | 'wait' | 'requeue'>();
  /** Jobs running here whose policy allows checkpoints. */
  private readonly checkpointable = new Set<string>();
  /** Set by a drain: a job taken now (a fetch that was already blocking) goes straight back to the queue. */
  draining = false;
  /** Checkpoint lineage: claims, hand-backs, preemption (checkpoint-flow.ts). */
  readonly flow: CheckpointFlow;
  private readonly ctx: JobRunContext;
  private readonly ref: QueueRef;

  constructor(private readonly o: JobConsumerOptions) {
    const c = o.config;
    this.ref = { queue: c.queue, prefix: c.prefix };
    this.redis = new Redis(o.connection);
    this.subscriber = new Redis(o.connection);
    this.ctx = {
      pool: o.pool,
      lifecycle: this.lifecycle({ outputBytes: DEFAULT_OUTPUT_BYTES, killGraceMs: c.killGraceMs }),
      nodeId: c.nodeId,
      logFlushMs: c.logFlushMs,
      redis: this.redis,
      ref: this.ref,
      ...(o.onError ? { onBackgroundError: o.onError } : {}),
    };
    // Three declared parameters: BullMQ then passes the job's AbortSignal (worker.cancelJob).
    const processor = (job: Job, token: string | undefined, signal: AbortSignal | undefined) => this.process(job, token, signal);
    this.worker = new Worker(c.queue, processor, {
      connection: o.connection,
      prefix: c.prefix,
      concurrency: c.concurrency,
      lockDuration: c.lockDurationMs,
      stalledInterval: c.stalledIntervalMs,
      autorun: false,
    });
    this.flow = new CheckpointFlow(c, this.redis, this.ref, o.binaries ?? { criu: '/usr/local/bin/stasis-criu', runc: '/usr/sbin/runc' }, undefined, o.userns);
    this.worker.on('completed', (job: Job) => void clearLineage(this.redis, this.ref, job.id!).catch(() => undefined));
    this.worker.on('lockRenewalFailed', (ids: string[]) => {
      for (const id of ids) this.stop(id, 'lock-lost');
    });
    this.worker.on('error', (e) => o.onError?.(e));
  }

  /** Starts listening for cancel requests and taking jobs. */
  async start(): Promise<void> {
    this.unwatch = await watchCancelRequests(this.subscriber, this.ref, (req) => {
      if (this.stop(req.jobId, 'cancelled')) return;
      // Not running here yet: remember it briefly, a job being taken right now registers soon.
      const now = Date.now();
      for (const [id, at] of this.heardCancels) if (now - at > 60_000) this.heardCancels.delete(id);
      this.heardCancels.set(req.jobId, now);
    });
    void this.worker.run().catch(() => undefined);
    await this.worker.waitUntilReady();
  }

  /** Stops the job's task if this node runs it; true when it does. */
  stop(jobId: string, reason: StopReason): boolean {
    const a = this.active.get(jobId);
    if (!a) return false;
    a.stop(reason);
    return true;
  }

  /**
   * Checkpoints a job running here into the store (not leaving it running) and hands it back to the
   * queue, reserved for `to` when given. Resolves to the checkpoint once the job is back in the queue.
   */
  preempt(jobId: string, o: { to?: string; reason?: 'migrate' | 'drain'; timeoutMs?: number } = {}): Promise<TaskCheckpoint> {
    const a = this.active.get(jobId);
    if (!a?.preempt) return Promise.reject(errors.failedPrecondition(`job ${jobId} is not running on node ${this.o.config.nodeId}`, { jobId }));
    if (!this.flow.enabled) return Promise.reject(errors.failedPrecondition(`node ${this.o.config.nodeId} has no checkpoint store (--checkpoint-dir); job ${jobId} cannot be checkpointed`, { jobId }));
    if (this.drainPolicy.has(jobId) && !this.checkpointable.has(jobId)) {
      return Promise.reject(errors.failedPrecondition(`job ${jobId} may not be checkpointed (checkpoint.allow is false)`, { jobId }));
    }
    if (this.flow.pending.has(jobId)) return Promise.reject(errors.failedPrecondition(`job ${jobId} is already being checkpointed`, { jobId }));
    const requestId = randomUUID();
    const reason = o.reason ?? 'migrate';
    return new Promise<TaskCheckpoint>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.flow.pending.get(jobId)?.requestId !== requestId) return;
        this.flow.pending.delete(jobId);
        reject(errors.unavailable(`job ${jobId} was not checkpointed within ${o.timeoutMs ?? 120_000} ms`, { jobId }));
      }, o.timeoutMs ?? 120_000);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.flow.pending.set(jobId, { requestId, to: o.to ?? null, reason, resolve: done(resolve), reject: done(reject) });
      a.preempt!(reason, requestId);
    });
  }

  /** The attempt of `jobId` running on this node, if any (control requests go through it). */
  activeJob(jobId: string): ActiveJob | undefined {
    return this.active.get(jobId);
  }

  /** Job ids running on this node now. */
  activeJobs(): string[] {
    return [...new Set([...this.active.keys(), ...this.taking])];
  }

  /**
   * Stops taking jobs. Graceful: waits for running jobs. `force`: returns at once; running
   * containers keep running under their monitors and a restart with the same node id re-attaches.
   */
  async close(force = false): Promise<void> {
    await this.worker.close(force);
    await this.unwatch?.().catch(() => undefined);
    this.subscriber.disconnect();
    this.redis.disconnect();
  }

  /** The Redis client for commands (not the subscriber). */
  get commands(): Redis {
    return this.redis;
  }

  /** Lifecycle options with a job's own output cap, kill grace and deadlines. */
  lifecycle(l: JobLimits): LifecycleOptions {
    const c = this.o.config;
    return {
      killGraceMs: l.killGraceMs,
      statsIntervalMs: c.statsIntervalMs,
      outputBytes: l.outputBytes,
      streamLogs: true,
      keepLogs: c.keepLogs,
      ...(l.deadlines ? { deadlines: l.deadlines } : {}),
    };
  }

  /** Runs one attempt of `job` (run or attach) and resolves to its envelope; errors map via failure.ts. */
  async execute(job: Job, payload: JobPayload, meta: JobResultMeta, source: JobTaskSource, signal?: AbortSignal, hooks?: LineageHooks): Promise<JobResult> {
    const lifecycle = this.lifecycle(source.limits);
    const ckSettings = hooks ? this.flow.settings(payload, meta.jobId, meta.attempt, hooks.lineage.hop) : undefined;
    const imageDigest = source.kind === 'run' ? source.spec.image?.digest : undefined;
    if (ckSettings) lifecycle.checkpoint = imageDigest ? { ...ckSettings, rootfsDigest: imageDigest } : ckSettings;
    const ctx = { ...this.ctx, lifecycle };
    const register = (a: ActiveJob) => {
      this.active.set(meta.jobId, a);
      const onAbort = () => a.stop('cancelled');
      signal?.addEventListener('abort', onAbort, { once: true });
      if (signal?.aborted) onAbort();
      if (this.heardCancels.delete(meta.jobId)) a.stop('cancelled');
      // A re-attached job may have been cancelled while no node listened: the request key says so.
      if (source.kind === 'attach') {
        void readCancelRequest(this.redis, this.ref, meta.jobId).then((c) => c && a.stop('cancelled'), () => undefined);
      }
      return () => {
        signal?.removeEventListener('abort', onAbort);
        if (this.active.get(meta.jobId) === a) this.active.delete(meta.jobId);
      };
    };
    // Checkpoint events: record them in the lineage (one write at a time); report failures in job.log.
    let writes: Promise<unknown> = Promise.resolve();
    const onOther = (e: TaskEvent) => {
      if (e.type === 'started' && hooks && !e.attached && !hooks.lineage.firstStartedAt) {
        // The job's first start: its wall-clock deadline counts from here on every later node.
        hooks.lineage.firstStartedAt = e.startedAt;
        writes = writes.then(() => writeLineage(this.redis, this.ref, meta.jobId, hooks.lineage)).catch((err) => this.o.onError?.(err));
      } else if (e.type === 'checkpoint' && hooks) {
        writes = writes.then(() => this.flow.recorded(meta.jobId, hooks.lineage, e.checkpoint)).catch((err) => this.o.onError?.(err));
      } else if (e.type === 'checkpoint-failed') {
        void job.log(`[stasis] ${e.reason} checkpoint failed (the job keeps running): ${e.error.message}`).catch(() => 0);
        const req = this.flow.pending.get(meta.jobId);
        if (req && (!e.requestId || e.requestId === req.requestId)) {
          this.flow.pending.delete(meta.jobId);
          req.reject(errors.checkpoint(`checkpoint of job ${meta.jobId} failed: ${e.error.message}`, { jobId: meta.jobId }));
        }
      }
    };
    const { result, outcome } = await runJobTask(ctx, job, meta, source, register, onOther);
    await writes;
    const req = this.flow.pending.get(meta.jobId);
    if (req && !outcome.preempted) {
      this.flow.pending.delete(meta.jobId);
      req.reject(errors.failedPrecondition(`job ${meta.jobId} ended (${outcome.cause}) before it could be checkpointed`, { jobId: meta.jobId }));
    }
    if (hooks && !outcome.lockLost) {
      if (outcome.preempted) await this.flow.preempted(job, hooks.token, hooks.lineage, outcome.preempted);
      if (this.flow.requeue.has(meta.jobId)) await this.flow.requeued(job, hooks.token, hooks.lineage);
      if (this.flow.abandon.has(meta.jobId)) await this.flow.requeued(job, hooks.token, hooks.lineage, true);
      Object.assign(result, this.flow.envelope(hooks.lineage, outcome));
    }
    if (outcome.lockLost) throw new Error(`lost the lock of job ${meta.jobId}; its container was killed and no result is posted`);
    if (result.reason === 'cancelled') void clearCancelRequest(this.redis, this.ref, meta.jobId).catch(() => undefined);
    if (payload.failOnNonZero && !(result.reason === 'exited' && result.exitStatus === 0)) {
      // The envelope stays reachable on the failed job: job.data.stasisResult (docs/queue.md). Only a
      // job that exited 0 on its own succeeded: a timeout, oom, cpu-time or cancel fails whatever its status.
      await job.updateData({ ...(job.data as object), [FAILED_RESULT_KEY]: result }).catch(() => undefined);
      const what = result.reason === 'exited' ? `command exited with status ${result.exitStatus}` : `the job ended by ${result.reason} (status ${result.exitStatus})`;
      throw new UnrecoverableError(`${what}; failOnNonZero is set`);
    }
    return result;
  }

  private async process(job: Job, token: string | undefined, signal: AbortSignal | undefined): Promise<JobResult> {
    const jobId = job.id!;
    // Synchronously, before any await: the orphan sweep must see that this node owns the job now.
    this.taking.add(jobId);
    const orphan = this.orphans.get(taskIdFor(jobId, job.attemptsMade));
    if (orphan) this.orphans.delete(orphan.taskId);
    try {
      return await this.processOwned(job, token, signal, orphan);
    } finally {
      this.taking.delete(jobId);
      this.drainPolicy.delete(jobId);
      this.checkpointable.delete(jobId);
    }
  }

  private async processOwned(job: Job, token: string | undefined, signal: AbortSignal | undefined, orphan: OrphanTask | undefined): Promise<JobResult> {
    const jobId = job.id!;
    let payload: JobPayload;
    let decision: PolicyDecision;
    try {
      payload = parseJobPayload(job.data, this.o.policy.maxPayloadBytes);
      decision = await applyPolicy(policyRequest(payload), this.o.policy, this.o.userns, this.o.rootfs);
    } catch (e) {
      // A bad payload or one the node's policy refuses fails at once, whatever its attempts.
      if (hasCode(e, 'ERR_INVALID_ARGUMENT') || hasCode(e, 'ERR_PERMISSION_DENIED') || hasCode(e, 'ERR_NOT_FOUND')) throw new UnrecoverableError(failureMessage(e));
      throw toJobError(e);
    }
    const attempt = job.attemptsMade;
    const taskId = taskIdFor(jobId, attempt);
    const meta: JobResultMeta = {
      jobId,
      attempt,
      nodeId: this.o.config.nodeId,
      taskId,
      namespace: payload.namespace ?? DEFAULT_JOB_NAMESPACE,
    };
    const cancel = await readCancelRequest(this.redis, this.ref, jobId);
    if (cancel) {
      this.heardCancels.delete(jobId);
      void clearCancelRequest(this.redis, this.ref, jobId).catch(() => undefined);
      return buildNotStartedResult(meta, { name: 'StasisError', code: 'ERR_UNAVAILABLE', message: `cancelled before start: ${cancel.reason}` }, 'cancelled');
    }
    const tok = token ?? '';
    if (this.draining) {
      await job.moveToWait(tok);
      throw new WaitingError();
    }
    // Checkpoint lineage (checkpoint-flow.ts): a stale orphan (the job moved on since) is discarded;
    // otherwise this node claims the job: maybe hands it back, maybe restores a checkpoint.
    let lineage = await readLineage(this.redis, this.ref, jobId);
    if (orphan && orphan.hop !== undefined && orphan.hop !== lineage.hop) {
      await this.o.pool.discard(orphan.taskId, orphan.namespace).catch(this.o.onError);
      orphan = undefined;
    }
    let restore: RestoreSource | undefined;
    let pinDigest: string | undefined;
    if (!orphan) {
      const claim = await this.flow.claim(jobId, payload, attempt);
      if (claim.kind === 'fail') throw new UnrecoverableError(claim.message);
      if (claim.kind === 'hand-back') return this.flow.handBack(job, tok, claim.lineage, claim.why);
      lineage = claim.lineage;
      restore = claim.restore;
      pinDigest = claim.pinDigest;
      // Only a job that moved (or restores) gets a line: a plain first run's job.log is the command's output alone.
      if (restore || lineage.nodes.length > 1) {
        void job
          .log(`[stasis] node ${this.o.config.nodeId} takes the job (hop ${lineage.hop}${restore ? `, restoring ${claim.restoreWhy} checkpoint #${restore.seq}` : ''})`)
          .catch(() => 0);
      }
    }
    const hooks: LineageHooks = { lineage, token: tok };
    // An image job runs on the digest its tag resolves to now, or the one its checkpoint was taken on.
    let jobProcess: JobProcess | undefined;
    if (payload.image && !orphan) {
      if (!this.o.images) throw new UnrecoverableError('ERR_FAILED_PRECONDITION: this node has no image store');
      try {
        const img = await resolveJobImage(this.o.images, { ...payload, image: payload.image }, this.o.policy.images, this.o.userns, pinDigest);
        decision = { ...decision, rootfs: img.rootfs, image: img.image };
        jobProcess = img.process;
        meta.image = img.image;
      } catch (e) {
        if (hasCode(e, 'ERR_UNAVAILABLE') || hasCode(e, 'ERR_RUNTIME') || hasCode(e, 'ERR_INTERNAL')) throw toJobError(e);
        throw new UnrecoverableError(failureMessage(e));
      }
    }
    if (this.flow.settings(payload, jobId, attempt, 0)) this.checkpointable.add(jobId);
    this.drainPolicy.set(jobId, this.flow.settings(payload, jobId, attempt, 0) ? (payload.checkpoint?.onDrain ?? 'checkpoint') : payload.checkpoint?.onDrain === 'requeue' ? 'requeue' : 'wait');
    const runSource = (from?: RestoreSource): JobTaskSource => {
      const owner = { jobId, queue: this.o.config.queue, prefix: this.o.config.prefix, nodeId: this.o.config.nodeId, attempt, token: tok };
      const run = runSpecFor(payload, owner, decision, {
        ...(lineage.firstStartedAt ? { firstStartedAt: lineage.firstStartedAt } : {}),
        maxLogBytes: this.o.config.maxLogBytes,
        ...(jobProcess ? { process: jobProcess } : {}),
      });
      run.spec.annotations[JOB_ANNOTATIONS.hop] = String(lineage.hop);
      const limits = { killGraceMs: run.killGraceMs, outputBytes: run.outputBytes, deadlines: run.deadlines };
      return { kind: 'run', spec: from ? { ...run.spec, restore: from } : run.spec, limits };
    };
    const passThrough = (e: unknown) => e instanceof WaitingError || e instanceof DelayedError || e instanceof UnrecoverableError;
    // A job that came back to the queue may be re-taken by this same worker while BullMQ is still
    // finishing the previous take; BullMQ then stops renewing its lock (it untracks the job id after
    // tracking the new take). Renew it ourselves too; a renewal that fails means the lock is lost.
    const stopRenewing = lineage.nodes.length > 1 || orphan ? keepLock(job, tok, this.o.config.lockDurationMs, () => this.stop(jobId, 'lock-lost')) : null;
    try {
      try {
        return await this.execute(job, payload, meta, orphan ? attachToOrphan(orphan) : runSource(restore), signal, hooks);
      } catch (e) {
        if (passThrough(e)) throw e;
        // A checkpoint that was refused (tampered, missing, incompatible) or could not be restored:
        // the job's policy says start over or fail.
        if (restore && hasCode(e, 'ERR_CHECKPOINT')) {
          if (payload.checkpoint?.onCorrupt !== 'restart') throw new UnrecoverableError(failureMessage(e));
          await this.flow.restartFresh(job, lineage, failureMessage(e));
          try {
            return await this.execute(job, payload, meta, runSource(), signal, hooks);
          } catch (e2) {
            throw passThrough(e2) ? e2 : toJobError(e2);
          }
        }
        // A task of this attempt already exists here (crash between create and posting): attach to it.
        // An orphan that vanished meanwhile: run the attempt afresh.
        const retry: JobTaskSource | null =
          !orphan && hasCode(e, 'ERR_ALREADY_EXISTS')
            ? { kind: 'attach', taskId, namespace: meta.namespace, limits: runSource(restore).limits }
            : orphan && hasCode(e, 'ERR_NOT_FOUND')
              ? runSource(restore)
              : null;
        if (!retry) throw toJobError(e);
        try {
          return await this.execute(job, payload, meta, retry, signal, hooks);
        } catch (e2) {
          throw passThrough(e2) ? e2 : toJobError(e2);
        }
      }
    } finally {
      stopRenewing?.();
    }
  }
}
