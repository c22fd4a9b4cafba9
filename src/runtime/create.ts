/**
 * TaskManager.create and the shared launch steps of create and restore: claim the task dir, write
 * the bundle, mount the overlay, persist the record, then hand the container to conmon. Any failure
 * undoes everything (container, mount, directory) before the error is rethrown.
 */
import fs from '../os/local-fs.js';
import path from 'node:path';
import { launchMonitor } from '../monitor/launch.js';
import { monitorOptions } from './monitor-options.js';
import { validateProcess } from '../sandbox/spec.js';
import { errors } from '../errors.js';
import { RUNTIME_NAME, taskLockFile, type RuntimeContext } from './context.js';
import { cgroupsPathFor, containerIdFor, hostnameFor, validateId } from './ids.js';
import { removeTaskDir } from './init-ops.js';
import { TaskProcess } from './init-process.js';
import { namespaceDir, taskPaths, type TaskPaths } from './layout.js';
import { withLock } from './lock.js';
import { writeJsonAtomic, type TaskRecord } from './records.js';
import { lowerFor, mountTaskRootfs, taskSpec, traversable, writeJob } from './task-fs.js';
import { DEFAULT_NAMESPACE, type CreateTaskOptions, type Task } from './task.js';

/** Resolves and validates a lower rootfs directory. */
export async function checkRootfs(rootfs: unknown, field = 'rootfs'): Promise<string> {
  if (typeof rootfs !== 'string' || rootfs === '') {
    throw errors.invalidArgument(`Expected \`${field}\` to be a directory path, got \`${JSON.stringify(rootfs)}\``, { field });
  }
  const abs = path.resolve(rootfs);
  const st = await fs.stat(abs).catch(() => undefined);
  if (!st?.isDirectory()) throw errors.invalidArgument(`Expected \`${field}\` to be an existing directory, got \`${abs}\``, { field });
  return abs;
}

/** Creates the task dir exclusively; ERR_ALREADY_EXISTS when the id is taken. */
export async function claimTaskDir(ctx: RuntimeContext, namespace: string, id: string): Promise<TaskPaths> {
  const p = taskPaths(ctx.paths.tasksDir, namespace, id);
  await fs.mkdir(namespaceDir(ctx.paths.tasksDir, namespace), { recursive: true, mode: 0o711 });
  try {
    await fs.mkdir(p.dir);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') {
      throw errors.alreadyExists(`task ${id} already exists in namespace ${namespace}`, { id, namespace });
    }
    throw e;
  }
  if (await ctx.runc.state(containerIdFor(namespace, id))) {
    await fs.rm(p.dir, { recursive: true, force: true });
    throw errors.alreadyExists(`a runc container ${containerIdFor(namespace, id)} already exists without a task dir (run recover())`);
  }
  return p;
}

/** Undoes a failed launch: force-deletes the container, unmounts, removes the dir. Never throws. */
export async function undoLaunch(ctx: RuntimeContext, containerId: string, p: TaskPaths): Promise<void> {
  await ctx.runc.delete(containerId, true).catch(() => undefined);
  await removeTaskDir(p).catch(() => undefined);
}

/** The job's process with its argv/env/cwd checked (ERR_INVALID_ARGUMENT naming the field). */
export function checkedProcess(o: CreateTaskOptions): CreateTaskOptions['process'] {
  const proc = o.process ?? ({} as CreateTaskOptions['process']);
  validateProcess({ args: proc.args, ...(proc.env ? { env: proc.env } : {}), ...(proc.cwd !== undefined ? { cwd: proc.cwd } : {}) });
  return proc;
}

/** What a create starts from: the checked options, the process and the spec. */
interface CreatePlan {
  o: CreateTaskOptions;
  namespace: string;
  id: string;
  rootfs: string;
  proc: CreateTaskOptions['process'];
  spec: ReturnType<typeof taskSpec>;
}

/** A new task record's `info` (created or restored now, under this node's runtime). */
export function taskInfo(ctx: RuntimeContext, t: { namespace: string; id: string; spec: TaskRecord['info']['spec']; annotations: Record<string, string> }, p: TaskPaths): TaskRecord['info'] {
  return {
    id: t.id,
    namespace: t.namespace,
    runtime: { name: RUNTIME_NAME, path: ctx.config.runc },
    spec: t.spec,
    bundle: p.bundle,
    containerId: containerIdFor(t.namespace, t.id),
    createdAt: new Date().toISOString(),
    annotations: t.annotations,
  };
}

