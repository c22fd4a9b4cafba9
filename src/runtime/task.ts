/**
 * The seed contract (containerd's runtime Task/Process/ExecProcess, ../shared/seeds/task.go) as
 * TypeScript types. Everything here is plain data or an interface; implementations live next door.
 * Times are ISO 8601 strings so values cross threads and processes unchanged.
 */
import type { Limits, NetworkMode, OciSpec } from '../sandbox/types.js';

/** Status is the runtime status of a task or process. */
export type Status = 'created' | 'running' | 'pausing' | 'paused' | 'stopped' | 'deleted';

/** Why a process stopped, as far as the runtime can tell. */
export type ExitReason =
  | 'exited' //   the process ended on its own or by a signal (see `signal`)
  | 'oom' //      the kernel OOM-killed it inside its memory limit
  | 'checkpointed' // it was checkpointed without --leave-running
  | 'timeout' //  conmon's own timeout (-T) fired
  | 'lost'; //    its monitor died before recording an exit; status is unknown (255)

/** How a process ended. Only meaningful once status is 'stopped'. */
export interface Exit {
  pid: number;
  /** Exit status as a shell reports it: the code, or 128 + signal number. */
  status: number;
  /** Signal name when the process died by a signal (status > 128), e.g. 'SIGKILL'. */
  signal: string | null;
  /** When it exited (ISO 8601, from the monitor's exit file). */
  exitedAt: string;
  reason: ExitReason;
}

/** TaskInfo provides task specific information. */
export interface TaskInfo {
  id: string;
  /** Tenant namespace; ids are unique within a namespace. */
  namespace: string;
  /** Runtime name and binary, e.g. 'io.stasis.runc' and '/usr/sbin/runc'. */
  runtime: { name: string; path: string };
  /** The generated OCI runtime spec (config.json), as a plain object. */
  spec: OciSpec;
  /** The bundle directory (config.json + rootfs). */
  bundle: string;
  /** The runc container id (derived from namespace and id). */
  containerId: string;
  createdAt: string;
  annotations: Record<string, string>;
  /** Set when the task was restored from a checkpoint image. */
  restoredFrom?: string;
  /**
   * The job's own process (argv, env, cwd, user) as its launch script runs it. `spec.process` is the
   * launcher every container starts (sandbox/launcher.ts).
   */
  process?: ProcessSpec;
}

/** State information for a process (seed `State`). */
export interface State {
  id: string;
  status: Status;
  /** Main process pid on the host; 0 when none. */
  pid: number;
  /** Only valid when status is 'stopped'. */
  exitStatus?: number;
  /** Only valid when status is 'stopped'. */
  exitedAt?: string;
  /** Paths of the process' stdio as seen by the monitor (stdout/stderr both land in one k8s-file log). */
  stdin: string;
  stdout: string;
  stderr: string;
  terminal: boolean;
  /** The full exit once stopped. */
  exit?: Exit;
}

/** ConsoleSize of a pty. */
export interface ConsoleSize {
  width: number;
  height: number;
}

/** Details of one process inside a task, from `runc ps` and /proc/PID. */
export interface ProcessDetails {
  ppid: number;
  /** One-letter state from /proc/PID/stat (R, S, D, Z, T…). */
  state: string;
  comm: string;
  args: string[];
  /** Resident set size in bytes. */
  rssBytes: number;
  /** user + system CPU time in milliseconds. */
  cpuMs: number;
  /** Set when this pid belongs to an exec process of the task. */
  execId?: string;
}

/** ProcessInfo holds process information (seed `ProcessInfo`; `info` is ProcessDetails here). */
export interface ProcessInfo {
  pid: number;
  info: ProcessDetails;
}

/** The process part of a spec: what to run and as whom. */
export interface ProcessSpec {
  args: string[];
  env?: string[];
  cwd?: string;
  user?: { uid: number; gid: number; additionalGids?: number[] };
  terminal?: boolean;
  consoleSize?: ConsoleSize;
}

/** ExecOpts provides options for additional processes running in a task (seed `ExecOpts`). */
export interface ExecOpts extends ProcessSpec {
  /** Keep a stdin pipe open to the process (write with writeStdin, end with closeIO). */
  stdin?: boolean;
}

