import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs } from '../args.js';
import { formatProcesses, jsonLine } from '../output.js';
import { getTask, taskContext } from '../task-context.js';

const options = { ...GLOBAL_OPTIONS } as const;

/** `stasis task ps ID`: the processes of a task with details from /proc. */
export const taskPs: Command = {
  name: 'task ps',
  summary: 'list the processes of a task',
  usage: `Usage: stasis task ps ID [--json] [--state-dir DIR] [-n NAMESPACE]

Lists the task's processes (host pids) with PPID, state, RSS, CPU time, exec id and command line.
--json prints [{"pid","info":{"ppid","state","comm","args","rssBytes","cpuMs","execId"}}].`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    const ps = await (await getTask(ctx, id)).pids();
    ctx.out(ctx.json ? jsonLine(ps) : formatProcesses(ps));
    return 0;
  },
};
