/**
 * The entry point of the task runtime: openTaskManager() loads the runtime config and returns a
 * TaskManager over the state directory. Tasks live on disk, not in this object; any number of
 * managers in any number of processes can work on the same state directory.
 */
import fs from 'node:fs/promises';
import type { RuntimeConfig } from '../config/schema.js';
import { loadRuntimeConfig, runtimePaths } from '../config/load.js';
import { errors } from '../errors.js';
import { makeContext, type RuntimeContext } from './context.js';
import { makeTraversable } from './task-fs.js';
import { createTask } from './create.js';
import { validateId } from './ids.js';
import { TaskProcess } from './init-process.js';
import { namespaceDir, taskPaths } from './layout.js';
import { readTaskRecord } from './records.js';
import { idDirs, recoverTasks } from './recover.js';
import { restoreTask } from './restore.js';
import { WarmPool, type WarmOptions } from './warm/pool.js';
import { recoverWarm } from './warm/recover.js';
import { recoverCompiledSeccomp } from './seccomp-recover.js';
import { ReadyRestores } from './warm/ready-restores.js';
import { DEFAULT_NAMESPACE, type CreateTaskOptions, type RestoreTaskOptions, type Task, type TaskManager, type TaskSummary } from './task.js';

/** Re-opens task `id`; ERR_NOT_FOUND when it has no record. */
async function getTask(ctx: RuntimeContext, id: string, namespace = DEFAULT_NAMESPACE): Promise<Task> {
  validateId(namespace, 'namespace');
  validateId(id, 'id');
  const p = taskPaths(ctx.paths.tasksDir, namespace, id);
  const rec = await readTaskRecord(p.record);
  if (!rec) throw errors.notFound(`task ${id} not found in namespace ${namespace}`, { id, namespace });
  return new TaskProcess(ctx, rec, p);
}

async function listTasks(ctx: RuntimeContext, namespace?: string): Promise<TaskSummary[]> {
  const namespaces = namespace !== undefined ? [validateId(namespace, 'namespace')] : await idDirs(ctx.paths.tasksDir);
  const out: TaskSummary[] = [];
  for (const ns of namespaces) {
    for (const id of await idDirs(namespaceDir(ctx.paths.tasksDir, ns))) {
      const task = await getTask(ctx, id, ns).catch(() => undefined);
      if (!task) continue;
      out.push({ info: task.info, state: await task.state() });
    }
  }
  return out;
}

/** Options of a task manager beyond the runtime config. */
export interface TaskManagerOptions {
  /** Keep prepared sandboxes and adopt them on create (runner workers; docs/runtime.md). */
  warm?: WarmOptions;
  /**
   * Monitors kept ready per kind for restores (warm/ready-restores.ts). Only for a manager whose
   * caller keeps its tasks' deadlines (runner workers): a restore into one has no conmon -T.
   */
  readyRestores?: number;
}

/** Opens the task runtime over the configured state directory (creating its directories). */
export async function openTaskManager(config: Partial<RuntimeConfig> = {}, opts: TaskManagerOptions = {}): Promise<TaskManager> {
  const cfg = loadRuntimeConfig(config);
  const ctx = await makeContext(cfg, runtimePaths(cfg));
  if (opts.warm && opts.warm.size > 0) ctx.warm = new WarmPool(ctx, opts.warm);
  for (const d of [ctx.paths.stateDir, ctx.paths.tasksDir, ctx.paths.runcRoot]) await fs.mkdir(d, { recursive: true });
  // Under a user namespace runc works inside the task's bundle as the container's (unprivileged) root:
  // the way there must be traversable, though not listable.
  if (ctx.sandbox.userns) await makeTraversable(ctx.paths.stateDir, ctx.paths.runDir, ctx.paths.tasksDir);
  // For A/B runs of the bench: STASIS_READY_RESTORES=0 keeps none.
  if ((opts.readyRestores ?? 0) > 0 && process.env.STASIS_READY_RESTORES !== '0') {
    ctx.readyRestores = new ReadyRestores(ctx, opts.readyRestores!);
    // The plain kind (no terminal, no stdin) at once; others once a restore asked for one.
    ctx.readyRestores.refill({ terminal: false, stdin: false });
  }
  return {
    create: (o: CreateTaskOptions) => createTask(ctx, o),
    restore: (o: RestoreTaskOptions) => restoreTask(ctx, o),
    get: (id: string, namespace?: string) => getTask(ctx, id, namespace),
    list: (namespace?: string) => listTasks(ctx, namespace),
    recover: async () => {
      const recover = async () => {
        const report = await recoverTasks(ctx);
        // Prepared sandboxes nobody adopted (a crash, or a previous runner): deleted.
        await recoverWarm(ctx);
        // Probe containers a crash left, and compiled filters and loader copies no longer in use.
        await recoverCompiledSeccomp(ctx);
        return report;
      };
      // That deletes every unclaimed slot, this manager's own ready monitors' too: they go first, and come back after.
      return ctx.readyRestores ? ctx.readyRestores.whileRecovering(recover) : recover();
    },
    close: async () => {
      await ctx.warm?.close();
      await ctx.readyRestores?.close();
    },
  };
}
