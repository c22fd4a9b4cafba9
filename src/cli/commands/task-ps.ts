import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { formatProcesses, jsonLine } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';

const options = {
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task ps ID`: the processes of a task with details from /proc. */
export const taskPs: Command = {
  name: 'task ps',
  summary: 'list the processes of a task',
  usage: formatUsage(
    {
      synopsis: 'task ps [options] ID',
      about: `Lists the task's processes (host pids) with PPID, state, RSS, CPU time, exec id and command line.
--json prints [{"pid","info":{"ppid","state","comm","args","rssBytes","cpuMs","execId"}}].`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    const ps = await (await getTask(ctx, id)).pids();
    ctx.out(ctx.json ? jsonLine(ps) : formatProcesses(ps));
    return 0;
  },
};
