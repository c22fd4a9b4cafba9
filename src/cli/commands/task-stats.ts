import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { formatStats, jsonLine } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';

const options = {
  raw: { type: 'boolean', help: "with --json: include runc's own data as \"raw\"" },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task stats ID`: CPU, memory and pids usage of a task. */
export const taskStats: Command = {
  name: 'task stats',
  summary: 'show CPU, memory and pids usage of a task',
  usage: formatUsage(
    {
      synopsis: 'task stats [options] ID',
      about: `Prints the task's cgroup statistics (from runc events --stats). --json prints
{"id","readAt","cpu":{…},"memory":{…},"pids":{…}}; add --raw to include runc's own data as "raw".`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
