import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs } from '../args.js';
import { formatStats, jsonLine } from '../output.js';
import { getTask, taskContext } from '../task-context.js';

const options = { ...GLOBAL_OPTIONS, raw: { type: 'boolean' } } as const;

/** `stasis task stats ID`: CPU, memory and pids usage of a task. */
export const taskStats: Command = {
  name: 'task stats',
  summary: 'show CPU, memory and pids usage of a task',
  usage: `Usage: stasis task stats ID [--json] [--raw] [--state-dir DIR] [-n NAMESPACE]

Prints the task's cgroup statistics (from runc events --stats). --json prints
{"id","readAt","cpu":{…},"memory":{…},"pids":{…}}; add --raw to include runc's own data as "raw".`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    const stats = await (await getTask(ctx, id)).stats();
    if (ctx.json) {
      const { raw, ...rest } = stats;
      ctx.out(jsonLine(values.raw ? { ...rest, raw } : rest));
    } else ctx.out(formatStats(stats));
    return 0;
  },
};
