import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs } from '../args.js';
import { jsonLine } from '../output.js';
import { getTask, taskContext } from '../task-context.js';

const options = { ...GLOBAL_OPTIONS } as const;

/** `stasis task resume ID`: thaws a paused task. */
export const taskResume: Command = {
  name: 'task resume',
  summary: 'thaw a paused task',
  usage: `Usage: stasis task resume ID [--state-dir DIR] [-n NAMESPACE]

Thaws a task frozen by 'stasis task pause'.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    await (await getTask(ctx, id)).resume();
    ctx.out(ctx.json ? jsonLine({ id, status: 'running' }) : `${id} running\n`);
    return 0;
  },
};
