/**
 * The `stasis task <verb> [options] ID` commands that act on one existing task: each declares its
 * flags and what it does with the task; parsing the id, checking the flags before anything is
 * opened, opening the manager and re-opening the task happen here, in that order, for all of them.
 */
import type { Command } from './command.js';
import { GLOBAL_SPECS, onePositional, type GlobalFlagValues } from './args.js';
import type { OptionSpecs } from './options.js';
import { tableCommand, type FlagValues } from './table-command.js';
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
  /** The words after `--`. */
  rest: string[];
}

/** One `task <verb>` command, as a row: its texts, its flags, its checks and its work. */
export interface TaskVerbSpec<T extends OptionSpecs, A> {
  /** The word after `task` ('pause'). */
  verb: string;
  /** One line for `stasis --help`. */
  summary: string;
  /** The synopsis without `Usage: stasis ` (default `task <verb> [options] ID`). */
  synopsis?: string;
  /** The paragraphs of the usage between the synopsis and the flags. */
  about: string;
  /** The verb's own flags (the global ones are appended). */
  flags: T;
  /** Reads and checks the flags before the task is opened, so usage errors come first. */
  check?(values: FlagValues<TaskVerbFlags<T>>, rest: string[]): A;
  /** Acts on the task and prints the outcome; resolves to the exit code (nothing means 0). */
  act(call: TaskVerbCall<FlagValues<TaskVerbFlags<T>>, A>): Promise<number | void>;
}

/** Builds the Command of a `task <verb> [options] ID` row. */
export function taskCommand<const T extends OptionSpecs, A = undefined>(spec: TaskVerbSpec<T, A>): Command {
  const options: TaskVerbFlags<T> = { ...spec.flags, ...GLOBAL_SPECS };
  return tableCommand({
    name: `task ${spec.verb}`,
    summary: spec.summary,
    synopsis: spec.synopsis ?? `task ${spec.verb} [options] ID`,
    about: spec.about,
    options,
    async run({ values, positionals, rest }, io) {
      const id = onePositional(positionals, 'task id');
      const input = spec.check ? spec.check(values, rest) : (undefined as A);
      // The table ends with GLOBAL_SPECS, so its values hold the global flags.
      const ctx = await taskContext(values as GlobalFlagValues, io);
      const task = await getTask(ctx, id);
      return (await spec.act({ id, task, ctx, values, input, rest })) ?? 0;
    },
  });
}
