import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs } from '../args.js';
import { jsonLine } from '../output.js';
import { getTask, taskContext } from '../task-context.js';

const options = { ...GLOBAL_OPTIONS } as const;

/** `stasis task pause ID`: freezes a running task (cgroup freezer). */
export const taskPause: Command = {
  name: 'task pause',
  summary: 'freeze a running task',
  usage: `Usage: stasis task pause ID [--state-dir DIR] [-n NAMESPACE]

Freezes every process of the task (cgroup freezer). 'stasis task resume ID' thaws it.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    await (await getTask(ctx, id)).pause();
    ctx.out(ctx.json ? jsonLine({ id, status: 'paused' }) : `${id} paused\n`);
    return 0;
  },
};
