/**
 * The worker-thread side of the pool protocol: one TaskManager per thread (opened lazily), and one
 * handler per request kind. Every handler answers with a PoolResponse; nothing is thrown across.
 */
import path from 'node:path';
import { toErrorData, type ErrorData } from '../../errors.js';
import { failpoint } from '../../os/failpoint.js';
import { openTaskManager } from '../../runtime/task-manager.js';
import type { CreateTaskOptions, Task, TaskManager } from '../../runtime/task.js';
import { warmIneligible } from '../../runtime/warm/key.js';
import type { WarmUse } from '../../runtime/warm/adopt-slot.js';
import { readTaskRecord } from '../../runtime/records.js';
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
  TaskOutcome,
} from '../protocol.js';
import { supervise } from './supervise.js';
import type { PendingPreempt, SuperviseInput } from './supervise-input.js';
import { createOptions, monitorTimeoutSeconds } from './create-options.js';
import { hostInfo, restoreForRun } from './restore.js';
import { serveControl } from './control.js';
import { runtimePaths } from '../../config/load.js';
import { taskPaths } from '../../runtime/layout.js';
import { send } from './port.js';

const managers = new Map<string, Promise<TaskManager>>();

/** The thread's TaskManager for a state dir (one per thread and state dir). */
function manager(rt: RuntimeSettings): Promise<TaskManager> {
  const key = JSON.stringify(rt);
  const known = managers.get(key);
  if (known) return known;
  // Runner threads adopt prepared sandboxes (rt.warmPool per key; src/runtime/warm) and keep a
  // monitor ready for restores (one per kind used); the thread keeps their tasks' deadlines.
  const m = openTaskManager(rt, rt.warmPool > 0 ? { warm: { size: rt.warmPool }, readyRestores: 1 } : {});
  m.catch(() => managers.delete(key));
  managers.set(key, m);
  // This host's CRIU/runc versions are read once per thread; read them now, not during a migration's downtime.
  void hostInfo(rt).catch(() => undefined);
  return m;
}

function logsDir(rt: RuntimeSettings): string {
  return path.join(rt.stateDir, 'logs');
}

function logFile(rt: RuntimeSettings, namespace: string, id: string): string {
  return taskPaths(runtimePaths(rt).tasksDir, namespace, id).log;
}

/** Stop and preempt requests that arrived before supervision listens; done() stops recording them. */
interface EarlyStops {
  first(): StopReason | undefined;
  preempt(): PendingPreempt | undefined;
  done(): void;
}

/** Records stop requests that arrive before supervision starts listening. */
function earlyStops(req: RunRequest | AttachRequest): EarlyStops {
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

/** A created or restored task, with how long the restore took or whether a prepared sandbox was used (metrics). */
interface Launched {
  task: Task;
  restoreMs?: number;
  /** A task that could use a prepared sandbox: whether it did (undefined when it could not). */
  warm?: Promise<WarmUse | undefined>;
}

/** Creates the run's task, or restores it from the checkpoint its spec names. */
async function createOrRestore(req: RunRequest, mgr: TaskManager): Promise<Launched> {
  const { spec, options } = req;
  const timeoutSeconds = monitorTimeoutSeconds(options);
  if (spec.restore !== undefined) {
    const t0 = performance.now();
    const task = await restoreForRun(mgr, spec, req.runtime, options.checkpoint?.nodeId ?? 'node', timeoutSeconds);
    return { task, restoreMs: Math.round(performance.now() - t0) };
  }
  failpoint('create:before');
  const create = createOptions(spec, options, timeoutSeconds);
  const task = await mgr.create(create);
  const dir = taskPaths(runtimePaths(req.runtime).tasksDir, spec.namespace, spec.taskId).dir;
  return { task, warm: warmUse(req.runtime, create, task, dir) };
}

/**
 * Whether a created task could use a prepared sandbox and did (what the creator recorded, else its
 * record on disk: which it adopted, and whether it waited for it); undefined when it could not.
 */
async function warmUse(rt: RuntimeSettings, o: CreateTaskOptions, task: Task, taskDir: string): Promise<WarmUse | undefined> {
  if (rt.warmPool <= 0 || warmIneligible(o) !== null) return undefined;
  const known = task.launched?.();
  // A record that cannot be read (the task was deleted meanwhile) counts as a miss, as before.
  const prepared = known ? known.prepared : (await readTaskRecord(path.join(taskDir, 'task.json')).catch(() => undefined))?.prepared;
  if (!prepared) return 'miss';
  return prepared.waited ? 'waited' : 'hit';
}

/**
 * Supervises a task the thread now owns (run and attach): control calls are served from before
 * `started` goes out (callers wait for it) until supervision ends.
 */
function superviseOwned(
  req: RunRequest | AttachRequest,
  task: Task,
  early: EarlyStops,
  started: () => void,
  input: Pick<SuperviseInput, 'startedAt' | 'logFile'> & Partial<SuperviseInput>,
): Promise<TaskOutcome> {
  const unserve = serveControl(req.port, task);
  started();
  early.done();
  return supervise({
    task,
    port: req.port,
    options: req.options,
    logsDir: logsDir(req.runtime),
    ...(early.first() ? { pendingStop: early.first()! } : {}),
    ...(early.preempt() ? { pendingPreempt: early.preempt()! } : {}),
    runtime: req.runtime,
    ...input,
  }).finally(unserve);
}

async function run(req: RunRequest): Promise<TaskOutcome> {
  const { spec } = req;
  const early = earlyStops(req);
  const restoring = spec.restore !== undefined;
  const { task, restoreMs, warm: warmed } = await createOrRestore(req, await manager(req.runtime));
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
  // The pid is for progress only: do not hold the task's supervision for it.
  const started = () =>
    // The pid its creator recorded is the container's (runc init becomes the process): no observation needed.
    void Promise.all([task.launched?.()?.pid || task.pid().catch(() => 0), warmed]).then(([pid, warm]) =>
      send(req.port, { type: 'started', pid, startedAt, attached: false, ...(restoreMs !== undefined ? { restoreMs } : {}), ...(warm ? { warm } : {}) }),
    );
  return superviseOwned(req, task, early, started, {
    startedAt,
    logFile: logFile(req.runtime, spec.namespace, spec.taskId),
    ...(spec.stdin !== undefined && !restoring ? { stdin: spec.stdin } : {}),
  });
}

async function attach(req: AttachRequest): Promise<TaskOutcome> {
  const early = earlyStops(req);
  const mgr = await manager(req.runtime);
  const task = await mgr.get(req.taskId, req.namespace);
  const state = await task.state();
  if (state.status === 'created') await task.start();
  const startedAt = req.startedAt ?? task.info.createdAt;
  const started = () => send(req.port, { type: 'started', pid: state.pid, startedAt, attached: true });
  return superviseOwned(req, task, early, started, {
    startedAt,
    logFile: logFile(req.runtime, req.namespace, req.taskId),
    streamSince: new Date().toISOString(),
  });
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
