/**
 * The Task façade (containerd pkg/process Init): every mutating method takes the task's lock,
 * re-reads the record, derives the current status from disk and runc, and hands the call to that
 * status' state object. Reads (state, wait, logs) take no lock. A Task object holds no truth of
 * its own: every process that opens the same task sees the same status.
 */
import path from 'node:path';
import { readLog } from '../monitor/log.js';
import { readExit, waitExit, type MonitorExit } from '../monitor/exit-file.js';
import { errors, hasCode } from '../errors.js';
import { taskLockFile, type RuntimeContext } from './context.js';
import { openExec } from './exec-process.js';
import { TaskOps } from './init-ops.js';
import { initState, type InitState } from './init-state.js';
import type { TaskPaths } from './layout.js';
import { withLock } from './lock.js';
import { readTaskRecord, type TaskRecord } from './records.js';
import { exitFrom, SIGKILL_STATUS } from './observe.js';
import { checkpointImagePresent, defaultProbes, observeTask, type ObserveProbes, type TaskObservation } from './task-facts.js';
import type {
  CheckpointOptions,
  CheckpointResult,
  ConsoleSize,
  ExecOpts,
  ExecProcess,
  Exit,
  LaunchFacts,
  LogEntry,
  LogOptions,
  ProcessInfo,
  Resources,
  State,
  Task,
  TaskInfo,
  TaskStats,
} from './task.js';

/** A task, re-opened from its directory or just created (TaskProcess.created). */
export class TaskProcess implements Task {
  private deleted = false;
  private launch: LaunchFacts | undefined;

  /** The task `rec` describes, just created by the caller (create, adoption): its launch facts are known. */
  static created(ctx: RuntimeContext, rec: TaskRecord, p: TaskPaths): TaskProcess {
    const t = new TaskProcess(ctx, rec, p);
    t.launch = { pid: rec.pid ?? 0, ...(rec.prepared ? { prepared: rec.prepared.waited ? { waited: true } : {} } : {}) };
    return t;
  }

  constructor(
    private readonly ctx: RuntimeContext,
    private rec: TaskRecord,
    private readonly p: TaskPaths,
    /** How the status facts are read (unit tests pass a fake monitor's). */
    private readonly probes: ObserveProbes = defaultProbes(ctx),
  ) {}

  get id(): string {
    return this.rec.info.id;
  }
  get info(): TaskInfo {
    return this.rec.process ? { ...this.rec.info, process: this.rec.process } : this.rec.info;
  }
  namespace(): string {
    return this.rec.info.namespace;
  }

  /** Reloads the record; undefined once the task's directory is gone. */
  private async reload(): Promise<TaskRecord | undefined> {
    const rec = this.deleted ? undefined : await readTaskRecord(this.p.record);
    if (rec) this.rec = rec;
    else this.deleted = true;
    return rec;
  }

  /** Runs `fn` under the task lock with the current state object. */
  private locked<T>(fn: (s: InitState, o: TaskObservation | undefined) => Promise<T>): Promise<T> {
    return withLock(taskLockFile(this.ctx, this.namespace(), this.id), async () => {
      const rec = await this.reload();
      if (!rec) return fn(initState('deleted', new TaskOps(this.ctx, this.rec, this.p)), undefined);
      const obs = await observeTask(this.ctx, rec, this.p, this.probes);
      return fn(initState(obs.status, new TaskOps(this.ctx, rec, this.p)), obs);
    });
  }

  private async observe(): Promise<TaskObservation | undefined> {
    const rec = await this.reload();
    return rec ? observeTask(this.ctx, rec, this.p, this.probes) : undefined;
  }

  async state(): Promise<State> {
    const o = await this.observe();
    const stdio = this.rec.stdin || this.rec.terminal ? path.join(this.p.bundle, 'attach') : '';
    const base = { id: this.id, stdin: stdio, stdout: this.p.log, stderr: this.p.log, terminal: this.rec.terminal };
    if (!o) return { ...base, status: 'deleted', pid: 0 };
    return {
      ...base,
      status: o.status,
      pid: o.status === 'stopped' ? (o.exit?.pid ?? o.pid) : o.pid,
      ...(o.exit ? { exitStatus: o.exit.status, exitedAt: o.exit.exitedAt, exit: o.exit } : {}),
    };
  }

