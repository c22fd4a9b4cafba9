/**
 * Exec processes: extra processes in a running task, each under its own conmon in exec mode, with
 * its own id, record, exit file, log and status (created → running → stopped → deleted).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { closeStdin, writeAttach } from '../monitor/attach.js';
import { resizeConsole } from '../monitor/ctl.js';
import { monitorAlive, readExit, waitExit } from '../monitor/exit-file.js';
import { launchMonitor } from '../monitor/launch.js';
import { monitorOptions } from './monitor-options.js';
import { readLog } from '../monitor/log.js';
import { errors, hasCode } from '../errors.js';
import { jobEnv } from '../sandbox/launcher.js';
import { loaderArgs, usesLoader } from '../sandbox/seccomp/loader.js';
import { taskLockFile, type RuntimeContext } from './context.js';
import { execState, type ExecOps } from './exec-state.js';
import { validateId } from './ids.js';
import { execPaths, type ExecPaths, type TaskPaths } from './layout.js';
import { withLock } from './lock.js';
import { exitFrom, LOST_STATUS } from './observe.js';
import { exists, readExecRecord, writeJsonAtomic, type ExecRecord, type TaskRecord } from './records.js';
import type { ConsoleSize, ExecOpts, ExecProcess, Exit, LogEntry, LogOptions, State, Status } from './task.js';
import { signalNumber } from '../os/signals.js';

/** The OCI process of an exec: the task's process (env, caps, rlimits, user) overridden by `o`. */
export function execProcessSpec(task: Record<string, unknown>, o: ExecOpts): Record<string, unknown> {
  if (!Array.isArray(o.args) || o.args.length === 0 || o.args.some((a) => typeof a !== 'string')) {
    throw errors.invalidArgument(`Expected \`args\` to be a non-empty list of strings, got \`${JSON.stringify(o.args)}\``, { field: 'args' });
  }
  if (o.args.some((a) => a.includes('\0')) || (o.env ?? []).some((e) => typeof e !== 'string' || e.includes('\0') || !/^[A-Za-z_][A-Za-z0-9_]*=/.test(e))) {
    throw errors.invalidArgument('Expected `args` and `env` without NUL bytes, env entries as KEY=VALUE', { field: 'args' });
  }
  if (o.cwd !== undefined && !path.isAbsolute(o.cwd)) {
    throw errors.invalidArgument(`Expected \`cwd\` to be an absolute path, got \`${o.cwd}\``, { field: 'cwd' });
  }
  const spec: Record<string, unknown> = { ...task, args: [...o.args], terminal: o.terminal ?? false };
  if (o.env) spec.env = [...o.env];
  if (o.cwd) spec.cwd = o.cwd;
  if (o.user) spec.user = { uid: o.user.uid, gid: o.user.gid, ...(o.user.additionalGids ? { additionalGids: o.user.additionalGids } : {}) };
  if (o.terminal && o.consoleSize) spec.consoleSize = { height: o.consoleSize.height, width: o.consoleSize.width };
  else delete spec.consoleSize;
  return spec;
}

