/**
 * Control calls on a running task, as plain data: what the main thread asks the worker thread that
 * owns a task to do (pause, resume, kill, exec, ps, stats, update, resize, checkpoint), and what each
 * answers. The zod schemas validate calls at the edges (Redis messages, CLI); the thread trusts them.
 *
 * Extension point: a new verb that the owning THREAD must carry out is a new member of TaskCallSchema
 * plus a case in src/pool/worker/control.ts. A verb the NODE carries out (e.g. 'migrate': checkpoint,
 * then hand the job back to the queue) does not belong here: register it on the node's ControlServer
 * (src/queue/control.ts, `server.register(verb, …)`), which can issue these calls itself.
 */
import { z } from 'zod';
import { CheckpointOptionsSchema } from '../runtime/checkpoint-options.js';
import type { CheckpointResult, ProcessInfo, Status, TaskStats } from '../runtime/task.js';

const signal = z.union([z.string().regex(/^(SIG)?[A-Za-z0-9+-]+$/), z.number().int().min(1).max(64)]);
const positiveInt = z.number().int().positive().max(Number.MAX_SAFE_INTEGER);

/** Arguments of 'kill': a signal (name or number; default SIGTERM) to the main process, or to all with `all`. */
export const KillArgsSchema = z.object({ signal: signal.default('SIGTERM'), all: z.boolean().default(false) }).strict();

/** Arguments of 'exec': another process in the task; its output is collected up to `outputBytes` per stream. */
export const ExecArgsSchema = z
  .object({
    args: z.array(z.string()).min(1),
    env: z.array(z.string().regex(/^[^=]+=/, 'KEY=VALUE')).optional(),
    cwd: z.string().startsWith('/').optional(),
    user: z.object({ uid: z.number().int().min(0), gid: z.number().int().min(0) }).strict().optional(),
    tty: z.boolean().default(false),
    /** Written to the process' stdin, then closed. Without it stdin is closed at once. */
    stdin: z.string().optional(),
    /** The process is killed (SIGKILL) after this long; default 60 s. */
    timeoutMs: positiveInt.max(24 * 3600_000).default(60_000),
    outputBytes: positiveInt.max(64 << 20).default(1 << 20),
  })
  .strict();

/** Arguments of 'update': new limits (runc update). At least one field. */
export const UpdateArgsSchema = z
  .object({
    resources: z
      .object({
        memoryBytes: positiveInt.optional(),
        memorySwapBytes: positiveInt.optional(),
        cpus: z.number().positive().max(1024).optional(),
        cpuShares: z.number().int().min(2).max(262144).optional(),
        pids: positiveInt.optional(),
      })
      .strict()
      .refine((r) => Object.keys(r).length > 0, 'give at least one of memoryBytes, memorySwapBytes, cpus, cpuShares, pids'),
  })
  .strict();

/** Arguments of 'resize': the terminal size of a job started with `tty: true`. */
export const ResizeArgsSchema = z.object({ width: z.number().int().min(1).max(65535), height: z.number().int().min(1).max(65535) }).strict();

/** CRIU options of a checkpoint a caller may ask for (no incremental dumps: they need a parent on this node). */
export const CheckpointFlagsSchema = CheckpointOptionsSchema.omit({ preDump: true, parentPath: true }).extend({ leaveRunning: z.boolean().default(false) }).strict();

/** Arguments of the thread's 'checkpoint': the flags plus the directory the image goes to (absent or empty). */
export const TaskCheckpointArgsSchema = CheckpointFlagsSchema.extend({ path: z.string().startsWith('/') }).strict();

const empty = z.object({}).strict().default({});

/** One call the owning thread carries out on its task. */
export const TaskCallSchema = z.discriminatedUnion('verb', [
  z.object({ verb: z.literal('pause'), args: empty }),
  z.object({ verb: z.literal('resume'), args: empty }),
  z.object({ verb: z.literal('kill'), args: KillArgsSchema }),
  z.object({ verb: z.literal('exec'), args: ExecArgsSchema }),
  z.object({ verb: z.literal('ps'), args: empty }),
  z.object({ verb: z.literal('stats'), args: empty }),
  z.object({ verb: z.literal('update'), args: UpdateArgsSchema }),
  z.object({ verb: z.literal('resize'), args: ResizeArgsSchema }),
  z.object({ verb: z.literal('checkpoint'), args: TaskCheckpointArgsSchema }),
]);
/** One call the owning thread carries out on its task (validated). */
export type TaskCall = z.infer<typeof TaskCallSchema>;
/** A verb the owning thread knows. */
export type TaskVerb = TaskCall['verb'];
/** The arguments of one verb (after defaults). */
export type TaskCallArgs<V extends TaskVerb> = Extract<TaskCall, { verb: V }>['args'];
/** The arguments of one verb as a caller may give them (defaults optional). */
export type TaskCallInput<V extends TaskVerb> = Extract<z.input<typeof TaskCallSchema>, { verb: V }>['args'];

/** What an exec call ran into. */
export interface ExecCallResult {
  execId: string;
  /** Exit status (code, or 128 + signal). */
  exitStatus: number;
  signal: string | null;
  exitedAt: string;
  stdout: string;
  stderr: string;
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  /** It ran past `timeoutMs` and was killed. */
  timedOut: boolean;
}

/** Status of the task after a pause, resume or kill. */
export interface TaskStatusResult {
  status: Status;
}

/** What `ps` answers: the task's status (paused = frozen) and its processes. */
export interface PsResult {
  status: Status;
  processes: ProcessInfo[];
}

/** Stats without runc's raw object. */
export type StatsResult = Omit<TaskStats, 'raw'>;

/** What each verb answers. */
export interface TaskCallResults {
  pause: TaskStatusResult;
  resume: TaskStatusResult;
  kill: TaskStatusResult;
  exec: ExecCallResult;
  ps: PsResult;
  stats: StatsResult;
  update: StatsResult;
  resize: Record<string, never>;
  checkpoint: CheckpointResult;
}

/** Parses a call; throws the zod error (callers turn it into ERR_INVALID_ARGUMENT). */
export function parseTaskCall(v: unknown): TaskCall {
  return TaskCallSchema.parse(v);
}