/** The new task's record (before its monitor runs). */
function createdRecord(ctx: RuntimeContext, c: CreatePlan, p: TaskPaths): TaskRecord {
  const { o, proc } = c;
  return {
    version: 1,
    info: taskInfo(ctx, { ...c, annotations: { ...(o.annotations ?? {}) } }, p),
    rootfs: c.rootfs,
    process: { ...proc },
    limits: { ...(o.limits ?? {}) },
    network: o.network ?? 'none',
    terminal: proc.terminal ?? false,
    stdin: o.stdin ?? false,
    ...(o.timeoutSeconds !== undefined ? { timeoutSeconds: o.timeoutSeconds } : {}),
    ...(o.logMaxBytes !== undefined ? { logMaxBytes: o.logMaxBytes } : {}),
  };
}

/** Lays out the task dir (job dir, layers, bundle) and has conmon run `runc create`. */
async function launchCreate(ctx: RuntimeContext, c: CreatePlan, p: TaskPaths, rec: TaskRecord): Promise<void> {
  const { o, proc } = c;
  await traversable(p.dir);
  const job = { args: proc.args, ...(proc.env ? { env: proc.env } : {}), ...(proc.cwd ? { cwd: proc.cwd } : {}), terminal: rec.terminal, ...(o.cpuSeconds !== undefined ? { cpuSeconds: o.cpuSeconds } : {}) };
  // Independent steps in parallel: the mounts are process spawns, the rest are small writes.
  await Promise.all([
    fs.mkdir(p.bundle, { recursive: true, mode: 0o711 }).then(() => writeJsonAtomic(p.spec, c.spec)),
    fs.mkdir(p.runDir, { recursive: true, mode: 0o700 }),
    writeJob(ctx, p, job, proc.user),
    lowerFor(ctx, c.rootfs, o.rootfsMapped).then(async (lower) => {
      rec.lower = lower;
      await mountTaskRootfs(ctx, p, lower, o.limits?.diskBytes);
    }),
  ]);
  await writeJsonAtomic(p.record, rec);
  const { pid } = await launchMonitor(
    monitorOptions(ctx, {
      containerId: rec.info.containerId,
      bundle: p.bundle,
      runDir: p.runDir,
      terminal: rec.terminal,
      stdin: rec.stdin,
      timeoutSeconds: rec.timeoutSeconds,
      logMaxBytes: rec.logMaxBytes,
    }),
  );
  rec.pid = pid;
  await writeJsonAtomic(p.record, rec);
}

/**
 * Creates a task: its directory, the launch script in its node-owned job dir, the writable layer and
 * overlay, the bundle and record, then conmon + `runc create`. Status 'created'.
 */
export async function createTask(ctx: RuntimeContext, o: CreateTaskOptions): Promise<Task> {
  if (typeof o !== 'object' || o === null) throw errors.invalidArgument('Expected create options to be an object', { field: 'options' });
  const namespace = validateId(o.namespace ?? DEFAULT_NAMESPACE, 'namespace');
  const id = validateId(o.id, 'id');
  const rootfs = await checkRootfs(o.rootfs);
  if (o.timeoutSeconds !== undefined && (!Number.isFinite(o.timeoutSeconds) || o.timeoutSeconds <= 0)) {
    throw errors.invalidArgument(`Expected \`timeoutSeconds\` to be a positive number, got \`${o.timeoutSeconds}\``, { field: 'timeoutSeconds' });
  }
  const proc = checkedProcess(o);
  const spec = taskSpec(ctx, taskPaths(ctx.paths.tasksDir, namespace, id), {
    hostname: o.hostname ?? hostnameFor(id),
    ...(proc.user ? { user: proc.user } : {}),
    ...(proc.terminal ? { terminal: true } : {}),
    ...(proc.consoleSize ? { consoleSize: proc.consoleSize } : {}),
    ...(o.limits ? { limits: o.limits } : {}),
    ...(o.network ? { network: o.network } : {}),
    cgroupsPath: cgroupsPathFor(ctx.paths.stateDir, namespace, id),
    ...(o.annotations ? { annotations: o.annotations } : {}),
  });
  const plan: CreatePlan = { o, namespace, id, rootfs, proc, spec };
  return withLock(taskLockFile(ctx, namespace, id), async () => {
    // A prepared sandbox (src/runtime/warm) makes create a claim, a symlink and one small write.
    const adopted = await ctx.warm?.adopt(o, { namespace, id, rootfs, spec });
    if (adopted) return adopted;
    const p = await claimTaskDir(ctx, namespace, id);
    const rec = createdRecord(ctx, plan, p);
    try {
      await launchCreate(ctx, plan, p, rec);
    } catch (e) {
      await undoLaunch(ctx, rec.info.containerId, p);
      throw e;
    }
    return TaskProcess.created(ctx, rec, p);
  });
}
