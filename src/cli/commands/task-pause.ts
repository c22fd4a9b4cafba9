import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { jsonLine } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';

const options = {
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task pause ID`: freezes a running task (cgroup freezer). */
export const taskPause: Command = {
  name: 'task pause',
  summary: 'freeze a running task',
  usage: formatUsage(
    {
      synopsis: 'task pause [options] ID',
      about: `Freezes every process of the task (cgroup freezer). 'stasis task resume ID' thaws it.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    await (await getTask(ctx, id)).pause();
    ctx.out(ctx.json ? jsonLine({ id, status: 'paused' }) : `${id} paused\n`);
    return 0;
  },
};
