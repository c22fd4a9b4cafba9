import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions, parseSignal } from '../args.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, targetProcess, taskContext } from '../task-context.js';

const options = {
  signal: { type: 'string', short: 's', value: 'SIGNAL', help: 'a name (KILL, SIGKILL) or a number', default: 'TERM' },
  all: { type: 'boolean', short: 'a', help: 'signal every process of the task' },
  'exec-id': { type: 'string', value: 'EXEC', help: 'signal this exec process instead' },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task kill ID`: signals a task's process (or all its processes, or one exec). */
export const taskKill: Command = {
  name: 'task kill',
  summary: 'send a signal to a task',
  usage: formatUsage(
    {
      synopsis: 'task kill [options] ID',
      about: `Sends SIGNAL (default TERM; a name like KILL or SIGKILL, or a number) to the task's main process;
--all sends it to every process of the task; --exec-id to that exec process.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const signal = parseSignal(values.signal);
    const ctx = await taskContext(values, io);
    const p = await targetProcess(await getTask(ctx, id), values['exec-id']);
    await p.kill(signal, values.all ? { all: true } : undefined);
    return 0;
  },
};
