/**
 * One job attempt on this node, as one record: the BullMQ job and the lock token it is run under,
 * what the pipeline learned about it (payload, the policy's decision, lineage, restore source), its
 * task once the pool owns it, and the requests other parts of the node make of it (stop, preempt,
 * requeue, abandon). Drain, recovery, control and cancellation call these methods; nothing edits
 * the attempt's fields from outside the pipeline (src/queue/pipeline/*).
 */
import type { Job } from 'bullmq';
import { errors } from '../errors.js';
import type { TaskCall } from '../pool/control-verbs.js';
import type { RestoreSource, StopReason, TaskCheckpoint, TaskOutcome } from '../pool/protocol.js';
import type { PolicyDecision } from '../policy/apply.js';
import type { JobLock } from './job-lock.js';
import type { JobPayload } from './job-schema.js';
import type { Lineage } from './lineage.js';
import type { JobResult, JobResultMeta } from './result.js';
import type { JobProcess } from './run-spec.js';
import type { OrphanTask } from './orphans.js';

/** What a draining node does with the attempt: checkpoint and hand back, wait for it, or start it over elsewhere. */
export type DrainPolicy = 'checkpoint' | 'wait' | 'requeue';

/**
 * Who the attempt answers to: BullMQ's processor; this node outside it (adopted after a restart or
 * handed over by another node); or nobody yet (its job went back to the queue while Redis was away,
 * and the attempt waits to be given it again: reown()).
 */
export type AttemptOwner = 'processor' | 'adopted' | 'detached';

/** A running job as control requests see it: the attempt's task. */
export type ActiveJob = AttemptTask & { jobId: string };

/** The running task of an attempt, as the pool hands it out (pool.ts TaskHandle). */
export interface AttemptTask {
  taskId: string;
  namespace: string;
  stop(reason: StopReason): void;
  control(call: TaskCall, timeoutMs: number): Promise<unknown>;
  preempt(reason: 'migrate' | 'drain', requestId: string): void;
}

/** A migrate/drain request waiting for the task's final checkpoint. */
interface PreemptRequest {
  requestId: string;
  to: string | null;
  reason: 'migrate' | 'drain';
  resolve(ck: TaskCheckpoint): void;
  reject(e: unknown): void;
}

/** One job attempt (see the module comment). */
export class JobAttempt {
  readonly jobId: string;
  /** BullMQ's attemptsMade when the attempt began. */
  readonly attempt: number;
  /** When this node took the job (Date.now()): start latency and the taken → posted time count from here. */
  readonly takenAt = Date.now();
  payload?: JobPayload;
  decision?: PolicyDecision;
  meta?: JobResultMeta;
  lineage?: Lineage;
  restore?: RestoreSource;
  /** The image digest a checkpoint pins the job to. */
  pinDigest?: string;
  process?: JobProcess;
  /** A task this node left running before a restart (or an outage) that this attempt attaches to. */
  orphan?: OrphanTask;
  drainPolicy: DrainPolicy = 'wait';
  checkpointable = false;
  /** How the attempt ends besides its task's own end: back to the queue to start over, or abandoned by a drain. */
  ending: 'requeue' | 'abandon' | null = null;
  /** Lets the task's thread delete it: once the result is posted (or will never be from here). */
  releaseTask?: () => void;
  /** The attempt's pipeline (set by the consumer); it may outlive the processor that started it. */
  finished?: Promise<JobResult>;
  /** Stops the consumer's own renewal of the lock (jobs BullMQ may not track). */
  keeping?: () => void;
  private task?: AttemptTask;
  private stopAsked?: StopReason;
  private preemptReq?: PreemptRequest;
  private reowned: { resolve(): void; reject(e: unknown): void }[] = [];
  private detachedNow: (() => void)[] = [];

  constructor(
    readonly job: Job,
    readonly lock: JobLock,
    public owner: AttemptOwner,
    /** Aborted by BullMQ's worker.cancelJob. */
    readonly signal?: AbortSignal,
  ) {
    this.jobId = job.id!;
    this.attempt = job.attemptsMade;
  }

  /**
   * The job left the active list (a stalled check put it back in the queue while Redis was away): the
   * processor lets go (see whenDetached) and this resolves once the job is given to this node again.
   */
  async detach(): Promise<void> {
    this.owner = 'detached';
    for (const f of this.detachedNow.splice(0)) f();
    await new Promise<void>((resolve, reject) => this.reowned.push({ resolve, reject }));
  }

  /** A detached attempt whose job ended elsewhere (finished, removed, or another node's now): stop waiting. */
  giveUp(e: unknown): void {
    for (const w of this.reowned.splice(0)) w.reject(e);
  }