/** Records a new exec process of a running task (the caller holds the task lock). */
export async function createExec(ctx: RuntimeContext, task: TaskRecord, tp: TaskPaths, id: string, o: ExecOpts): Promise<ExecProcess> {
  validateId(id, 'execId');
  const ep = execPaths(tp, id);
  // The container's process is the launcher; an exec runs in the job's environment and directory.
  const job = task.process;
  const base = job ? { ...task.info.spec.process, env: jobEnv(job), cwd: job.cwd ?? '/' } : task.info.spec.process;
  const spec = execProcessSpec(base, o);
  // A task whose filter the loader loaded has none in runc's config: its execs load it the same way.
  if (usesLoader(task.info.spec)) spec.args = loaderArgs(spec.args as string[]);
  await fs.mkdir(tp.execsDir, { recursive: true });
  try {
    await fs.mkdir(ep.dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw errors.alreadyExists(`exec ${id} already exists in task ${task.info.id}`);
    throw e;
  }
  const rec: ExecRecord = {
    version: 1,
    id,
    taskId: task.info.id,
    namespace: task.info.namespace,
    spec,
    terminal: o.terminal ?? false,
    stdin: o.stdin ?? false,
    createdAt: new Date().toISOString(),
  };
  await writeJsonAtomic(ep.processSpec, spec);
  await writeJsonAtomic(ep.record, rec);
  return new ExecProcessImpl(ctx, task, ep, rec);
}

/** Re-opens exec `id` of a task from disk; ERR_NOT_FOUND when there is none. */
export async function openExec(ctx: RuntimeContext, task: TaskRecord, tp: TaskPaths, id: string): Promise<ExecProcess> {
  validateId(id, 'execId');
  const ep = execPaths(tp, id);
  const rec = await readExecRecord(ep.record);
  if (!rec) throw errors.notFound(`task ${task.info.id} has no exec process ${id}`);
  return new ExecProcessImpl(ctx, task, ep, rec);
}

/** Host pid → exec id of every started exec of a task (for pids()). */
export async function listExecPids(tp: TaskPaths): Promise<Map<number, string>> {
  const out = new Map<number, string>();
  const ids = await fs.readdir(tp.execsDir).catch(() => [] as string[]);
  for (const id of ids) {
    const rec = await readExecRecord(execPaths(tp, id).record).catch(() => undefined);
    if (rec?.pid) out.set(rec.pid, id);
  }
  return out;
}

function validSignal(signal: number | string): number {
  const n = signalNumber(signal);
  if (n === undefined) throw errors.invalidArgument(`Expected a signal name or number, got \`${String(signal)}\``, { field: 'signal' });
  return n;
}

/** An exec process as seen from any process. */
class ExecProcessImpl implements ExecProcess {
  constructor(
    private readonly ctx: RuntimeContext,
    private readonly task: TaskRecord,
    private readonly p: ExecPaths,
    private rec: ExecRecord,
  ) {}

  get id(): string {
    return this.rec.id;
  }

  private async observe(): Promise<{ status: Status; exit?: Exit }> {
    const rec = await readExecRecord(this.p.record).catch(() => undefined);
    if (!rec) return { status: 'deleted' };
    this.rec = rec;
    const exit = await readExit(this.p.runDir);
    if (exit) return { status: 'stopped', exit: exitFrom(exit, rec.pid ?? 0, false) };
    if (!rec.startedAt) return { status: 'created' };
    if (await monitorAlive(this.p.runDir)) return { status: 'running' };
    const late = await readExit(this.p.runDir);
    if (late) return { status: 'stopped', exit: exitFrom(late, rec.pid ?? 0, false) };
    const lost: Exit = { pid: rec.pid ?? 0, status: LOST_STATUS, signal: null, exitedAt: new Date().toISOString(), reason: 'lost' };
    return { status: 'stopped', exit: lost };
  }

  private locked<T>(fn: (ops: ExecOps, status: Status) => Promise<T>): Promise<T> {
    const lock = taskLockFile(this.ctx, this.task.info.namespace, `${this.task.info.id}+exec+${this.rec.id}`);
    return withLock(lock, async () => {
      const o = await this.observe();
      const ops = this.ops(o.exit);
      return fn(execState(o.status, ops), o.status);
    });
  }

  private ops(exit: Exit | undefined): ExecOps {
    return {
      start: () => this.doStart(),
      kill: async (signal) => {
        const n = validSignal(signal);
        try {
          process.kill(this.rec.pid ?? 0, n);
        } catch (e) {
          throw errors.failedPrecondition(`cannot kill exec ${this.id}: ${(e as Error).message}`);
        }
      },
      delete: async () => {
        await fs.rm(this.p.dir, { recursive: true, force: true });
        return exit ?? { pid: 0, status: 0, signal: null, exitedAt: new Date().toISOString(), reason: 'exited' };
      },
      resizePty: async (size) => {
        if (!this.rec.terminal) throw errors.failedPrecondition(`cannot resize exec ${this.id}: it has no terminal`);
        await resizeConsole(this.p.dir, size);
      },
      closeIO: async () => {
        this.requireStdin();
        await closeStdin(this.p.dir, { runDir: this.p.runDir });
      },
      writeStdin: async (d) => {
        this.requireStdin();
        await writeAttach(this.p.dir, d);
      },
    };
  }

  private requireStdin(): void {
    if (!this.rec.stdin && !this.rec.terminal) throw errors.failedPrecondition(`exec ${this.id} was created without stdin`);
  }

  private async doStart(): Promise<void> {
    const st = await this.ctx.runc.state(this.task.info.containerId);
    if (!st || st.status === 'stopped') throw errors.failedPrecondition(`cannot start exec ${this.id}: task ${this.task.info.id} is not running`);
    if (st.status === 'paused') throw errors.failedPrecondition(`cannot exec in a paused task ${this.task.info.id} (resume it first)`);
    if (st.status !== 'running') throw errors.failedPrecondition(`cannot exec in a ${st.status} task ${this.task.info.id} (start it first)`);
    const { pid } = await launchMonitor(
      monitorOptions(this.ctx, {
        containerId: this.task.info.containerId,
        bundle: this.p.dir,
        runDir: this.p.runDir,
        terminal: this.rec.terminal,
        stdin: this.rec.stdin,
        exec: { processSpecPath: this.p.processSpec },
        uuid: `${this.task.info.id}-exec-${this.rec.id}`,
      }),
    );
    this.rec = { ...this.rec, pid, startedAt: new Date().toISOString() };
    await writeJsonAtomic(this.p.record, this.rec);
  }

  async state(): Promise<State> {
    const o = await this.observe();
    const stdio = this.rec.stdin || this.rec.terminal ? path.join(this.p.dir, 'attach') : '';
    return {
      id: this.id,
      status: o.status,
      pid: this.rec.pid ?? 0,
      stdin: stdio,
      stdout: this.p.log,
      stderr: this.p.log,
      terminal: this.rec.terminal,
      ...(o.exit ? { exitStatus: o.exit.status, exitedAt: o.exit.exitedAt, exit: o.exit } : {}),
    };
  }

  start(): Promise<void> { return this.locked((s) => s.start()); }
  kill(signal: number | string, _opts?: { all?: boolean }): Promise<void> { return this.locked((s) => s.kill(signal)); }
  delete(): Promise<Exit> { return this.locked((s) => s.delete()); }
  resizePty(size: ConsoleSize): Promise<void> { return this.locked((s) => s.resizePty(size)); }
  closeIO(): Promise<void> { return this.locked((s) => s.closeIO()); }
  writeStdin(data: string | Uint8Array): Promise<void> { return this.locked((s) => s.writeStdin(data)); }

  async wait(signal?: AbortSignal): Promise<Exit> {
    for (;;) {
      const o = await this.observe();
      if (o.status === 'deleted') throw errors.notFound(`exec ${this.id} was deleted`);
      if (o.exit) return o.exit;
      if (o.status === 'created' || !(await exists(this.p.runDir))) {
        throw errors.failedPrecondition(`cannot wait for exec ${this.id}: it was not started`);
      }
      try {
        await waitExit(this.p.runDir, signal);
      } catch (e) {
        if (hasCode(e) && (e as { details?: { monitorLost?: boolean } }).details?.monitorLost) continue;
        throw e;
      }
    }
  }

  async *logs(opts: LogOptions = {}): AsyncIterable<LogEntry> {
    const isDone = async () => (await this.observe()).status !== 'running';
    for await (const e of readLog(this.p.log, { follow: opts.follow, signal: opts.signal, fromOffset: opts.fromOffset, isDone })) {
      yield { time: e.time, stream: e.stream, data: e.data, partial: e.partial };
    }
  }
}
