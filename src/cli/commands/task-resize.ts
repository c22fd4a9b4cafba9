import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions, parseIntFlag, usageError } from '../args.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, targetProcess, taskContext } from '../task-context.js';

const options = {
  width: { type: 'string', value: 'COLUMNS', help: 'terminal width (required)' },
  height: { type: 'string', value: 'ROWS', help: 'terminal height (required)' },
  'exec-id': { type: 'string', value: 'EXEC', help: "resize this exec process' pty instead" },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task resize ID --width W --height H`: resizes a tty task's pty. */
export const taskResize: Command = {
  name: 'task resize',
  summary: "resize a tty task's terminal",
  usage: formatUsage(
    {
      synopsis: 'task resize [options] ID --width COLUMNS --height ROWS',
      about: `Resizes the pty of a task created with --tty (or of a tty exec process with --exec-id).`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