/** Resources that `update` may change on a running task (seed `Update`). */
export interface Resources {
  memoryBytes?: number;
  /** Swap limit including memory (memory.memsw); defaults to memoryBytes (no swap). */
  memorySwapBytes?: number;
  /** CPU limit as a number of CPUs (0.5 = half a CPU): quota/period. */
  cpus?: number;
  cpuShares?: number;
  pids?: number;
}

export type { CheckpointOptions } from './checkpoint-options.js';
import type { CheckpointOptions } from './checkpoint-options.js';

/** What a checkpoint produced. Layout of `path`: see CHECKPOINT_LAYOUT. */
export interface CheckpointResult {
  path: string;
  /** CRIU's log of this dump. */
  criuLog: string;
  /** Wall time of `runc checkpoint` itself, ms. */
  dumpMs: number;
  leaveRunning: boolean;
  createdAt: string;
}

/** Metadata written next to a checkpoint image (checkpoint.json). */
export interface CheckpointMeta {
  version: 1;
  taskId: string;
  namespace: string;
  /** The read-only lower rootfs the task ran on. */
  rootfs: string;
  terminal: boolean;
  leaveRunning: boolean;
  createdAt: string;
  /** False when the diff was not asked for, or the upper layer held only the mountpoints runc makes again. */
  hasRootfsDiff: boolean;
  limits: Limits;
  network: NetworkMode;
  annotations: Record<string, string>;
}

/** Normalized stats of a task (seed `Stats`), from `runc events --stats`. */
export interface TaskStats {
  id: string;
  readAt: string;
  cpu: { usageNs: number; userNs: number; kernelNs: number; throttledPeriods: number; throttledTimeNs: number };
  memory: { usageBytes: number; maxUsageBytes: number; limitBytes: number; failcnt: number; rssBytes: number; cacheBytes: number };
  pids: { current: number; limit: number };
  /** runc's `data` object as is. */
  raw: unknown;
}

export type { LogEntry } from '../monitor/log.js';
import type { LogEntry } from '../monitor/log.js';

/** Options to read logs. */
export interface LogOptions {
  /** Keep reading until the process exits (or the signal aborts). */
  follow?: boolean;
  signal?: AbortSignal;
  /** Start reading at this byte offset of the log file. */
  fromOffset?: number;
}

/** Process is a runtime object for an executing process inside a container (seed `Process`). */
export interface Process {
  readonly id: string;
  state(): Promise<State>;
  /** Signals the process; `all` signals every process of the task (`runc kill --all`). */
  kill(signal: number | string, opts?: { all?: boolean }): Promise<void>;
  resizePty(size: ConsoleSize): Promise<void>;
  /** Closes the process' stdin. */
  closeIO(): Promise<void>;
  /** Writes to the process' stdin (it must have been created with stdin open). */
  writeStdin(data: string | Uint8Array): Promise<void>;
  start(): Promise<void>;
  /** Resolves once the process has stopped. Rejects with ERR_UNAVAILABLE if `signal` aborts. */
  wait(signal?: AbortSignal): Promise<Exit>;
  /** Reads the process' log (stdout and stderr interleaved as the monitor saw them). */
  logs(opts?: LogOptions): AsyncIterable<LogEntry>;
}

/** ExecProcess is a process spawned in a container via Task.exec (seed `ExecProcess`). */
export interface ExecProcess extends Process {
  /** Removes a stopped exec process and returns its exit. */
  delete(): Promise<Exit>;
}

/** Task is the runtime object for an executing container (seed `Task`). */
export interface Task extends Process {
  readonly info: TaskInfo;
  pid(): Promise<number>;
  namespace(): string;
  /** Freezes the task; state reports 'pausing' while the freeze is in flight. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  exec(id: string, opts: ExecOpts): Promise<ExecProcess>;
  pids(): Promise<ProcessInfo[]>;
  /** Checkpoints the task into `path` (created; must not hold a previous image). */
  checkpoint(path: string, opts?: CheckpointOptions): Promise<CheckpointResult>;
  update(resources: Resources, annotations?: Record<string, string>): Promise<void>;
  /** Returns an exec process of this task by id. */
  process(id: string): Promise<ExecProcess>;
  stats(): Promise<TaskStats>;
  /** Deletes a stopped (or created) task: runc delete, unmount, remove its directory. */
  delete(): Promise<Exit | undefined>;
  /**
   * What this object recorded when it created the task: the container's pid and the prepared sandbox
   * it adopted, known without observing anything; undefined for a task opened from its directory.
   */
  launched?(): LaunchFacts | undefined;
}

