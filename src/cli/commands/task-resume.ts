import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { jsonLine } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';

const options = {
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task resume ID`: thaws a paused task. */
export const taskResume: Command = {
  name: 'task resume',
  summary: 'thaw a paused task',
  usage: formatUsage(
    {
      synopsis: 'task resume [options] ID',
      about: `Thaws a task frozen by 'stasis task pause'.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    await (await getTask(ctx, id)).resume();
    ctx.out(ctx.json ? jsonLine({ id, status: 'running' }) : `${id} running\n`);
    return 0;
  },
};
