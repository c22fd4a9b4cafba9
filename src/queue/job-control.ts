/**
 * Control of running jobs for producer applications (`client.control`): pause, resume, kill, exec,
 * ps, stats, update, resize and checkpoint a job from any process that reaches its Redis. The job's
 * state and owning node come from BullMQ (state 'active', progress.nodeId); the request goes to that
 * node over control-client.ts, which carries it out on the job's task and answers.
 */
import { Job, type Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { errors } from '../errors.js';
import type {
  ExecCallResult,
  PsResult,
  StatsResult,
  TaskCallInput,
  TaskStatusResult,
} from '../pool/control-verbs.js';
import type { QueueRef } from './cancel.js';
import type { CheckpointRequestArgs, ControlCheckpointResult } from './control.js';
import { sendControl, type ControlTimeouts } from './control-client.js';

/** Where a running job is. */
export interface JobLocation {
  jobId: string;
  nodeId: string;
  taskId: string | null;
}

/** Options of exec(): the exec arguments without the command (`timeoutMs` kills the process; default 60 s). */
export type ExecOptions = Omit<NonNullable<TaskCallInput<'exec'>>, 'args'> & Pick<ControlTimeouts, 'ackTimeoutMs'>;

const CHECKPOINT_TIMEOUT_MS = 10 * 60_000;

function describeState(state: string): string {
  switch (state) {
    case 'completed':
      return 'has already completed';
    case 'failed':
      return 'has failed';
    case 'waiting':
    case 'prioritized':
    case 'waiting-children':
      return 'is waiting and has not started';
    case 'delayed':
      return 'is delayed and has not started';
    default:
      return `is ${state}`;
  }
}

/** Control of the running jobs of one queue. */
export class JobControl {
  constructor(
    private readonly queue: Queue,
    private readonly ref: QueueRef,
    private readonly redis: () => Promise<Redis>,
  ) {}

  /**
   * The node running `jobId`. ERR_NOT_FOUND for an unknown job; ERR_FAILED_PRECONDITION (naming its
   * state) when it is not running: waiting, delayed, completed, failed, or active but not started yet.
   */
  async locate(jobId: string): Promise<JobLocation> {
    const job = await Job.fromId(this.queue, jobId);
    if (!job) throw errors.notFound(`no job ${jobId} in queue ${this.ref.queue}`, { jobId, queue: this.ref.queue });
    const state = await job.getState();
    if (state !== 'active') {
      throw errors.failedPrecondition(`job ${jobId} ${describeState(state)}; only a running job can be controlled`, { jobId, state });
    }
    const p = (typeof job.progress === 'object' && job.progress !== null ? job.progress : {}) as { nodeId?: unknown; taskId?: unknown };
    if (typeof p.nodeId !== 'string' || p.nodeId === '') {
      throw errors.failedPrecondition(`job ${jobId} is active but its container has not started yet; try again in a moment`, { jobId, state });
    }
    return { jobId, nodeId: p.nodeId, taskId: typeof p.taskId === 'string' ? p.taskId : null };
  }

  /** Sends any verb (including ones a node registered, e.g. 'migrate') and resolves to the node's answer. */
  async send(jobId: string, verb: string, args: Record<string, unknown> = {}, t: ControlTimeouts = {}): Promise<unknown> {
    const at = await this.locate(jobId);
    return sendControl(await this.redis(), this.ref, { nodeId: at.nodeId, jobId, verb, args }, t);
  }

  /** Freezes the job's processes (runc pause); its wall-clock timeout keeps running. */
  async pause(jobId: string, t?: ControlTimeouts): Promise<TaskStatusResult> {
    return (await this.send(jobId, 'pause', {}, t)) as TaskStatusResult;
  }

  /** Thaws a paused job. */
  async resume(jobId: string, t?: ControlTimeouts): Promise<TaskStatusResult> {
    return (await this.send(jobId, 'resume', {}, t)) as TaskStatusResult;
  }

  /** Sends a signal (default SIGTERM) to the job's main process, or to all its processes with `all`. */
  async kill(jobId: string, o: TaskCallInput<'kill'> & ControlTimeouts = {}): Promise<TaskStatusResult> {
    const { ackTimeoutMs, timeoutMs, ...args } = o;
    return (await this.send(jobId, 'kill', args, { ackTimeoutMs, timeoutMs })) as TaskStatusResult;
  }

  /** Runs `command` inside the job's container and resolves to its exit status and (capped) output. */
  async exec(jobId: string, command: string[], o: ExecOptions = {}): Promise<ExecCallResult> {
    const { ackTimeoutMs, ...rest } = o;
    const args = { ...rest, args: command };
    return (await this.send(jobId, 'exec', args, { ackTimeoutMs, timeoutMs: (rest.timeoutMs ?? 60_000) + 15_000 })) as ExecCallResult;
  }

  /** The job's status ('paused' when frozen) and its processes with details from /proc. */
  async ps(jobId: string, t?: ControlTimeouts): Promise<PsResult> {
    return (await this.send(jobId, 'ps', {}, t)) as PsResult;
  }

  /** CPU, memory and pids usage and limits of the job's container. */
  async stats(jobId: string, t?: ControlTimeouts): Promise<StatsResult> {
    return (await this.send(jobId, 'stats', {}, t)) as StatsResult;
  }

  /** Changes the job's limits in place (runc update); resolves to the stats read afterwards. */
  async update(jobId: string, resources: NonNullable<TaskCallInput<'update'>>['resources'], t?: ControlTimeouts): Promise<StatsResult> {
    return (await this.send(jobId, 'update', { resources }, t)) as StatsResult;
  }

  /** Resizes the terminal of a job submitted with `tty: true`. */
  async resize(jobId: string, size: { width: number; height: number }, t?: ControlTimeouts): Promise<Record<string, never>> {
    return (await this.send(jobId, 'resize', size, t)) as Record<string, never>;
  }

  /**
   * Checkpoints the job (CRIU). With `leaveRunning` it keeps running and the image goes to `image` (a
   * directory on the node) or to the node's checkpoint store. Without it the node refuses
   * (ERR_FAILED_PRECONDITION): moving a job is `migrate`.
   */
  async checkpoint(jobId: string, o: CheckpointRequestArgs & ControlTimeouts = {}): Promise<ControlCheckpointResult> {
    const { ackTimeoutMs, timeoutMs, ...args } = o;
    return (await this.send(jobId, 'checkpoint', args, { ackTimeoutMs, timeoutMs: timeoutMs ?? CHECKPOINT_TIMEOUT_MS })) as ControlCheckpointResult;
  }
}
