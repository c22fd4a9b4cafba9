/**
 * The worker-thread side of the pool protocol: one TaskManager per thread (opened lazily), and one
 * handler per request kind. Every handler answers with a PoolResponse; nothing is thrown across.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { toErrorData, type ErrorData } from '../../errors.js';
import { failpoint } from '../../os/failpoint.js';
import { openTaskManager } from '../../runtime/task-manager.js';
import { warmOptionsFromEnv } from '../../warm/pool.js';
import { warmIneligible } from '../../warm/key.js';
import type { CreateTaskOptions, Task, TaskManager } from '../../runtime/task.js';
import type {
  AttachRequest,
  DiscardRequest,
  PoolRequest,
  PoolResponse,
  RunRequest,
  RuntimeSettings,
  ScanRequest,
  ScanResult,
  StopReason,
  TaskControl,
  TaskEvent,
  TaskOutcome,
} from '../protocol.js';
import { supervise, type PendingPreempt } from './supervise.js';
import { timeoutAt } from './deadlines.js';
import { restoreForRun } from './restore.js';
import { serveControl } from './control.js';
import { runtimePaths } from '../../config/load.js';
import { taskPaths } from '../../runtime/layout.js';
import { readPid } from '../../monitor/launch.js';

const managers = new Map<string, Promise<TaskManager>>();

/** The thread's TaskManager for a state dir (one per thread and state dir). */
function manager(rt: RuntimeSettings): Promise<TaskManager> {
  const key = JSON.stringify(rt);
  const known = managers.get(key);
  if (known) return known;
  // Runner threads adopt prepared sandboxes (STASIS_WARM_POOL per key, default 2; src/warm).
  const m = openTaskManager(rt, { warm: warmOptionsFromEnv() });
  m.catch(() => managers.delete(key));
  managers.set(key, m);
  return m;
}

function logsDir(rt: RuntimeSettings): string {
  return path.join(rt.stateDir, 'logs');
}

function logFile(rt: RuntimeSettings, namespace: string, id: string): string {
  return taskPaths(runtimePaths(rt).tasksDir, namespace, id).log;
}

/** Records stop requests that arrive before supervision starts listening. */
function earlyStops(req: RunRequest | AttachRequest): {
  first(): StopReason | undefined;
  preempt(): PendingPreempt | undefined;
  done(): void;
} {
  let first: StopReason | undefined;
  let preempt: PendingPreempt | undefined;
  const l = (m: TaskControl) => {
    if (m?.type === 'stop') first ??= m.reason;
    // A migrate/drain request that arrives while the task is still being created or restored.
    if (m?.type === 'preempt') preempt ??= { reason: m.reason, requestId: m.requestId };
  };
  req.port.on('message', l);
  return { first: () => first, preempt: () => preempt, done: () => void req.port.off('message', l) };
}

function send(req: RunRequest | AttachRequest, e: TaskEvent): void {
  try {
    req.port.postMessage(e);
  } catch {
    // port closed: the request is over
  }
}

async function run(req: RunRequest): Promise<TaskOutcome> {
  const { spec, options } = req;
  const early = earlyStops(req);
  const mgr = await manager(req.runtime);
  // conmon -T is the backstop of the wall-clock deadline outside Node (a prepared sandbox has none).
  const deadline = timeoutAt(options.deadlines, new Date().toISOString());
  const monitorTimeout = deadline !== undefined ? Math.max(1, Math.ceil((Date.parse(deadline) - Date.now()) / 1000 + options.killGraceMs / 1000 + 2)) : undefined;
  const cpuSeconds = options.deadlines?.cpuTimeSeconds;
  const restoring = spec.restore !== undefined;
  if (!restoring) failpoint('create:before');
  const create: CreateTaskOptions = {
    id: spec.taskId,
    namespace: spec.namespace,
    rootfs: spec.rootfs,
    process: {
      args: spec.args,
      ...(spec.env ? { env: spec.env } : {}),
      ...(spec.cwd ? { cwd: spec.cwd } : {}),
      ...(spec.user ? { user: spec.user } : {}),
      ...(spec.terminal ? { terminal: true } : {}),
    },
    limits: { memoryBytes: spec.memoryBytes, cpus: spec.cpus, pids: spec.pids, diskBytes: spec.diskBytes },
    network: spec.network ?? 'none',
    annotations: spec.annotations,
    stdin: spec.stdin !== undefined,
    logMaxBytes: spec.logMaxBytes,
    ...(spec.rootfsMapped ? { rootfsMapped: true } : {}),
    ...(cpuSeconds !== undefined ? { cpuSeconds } : {}),
    ...(monitorTimeout !== undefined ? { timeoutSeconds: monitorTimeout } : {}),
  };
  const t0 = performance.now();
  const task = restoring ? await restoreForRun(mgr, spec, req.runtime, options.checkpoint?.nodeId ?? 'node', monitorTimeout) : await mgr.create(create);
  const restoreMs = restoring ? Math.round(performance.now() - t0) : undefined;
  // Taken before `runc start`, so wallMs = exitedAt - startedAt holds even for a `true` job.
  const startedAt = new Date().toISOString();
  failpoint(restoring ? 'restore:after' : 'create:after');
  try {
    if (!restoring) await task.start();
  } catch (e) {
    await discardTask(task);
    early.done();
    throw e;
  }
  // Control calls are served from before 'started' goes out (callers wait for it) until supervision ends.
  const unserve = serveControl(req.port, task);
  // The pid is for progress only: do not hold the task's supervision for it.
  const paths = taskPaths(runtimePaths(req.runtime).tasksDir, spec.namespace, spec.taskId);
  void Promise.all([readPid(paths.pidfile).catch(() => 0), restoring ? undefined : warmUse(create, paths.dir)]).then(([pid, warm]) =>
    send(req, { type: 'started', pid, startedAt, attached: false, ...(restoreMs !== undefined ? { restoreMs } : {}), ...(warm ? { warm } : {}) }),
  );
  early.done();
  return supervise({
    task,
    port: req.port,
    options,
    startedAt,
    logsDir: logsDir(req.runtime),
    logFile: logFile(req.runtime, spec.namespace, spec.taskId),
    ...(early.first() ? { pendingStop: early.first()! } : {}),
    ...(early.preempt() ? { pendingPreempt: early.preempt()! } : {}),
    ...(spec.stdin !== undefined && !restoring ? { stdin: spec.stdin } : {}),
    runtime: req.runtime,
  }).finally(unserve);
}

