import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { jsonLine, taskJson } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';

const options = {
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task start ID`: starts a created task's process. */
export const taskStart: Command = {
  name: 'task start',
  summary: 'start a created task',
  usage: formatUsage(
    {
      synopsis: 'task start [options] ID',
      about: `Starts the process of a created task. It keeps running under its monitor after this command exits.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    const task = await getTask(ctx, id);
    await task.start();
    const state = await task.state();
    if (ctx.json) ctx.out(jsonLine(taskJson({ info: task.info, state })));
    else ctx.out(`${id} ${state.status} pid ${state.pid}\n`);
    return 0;
  },
};
