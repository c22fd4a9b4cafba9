/**
 * The protocol between the main thread and the task worker threads. Only plain data crosses it
 * (strings, numbers, booleans, arrays, plain objects; times as ISO 8601; errors as ErrorData).
 *
 * A request is one piscina task. `run` and `attach` carry a MessagePort (in the transfer list) that
 * stays open for the task's life: the worker reports `started`, `log` and `stats` events on it, the
 * main thread sends `stop` requests on it. A running piscina task is NEVER aborted through piscina
 * (that would terminate the worker thread and every other task it owns); stopping goes over the port.
 */
import type { MessagePort } from 'node:worker_threads';
import type { ErrorData } from '../errors.js';
import type { RuntimeConfig } from '../config/schema.js';
import type { Exit } from '../runtime/task.js';
import type { WarmUse } from '../runtime/warm/adopt-slot.js';
import type { NetworkMode } from '../sandbox/types.js';
import type { TaskCall } from './control-verbs.js';

/** What to run: a task spec the worker turns into CreateTaskOptions (limits already under the node policy). */
export interface RunSpec {
  taskId: string;
  namespace: string;
  /** The rootfs' real path (resolved and allowed by the node policy, or the node's unpacked image). */
  rootfs: string;
  /** The rootfs is already owned by the node's mapped ids (an image unpacked for the node's user namespace). */
  rootfsMapped?: boolean;
  /** The image the rootfs is, when the job named one: its reference and the digest it resolved to. */
  image?: { ref: string; digest: string };
  args: string[];
  /** `KEY=VALUE` entries. */
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number };
  terminal?: boolean;
  stdin?: string;
  memoryBytes: number;
  cpus: number;
  pids: number;
  /** The writable layer's size (tmpfs) and RLIMIT_FSIZE. */
  diskBytes: number;
  /** conmon's cap of the task's log file. */
  logMaxBytes: number;
  network?: NetworkMode;
  annotations: Record<string, string>;
  /** Restore this stored checkpoint (verified first) instead of creating a fresh process. */
  restore?: RestoreSource;
}

/** A stored checkpoint a run restores from (see src/pool/worker/restore.ts). */
export interface RestoreSource {
  /** The checkpoint store's root directory. */
  dir: string;
  /** Store coordinates of the checkpoint. */
  namespace: string;
  storeJobId: string;
  seq: number;
}

/** One committed checkpoint taken by the lifecycle (plain data; mirrors the lineage's entries). */
export interface TaskCheckpoint {
  seq: number;
  path: string;
  at: string;
  nodeId: string;
  /** 'periodic', 'migrate' or 'drain'. */
  reason: string;
  namespace: string;
  storeJobId: string;
  /** Dump and commit, ms, in the owning thread (metrics; a migration's downtime starts at at − durationMs). */
  durationMs?: number;
  /** The checkpoint's size in the store. */
  bytes?: number;
}

/** Checkpointing of a job's task (from RunnerConfig and the job's policy). */
export interface CheckpointSettings {
  /** The checkpoint store's root directory. */
  dir: string;
  /** Checkpoints kept per job (prune after each commit). */
  keep: number;
  nodeId: string;
  /** The store's key of this job (sanitized job id). */
  storeJobId: string;
  /** Periodic leave-running checkpoints every this many seconds. */
  everySeconds?: number;
  /** Labels recorded in each manifest (job id, attempt, hop, the node's user-namespace mapping). */
  labels: Record<string, string>;
  /** The image digest the task runs on: the manifest's rootfs identity (else a listing of the rootfs). */
  rootfsDigest?: string;
}

/** A job's deadlines, kept by the worker thread that owns its task (also after a restore or a restart). */
export interface Deadlines {
  /** Wall clock, seconds from the job's first start: then the task is stopped (TERM, grace, KILL). */
  timeoutSeconds?: number;
  /** When the job first started (an earlier hop, ISO 8601); unset on its first run: the run's own start. */
  firstStartedAt?: string;
  /** CPU seconds of the task's cgroup: the task is stopped when its usage passes this. */
  cpuTimeSeconds?: number;
}

/** How the lifecycle behaves (from RunnerConfig and the job's effective limits). */
export interface LifecycleOptions {
  /** SIGTERM → SIGKILL on timeout, cpu-time and cancel. */
  killGraceMs: number;
  statsIntervalMs: number;
  /** Cap of stdout and of stderr each in the outcome, the streamed output and job.log. */
  outputBytes: number;
  deadlines?: Deadlines;
  /** Stream log lines over the port. */
  streamLogs: boolean;
  /** Keep the task's log file after delete (copied next to the state dir's logs). */
  keepLogs: boolean;
  /** Set when the node has a checkpoint store and the job allows checkpoints. */
  checkpoint?: CheckpointSettings;
}

/** Runtime settings every request carries, so a worker thread opens its TaskManager lazily. */
export type RuntimeSettings = RuntimeConfig;

/** Start a new task and own it until it is deleted. */
export interface RunRequest {
  kind: 'run';
  requestId: string;
  runtime: RuntimeSettings;
  spec: RunSpec;
  options: LifecycleOptions;
  port: MessagePort;
}

/** Take over an existing task (after a runner restart) and own it until it is deleted. */
export interface AttachRequest {
  kind: 'attach';
  requestId: string;
  runtime: RuntimeSettings;
  taskId: string;
  namespace: string;
  /** When the original attempt began, if known (annotation), for the outcome's startedAt. */
  startedAt?: string;
  options: LifecycleOptions;
  port: MessagePort;
}

/** Recover the runtime state dir and list every task with its annotations. */
export interface ScanRequest {
  kind: 'scan';
  requestId: string;
  runtime: RuntimeSettings;
}