/** The facts of a task's launch its creator holds (Task.launched). */
export interface LaunchFacts {
  pid: number;
  /** Set when the task adopted a prepared sandbox (waited: one still being prepared). */
  prepared?: { waited?: boolean };
}

/** Options to create a task. */
export interface CreateTaskOptions {
  id: string;
  namespace?: string;
  /** Read-only lower rootfs directory; the task writes to its own overlay above it. */
  rootfs: string;
  process: ProcessSpec;
  limits?: Limits;
  network?: NetworkMode;
  annotations?: Record<string, string>;
  /** Keep a stdin pipe open (conmon -i). */
  stdin?: boolean;
  /** Kill the task after this many seconds, enforced by the monitor (conmon -T), outside Node. */
  timeoutSeconds?: number;
  /** Hostname inside the task (default: the id). */
  hostname?: string;
  /** Cap of the task's log file on disk (conmon --log-size-max; on overflow the log starts over). */
  logMaxBytes?: number;
  /** The rootfs is already owned by the node's mapped ids (an image unpacked for its user namespace): no shifted copy. */
  rootfsMapped?: boolean;
  /** RLIMIT_CPU of the job's processes, seconds (a backstop of a CPU-time limit watched on the cgroup). */
  cpuSeconds?: number;
}

/** Options to restore a task from a checkpoint directory written by Task.checkpoint. */
export interface RestoreTaskOptions {
  /** New task id (may equal the checkpointed task's id once that task was deleted or checkpointed). */
  id: string;
  namespace?: string;
  /** The checkpoint directory (CHECKPOINT_LAYOUT). */
  from: string;
  /** Override the lower rootfs (default: the one recorded in checkpoint.json). */
  rootfs?: string;
  /** The rootfs is already owned by the node's mapped ids (an unpacked image). */
  rootfsMapped?: boolean;
  annotations?: Record<string, string>;
  timeoutSeconds?: number;
  /**
   * Awaited after the task dir, its mounts and spec are ready and before CRIU reads the images
   * (e.g. the checkpoint's verification, run meanwhile): a rejection undoes the restore and is
   * thrown as it is.
   */
  gate?: Promise<void>;
  /**
   * Awaited once the restored task runs and before restore() returns it (e.g. the verification of
   * the page contents): a rejection kills and removes the task and is thrown as it is. A function is
   * called only then, once CRIU's restore is over, so that work it starts (hashing the page files)
   * does not take the CPU CRIU needs while the task is down.
   */
  release?: Promise<void> | (() => Promise<void>);
}

/** A task as listed: its info plus current state. */
export interface TaskSummary {
  info: TaskInfo;
  state: State;
}

/** What recover() found and did after a runtime restart. */
export interface RecoveryReport {
  running: string[];
  /** Tasks that exited while no runtime process watched them (their exits are on disk). */
  exited: string[];
  /** Half-launched tasks that were cleaned up. */
  cleaned: string[];
  /** Tasks whose monitor died without an exit record. */
  lost: string[];
}

/** TaskManager creates, restores and re-opens tasks from the state directory (one per process). */
export interface TaskManager {
  create(opts: CreateTaskOptions): Promise<Task>;
  restore(opts: RestoreTaskOptions): Promise<Task>;
  /** Re-opens an existing task from disk. ERR_NOT_FOUND when there is none. */
  get(id: string, namespace?: string): Promise<Task>;
  list(namespace?: string): Promise<TaskSummary[]>;
  /** Scans the state directory after a restart: reports exits, cleans half-launched tasks. */
  recover(): Promise<RecoveryReport>;
  /**
   * Lets go of what this manager keeps ready (monitors waiting for restores) and waits for the
   * prepared sandboxes under way (it prepares no more); tasks and ready sandboxes are not touched.
   */
  close(): Promise<void>;
}

/** The namespace used when none is given. */
export const DEFAULT_NAMESPACE = 'default';
