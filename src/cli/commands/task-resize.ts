import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, onePositional, parseCommandArgs, parseIntFlag, usageError } from '../args.js';
import { getTask, targetProcess, taskContext } from '../task-context.js';

const options = {
  ...GLOBAL_OPTIONS,
  width: { type: 'string' },
  height: { type: 'string' },
  'exec-id': { type: 'string' },
} as const;

/** `stasis task resize ID --width W --height H`: resizes a tty task's pty. */
export const taskResize: Command = {
  name: 'task resize',
  summary: "resize a tty task's terminal",
  usage: `Usage: stasis task resize ID --width COLUMNS --height ROWS [--exec-id EXEC] [--state-dir DIR] [-n NAMESPACE]

Resizes the pty of a task created with --tty (or of a tty exec process with --exec-id).`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const width = parseIntFlag(values.width, 'width', 1, 65535);
    const height = parseIntFlag(values.height, 'height', 1, 65535);
    if (width === undefined || height === undefined) throw usageError('missing --width or --height');
    const ctx = await taskContext(values, io);
    const p = await targetProcess(await getTask(ctx, id), values['exec-id']);
    await p.resizePty({ width, height });
    return 0;
  },
};
