/**
 * The `stasis task <verb> [options] ID` commands that act on one existing task: each declares its
 * flags and what it does with the task; taking the id, checking the flags before anything is
 * opened, opening the manager and re-opening the task happen here, in that order, for all of them.
 */
import type { Command } from './command.js';
import { GLOBAL_SPECS, type GlobalFlagValues } from './args.js';
import type { OptionSpecs } from './options.js';
import { idCommand, type FlagValues, type IdCommandRow } from './table-command.js';
import { getTask, taskContext, type TaskContext } from './task-context.js';
import type { Task } from '../runtime/task.js';

/** A task verb's own flags plus the global ones (--state-dir, -n, --json), which come last. */
export type TaskVerbFlags<T extends OptionSpecs> = T & typeof GLOBAL_SPECS;

/** What a task verb's act() is given. */
export interface TaskVerbCall<V, A> {
  /** The task id from the command line. */
  id: string;
  /** The task, re-opened from disk in the namespace. */
  task: Task;
  /** The resolved globals, the manager and stdout. */
  ctx: TaskContext;
  /** The parsed flags. */
  values: V;
  /** What check() made of the flags (undefined without a check()). */
  input: A;
}

/** One `task <verb>` command, as a row: its texts, its flags, its checks and its work. */
export interface TaskVerbSpec<T extends OptionSpecs, A> extends IdCommandRow<T> {
  /** The word after `task` ('pause'). */
  verb: string;
  /** Reads and checks the flags (and the words after `--`) before the task is opened, so usage errors come first. */
  check?(values: FlagValues<TaskVerbFlags<T>>, rest: string[]): A;
  /** Acts on the task and prints the outcome; resolves to the exit code (nothing means 0). */
  act(call: TaskVerbCall<FlagValues<TaskVerbFlags<T>>, A>): Promise<number | void>;
}

/** The `task` family: the id is a task's, and every verb takes the global flags. */
const TASK_FAMILY = { id: 'ID', idName: 'task id', shared: GLOBAL_SPECS };

/** Builds the Command of a `task <verb> [options] ID` row. */
export function taskCommand<const T extends OptionSpecs, A = undefined>(spec: TaskVerbSpec<T, A>): Command {
  return idCommand(`task ${spec.verb}`, spec, TASK_FAMILY, async (id, { values, rest }, io) => {
    const input = spec.check ? spec.check(values, rest) : (undefined as A);
    // The table ends with GLOBAL_SPECS, so its values hold the global flags.
    const ctx = await taskContext(values as GlobalFlagValues, io);
    const task = await getTask(ctx, id);
    return (await spec.act({ id, task, ctx, values, input })) ?? 0;
  });
}
