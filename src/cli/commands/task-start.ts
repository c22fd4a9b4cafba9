import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs } from '../args.js';
import { jsonLine, taskJson } from '../output.js';
import { getTask, taskContext } from '../task-context.js';

const options = { ...GLOBAL_OPTIONS } as const;

/** `stasis task start ID`: starts a created task's process. */
export const taskStart: Command = {
  name: 'task start',
  summary: 'start a created task',
  usage: `Usage: stasis task start ID [--state-dir DIR] [-n NAMESPACE] [--json]

Starts the process of a created task. It keeps running under its monitor after this command exits.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
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
