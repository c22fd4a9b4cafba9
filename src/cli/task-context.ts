/** What every `stasis task …` command needs: the resolved global flags and an open TaskManager. */
import path from 'node:path';
import type { CliIO } from './command.js';
import { resolveGlobals, type GlobalFlagValues, type GlobalOptions } from './args.js';
import { openTaskManager } from '../runtime/task-manager.js';
import type { ExecProcess, Process, Task, TaskManager } from '../runtime/task.js';

/** Opens the task manager on `--state-dir`. */
export async function openManager(g: GlobalOptions): Promise<TaskManager> {
  return openTaskManager({ stateDir: path.resolve(g.stateDir) });
}

/** Global flags plus the manager, for a task command. */
export interface TaskContext extends GlobalOptions {
  manager: TaskManager;
  io: CliIO;
  /** Writes text to stdout. */
  out(s: string): void;
}

/** Resolves globals from parsed values and opens the manager. */
export async function taskContext(values: GlobalFlagValues, io: CliIO): Promise<TaskContext> {
  const g = resolveGlobals(values, io.env);
  const manager = await openManager(g);
  return { ...g, manager, io, out: (s) => void io.stdout.write(s) };
}

/** Re-opens a task from disk in the context's namespace (ERR_NOT_FOUND when there is none). */
export function getTask(ctx: TaskContext, id: string): Promise<Task> {
  return ctx.manager.get(id, ctx.namespace);
}

/** The process a command targets: the task itself, or one of its exec processes with `--exec-id`. */
export async function targetProcess(task: Task, execId: string | undefined): Promise<Process | ExecProcess> {
  return execId === undefined ? task : task.process(execId);
}