  launched(): LaunchFacts | undefined {
    return this.launch;
  }

  async pid(): Promise<number> {
    return (await this.observe())?.pid ?? 0;
  }

  start(): Promise<void> {
    return this.locked((s) => s.start());
  }
  kill(signal: number | string, opts: { all?: boolean } = {}): Promise<void> {
    return this.locked((s) => s.kill(signal, opts.all ?? false));
  }
  pause(): Promise<void> {
    return this.locked((s) => s.pause());
  }
  resume(): Promise<void> {
    return this.locked((s) => s.resume());
  }
  exec(id: string, opts: ExecOpts): Promise<ExecProcess> {
    return this.locked((s) => s.exec(id, opts));
  }
  pids(): Promise<ProcessInfo[]> {
    return this.locked((s) => s.pids());
  }
  stats(): Promise<TaskStats> {
    return this.locked((s) => s.stats());
  }
  update(resources: Resources, annotations?: Record<string, string>): Promise<void> {
    return this.locked((s) => s.update(resources, annotations));
  }
  checkpoint(dir: string, opts: CheckpointOptions = {}): Promise<CheckpointResult> {
    return this.locked((s) => s.checkpoint(dir, opts));
  }
  resizePty(size: ConsoleSize): Promise<void> {
    return this.locked((s) => s.resizePty(size));
  }
  closeIO(): Promise<void> {
    return this.locked((s) => s.closeIO());
  }
  writeStdin(data: string | Uint8Array): Promise<void> {
    return this.locked((s) => s.writeStdin(data));
  }

  async delete(): Promise<Exit | undefined> {
    const exit = await this.locked(async (s, o) => {
      const recorded = await s.delete();
      // The exit observed before deleting keeps its reason (checkpointed, oom…); a created task
      // has none until delete() killed it.
      return o?.exit ?? recorded;
    });
    this.deleted = true;
    return exit;
  }

  async process(id: string): Promise<ExecProcess> {
    if (!(await this.reload())) throw errors.notFound(`task ${this.id} was deleted`);
    return openExec(this.ctx, this.rec, this.p, id);
  }

  /**
   * Resolves with the exit once the task stops; works in any process, also after the fact. Once the
   * monitor's exit file exists the Exit is built from it directly (no `runc state` on that path).
   */
  async wait(signal?: AbortSignal): Promise<Exit> {
    for (;;) {
      if (signal?.aborted) throw errors.unavailable(`wait for task ${this.id} was aborted`, { aborted: true });
      const rec = await this.reload();
      if (!rec) throw errors.notFound(`task ${this.id} was deleted while waiting for it`);
      const recorded = await readExit(this.p.runDir);
      if (recorded) return this.exitOf(recorded);
      const o = await observeTask(this.ctx, rec, this.p, this.probes);
      if (o.status === 'stopped' && o.exit) return o.exit;
      try {
        return this.exitOf(await waitExit(this.p.runDir, signal));
      } catch (e) {
        if (hasCode(e) && (e as { details?: { monitorLost?: boolean } }).details?.monitorLost) continue;
        if (signal?.aborted) throw errors.unavailable(`wait for task ${this.id} was aborted`, { aborted: true });
        throw e;
      }
    }
  }

  /** The Exit of a recorded exit (reason 'checkpointed' for a SIGKILL after a checkpoint dump). */
  private async exitOf(x: MonitorExit): Promise<Exit> {
    const checkpointed = x.status === SIGKILL_STATUS && (await checkpointImagePresent(this.p));
    return exitFrom(x, this.rec.pid ?? 0, checkpointed);
  }

  /** The task's log (k8s-file); with `follow`, keeps reading until the task stops. */
  async *logs(opts: LogOptions = {}): AsyncIterable<LogEntry> {
    const isDone = async () => {
      const s = (await this.observe().catch(() => undefined))?.status;
      return s === undefined || s === 'stopped';
    };
    for await (const e of readLog(this.p.log, { follow: opts.follow, signal: opts.signal, fromOffset: opts.fromOffset, isDone })) {
      yield { time: e.time, stream: e.stream, data: e.data, partial: e.partial };
    }
  }
}