  /** Resolves the next time the attempt is detached. */
  whenDetached(): Promise<void> {
    return new Promise<void>((resolve) => this.detachedNow.push(resolve));
  }

  /** The job was given to this node again (a new take of its processor, or a handoff): go on under `token`. */
  reown(token: string, owner: Exclude<AttemptOwner, 'detached'>): void {
    this.lock.token = token;
    this.owner = owner;
    for (const w of this.reowned.splice(0)) w.resolve();
  }

  /** The lock token the attempt runs under. */
  get token(): string {
    return this.lock.token;
  }

  /** True once the pool owns the attempt's task. */
  get running(): boolean {
    return this.task !== undefined;
  }

  /** The task, once running; ERR_FAILED_PRECONDITION before. */
  get runningTask(): AttemptTask {
    if (!this.task) throw errors.failedPrecondition(`job ${this.jobId} has not started on this node yet`, { jobId: this.jobId });
    return this.task;
  }

  /** Binds the task the pool now owns; a stop asked for before it started is passed on. */
  bind(task: AttemptTask): void {
    this.task = task;
    if (this.stopAsked) task.stop(this.stopAsked);
  }

  /** Forgets the task (it ended). */
  unbind(): void {
    this.task = undefined;
  }

  /** Stops the task (TERM, grace, KILL; KILL at once for a lost lock), now or as soon as it starts. */
  stop(reason: StopReason): void {
    if (this.stopAsked && !(reason === 'lock-lost' && this.stopAsked !== 'lock-lost')) return;
    this.stopAsked = reason;
    this.task?.stop(reason);
  }

  /** The stop asked for, if any. */
  get stopReason(): StopReason | undefined {
    return this.stopAsked;
  }

  /** Stops the task and sends the job back to the queue to start over (drain policy 'requeue'). */
  requeue(): void {
    this.ending = 'requeue';
    this.stop('shutdown');
  }

  /** Stops the task and sends the job back keeping its resume marker (a drain's timeout or second signal). */
  abandon(): void {
    this.ending ??= 'abandon';
    this.stop('shutdown');
  }

  /**
   * Asks the task's thread to checkpoint it into the store and end it; resolves to the checkpoint once
   * the job is back in the queue (settle stage), rejects when the checkpoint failed or the task ended first.
   */
  preempt(o: { to?: string; reason: 'migrate' | 'drain'; timeoutMs: number; requestId: string }): Promise<TaskCheckpoint> {
    if (this.preemptReq) return Promise.reject(errors.failedPrecondition(`job ${this.jobId} is already being checkpointed`, { jobId: this.jobId }));
    const task = this.runningTask;
    return new Promise<TaskCheckpoint>((resolve, reject) => {
      const timer = setTimeout(() => {
        if (this.preemptReq?.requestId !== o.requestId) return;
        this.preemptReq = undefined;
        reject(errors.unavailable(`job ${this.jobId} was not checkpointed within ${o.timeoutMs} ms`, { jobId: this.jobId }));
      }, o.timeoutMs);
      const done = <T>(f: (v: T) => void) => (v: T) => {
        clearTimeout(timer);
        f(v);
      };
      this.preemptReq = { requestId: o.requestId, to: o.to ?? null, reason: o.reason, resolve: done(resolve), reject: done(reject) };
      task.preempt(o.reason, o.requestId);
    });
  }

  /** The node a preempted attempt is handed to (migrate --to), or null. */
  get preemptTarget(): string | null {
    return this.preemptReq?.to ?? null;
  }

  /** The task's checkpoint for a preempt failed: the request is answered, the task keeps running. */
  checkpointFailed(requestId: string | undefined, message: string): void {
    const req = this.preemptReq;
    if (!req || (requestId && requestId !== req.requestId)) return;
    this.preemptReq = undefined;
    req.reject(errors.checkpoint(`checkpoint of job ${this.jobId} failed: ${message}`, { jobId: this.jobId }));
  }

  /** The task ended: a preempt still waiting is refused unless the task ended by its checkpoint. */
  ended(outcome: TaskOutcome): void {
    const req = this.preemptReq;
    if (req && !outcome.preempted) {
      this.preemptReq = undefined;
      req.reject(errors.failedPrecondition(`job ${this.jobId} ended (${outcome.cause}) before it could be checkpointed`, { jobId: this.jobId }));
    }
  }

  /** The task ended by its final checkpoint, but the job could not be handed on from here: the request gets `e`. */
  handOffFailed(e: unknown): void {
    const req = this.preemptReq;
    this.preemptReq = undefined;
    req?.reject(e);
  }

  /** The job is back in the queue with its final checkpoint: the preempt request is answered. */
  handedBack(ck: TaskCheckpoint): void {
    const req = this.preemptReq;
    this.preemptReq = undefined;
    req?.resolve(ck);
  }
}