/** Kill (SIGKILL) and delete a task that no job owns any more. */
export interface DiscardRequest {
  kind: 'discard';
  requestId: string;
  runtime: RuntimeSettings;
  taskId: string;
  namespace: string;
}

/** Every request a worker thread accepts. */
export type PoolRequest = RunRequest | AttachRequest | ScanRequest | DiscardRequest;

/** Why a task's process stopped, as the lifecycle saw it (one enum with the envelope's JobReason). */
export type StopCause = 'exited' | 'oom' | 'timeout' | 'cpu-time' | 'cancelled' | 'failed-to-start' | 'lost' | 'preempted';

/** What a task used and wrote: its usage, its capped output and where its whole log is kept. */
export interface TaskOutput {
  /** user + system CPU time of the container's cgroup, ms (last sample before exit). */
  cpuMs: number;
  /** Peak memory usage of the container's cgroup (memory max usage), bytes. */
  peakMemoryBytes: number;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** The full log (k8s-file format) on the node that ran it; null when empty or not kept. */
  logPath: string | null;
}

/** What a finished run/attach observed. */
export interface TaskOutcome extends TaskOutput {
  taskId: string;
  namespace: string;
  startedAt: string;
  exit: Exit;
  cause: StopCause;
  /** Set when the stop was requested with reason 'lock-lost': the main thread must not post. */
  lockLost: boolean;
  /** Checkpoints committed during this run (periodic and the final one). */
  checkpoints?: TaskCheckpoint[];
  /** Set when the task ended by a checkpoint (migrate/drain): hand the job back with it. */
  preempted?: TaskCheckpoint;
}

/** One task as found by a scan. */
export interface ScannedTask {
  taskId: string;
  namespace: string;
  status: string;
  annotations: Record<string, string>;
  createdAt: string;
}

/** Result of a scan. */
export interface ScanResult {
  tasks: ScannedTask[];
  running: string[];
  exited: string[];
  cleaned: string[];
  lost: string[];
}

/** The value a piscina task resolves to (errors travel as data, never as thrown objects). */
export type PoolResponse<T> = { ok: true; value: T } | { ok: false; error: ErrorData };

/** Events from the worker on a task's port. */
export type TaskEvent =
  | {
      type: 'started';
      pid: number;
      startedAt: string;
      attached: boolean;
      /** A restored task: how long verifying and restoring its checkpoint took, ms. */
      restoreMs?: number;
      /** A task that could use a prepared sandbox: whether it adopted one (src/warm). */
      warm?: WarmUse;
    }
  /** Output in order: `data` is exact (a line keeps its newline; `partial` chunks have none). */
  | { type: 'log'; lines: { stream: 'stdout' | 'stderr'; data: string; partial: boolean }[] }
  /** Sent once when the output passed `outputBytes` on a stream: nothing more of it is read or sent. */
  | { type: 'output-truncated'; stream: 'stdout' | 'stderr' }
  | { type: 'stats'; cpuMs: number; peakMemoryBytes: number; memoryBytes: number }
  /** A checkpoint was committed to the store (periodic ones keep the task running). */
  | { type: 'checkpoint'; checkpoint: TaskCheckpoint }
  /** A checkpoint failed; the task keeps running. `requestId` names the preempt request it answers. */
  | { type: 'checkpoint-failed'; reason: string; error: ErrorData; requestId?: string }
  /** Sent once the outcome is known; the task is deleted only after the main thread's `release`
   *  (or when the port closes), and the request itself resolves (with the same outcome) after that. */
  | { type: 'outcome'; outcome: TaskOutcome }
  /** Something the thread could not do that the node's log should say (the task goes on). */
  | { type: 'warning'; message: string; error?: ErrorData }
  /** The answer to a `control` request with the same requestId (src/pool/worker/control.ts). */
  | { type: 'control-result'; requestId: string; response: PoolResponse<unknown> };

/** Why the main thread stops a task. */
export type StopReason = 'cancelled' | 'lock-lost' | 'shutdown';

/** Requests from the main thread on a task's port. */
export type TaskControl =
  | { type: 'stop'; reason: StopReason; graceMs: number }
  /** A control call (pause, exec, checkpoint, …; control-verbs.ts); answered by a `control-result`
   *  event with the same requestId. Only sent once the task's `started` event was seen. */
  | { type: 'control'; requestId: string; call: TaskCall }
  /** Checkpoint the task into the store (not leaving it running), ending it with cause 'preempted'
   *  (src/pool/worker/checkpointing.ts). A failure is answered by a `checkpoint-failed` event. */
  | { type: 'preempt'; reason: 'migrate' | 'drain'; requestId: string }
  /** The outcome was posted (or never will be from this node): the thread may delete the stopped task. */
  | { type: 'release' };

/** Annotation keys stasis writes on a job's task. */
export const JOB_ANNOTATIONS = {
  jobId: 'io.stasis.job.id',
  queue: 'io.stasis.job.queue',
  prefix: 'io.stasis.job.prefix',
  nodeId: 'io.stasis.job.node',
  attempt: 'io.stasis.job.attempt',
  token: 'io.stasis.job.token',
  startedAt: 'io.stasis.job.started-at',
  timeout: 'io.stasis.job.timeout',
  /** When the job first started, on a hop after the first (ISO 8601). */
  firstStartedAt: 'io.stasis.job.first-started-at',
  cpuTime: 'io.stasis.job.cpu-time',
  killGraceMs: 'io.stasis.job.kill-grace-ms',
  outputBytes: 'io.stasis.job.output-bytes',
  /** The lineage hop the task belongs to (a newer hop elsewhere makes it stale). */
  hop: 'io.stasis.job.hop',
  imageRef: 'io.stasis.image.ref',
  imageDigest: 'io.stasis.image.digest',
} as const;
