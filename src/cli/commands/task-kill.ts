import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs, parseSignal } from '../args.js';
import { getTask, targetProcess, taskContext } from '../task-context.js';

const options = {
  ...GLOBAL_OPTIONS,
  signal: { type: 'string', short: 's' },
  all: { type: 'boolean', short: 'a' },
  'exec-id': { type: 'string' },
} as const;

/** `stasis task kill ID`: signals a task's process (or all its processes, or one exec). */
export const taskKill: Command = {
  name: 'task kill',
  summary: 'send a signal to a task',
  usage: `Usage: stasis task kill ID [-s/--signal SIGNAL] [-a/--all] [--exec-id EXEC] [--state-dir DIR] [-n NAMESPACE]

Sends SIGNAL (default TERM; a name like KILL or SIGKILL, or a number) to the task's main process;
--all sends it to every process of the task; --exec-id to that exec process.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const signal = parseSignal(values.signal);
    const ctx = await taskContext(values, io);
    const p = await targetProcess(await getTask(ctx, id), values['exec-id']);
    await p.kill(signal, values.all ? { all: true } : undefined);
    return 0;
  },
};