/**
 * Whether a created task could use a prepared sandbox and did (its task dir is then a symlink into
 * the warm dir, src/runtime/layout.ts), for the warm-pool hit/miss metrics; undefined when it could not.
 */
async function warmUse(o: CreateTaskOptions, taskDir: string): Promise<'hit' | 'miss' | undefined> {
  if (warmOptionsFromEnv().size <= 0 || warmIneligible(o) !== null) return undefined;
  const st = await fs.lstat(taskDir).catch(() => null);
  return st?.isSymbolicLink() ? 'hit' : 'miss';
}

async function attach(req: AttachRequest): Promise<TaskOutcome> {
  const early = earlyStops(req);
  const mgr = await manager(req.runtime);
  const task = await mgr.get(req.taskId, req.namespace);
  const state = await task.state();
  if (state.status === 'created') await task.start();
  const startedAt = req.startedAt ?? task.info.createdAt;
  const unserve = serveControl(req.port, task);
  send(req, { type: 'started', pid: state.pid, startedAt, attached: true });
  early.done();
  return supervise({
    task,
    port: req.port,
    options: req.options,
    startedAt,
    logsDir: logsDir(req.runtime),
    logFile: logFile(req.runtime, req.namespace, req.taskId),
    streamSince: new Date().toISOString(),
    ...(early.first() ? { pendingStop: early.first()! } : {}),
    ...(early.preempt() ? { pendingPreempt: early.preempt()! } : {}),
    runtime: req.runtime,
  }).finally(unserve);
}

async function scan(req: ScanRequest): Promise<ScanResult> {
  const mgr = await manager(req.runtime);
  const report = await mgr.recover();
  const list = await mgr.list();
  return {
    ...report,
    tasks: list.map((t) => ({
      taskId: t.info.id,
      namespace: t.info.namespace,
      status: t.state.status,
      annotations: t.info.annotations,
      createdAt: t.info.createdAt,
    })),
  };
}

/** SIGKILLs a task, waits for it to stop and deletes it; errors are swallowed (best effort). */
async function discardTask(task: Task): Promise<void> {
  await task.kill('SIGKILL', { all: true }).catch(() => undefined);
  await task.wait(AbortSignal.timeout(10_000)).catch(() => undefined);
  await task.delete().catch(() => undefined);
}

async function discard(req: DiscardRequest): Promise<boolean> {
  const mgr = await manager(req.runtime);
  const task = await mgr.get(req.taskId, req.namespace).catch(() => null);
  if (!task) return false;
  await discardTask(task);
  return true;
}

async function answer<T>(p: Promise<T>): Promise<PoolResponse<T>> {
  try {
    return { ok: true, value: await p };
  } catch (e) {
    const error: ErrorData = toErrorData(e);
    return { ok: false, error };
  }
}

/** Handles one pool request; always resolves (errors as data). Closes the request's port at the end. */
export async function handleRequest(req: PoolRequest): Promise<PoolResponse<unknown>> {
  switch (req.kind) {
    case 'run': {
      const r = await answer(run(req));
      req.port.close();
      return r;
    }
    case 'attach': {
      const r = await answer(attach(req));
      req.port.close();
      return r;
    }
    case 'scan':
      return answer(scan(req));
    case 'discard':
      return answer(discard(req));
    default: {
      const never: never = req;
      return { ok: false, error: toErrorData(new Error(`unknown pool request ${JSON.stringify(never)}`)) };
    }
  }
}
