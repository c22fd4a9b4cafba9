import type { Command } from '../command.js';
import { GLOBAL_SPECS, parseOptions, usageError } from '../args.js';
import { formatTaskList, jsonLine, taskJson } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { taskContext } from '../task-context.js';

const options = {
  quiet: { type: 'boolean', short: 'q', help: 'print only ids' },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task list`: the tasks of a namespace, as a table or JSON. */
export const taskList: Command = {
  name: 'task list',
  summary: 'list the tasks of a namespace',
  usage: formatUsage(
    {
      synopsis: 'task list [options]',
      about: `Lists the tasks of the namespace: ID, STATUS, PID, EXIT, CREATED. -q prints only ids.
--json prints an array of the objects 'stasis task state --json' prints.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    const ctx = await taskContext(values, io);
    const tasks = (await ctx.manager.list(ctx.namespace)).sort((a, b) => a.info.createdAt.localeCompare(b.info.createdAt));
    if (ctx.json) ctx.out(jsonLine(tasks.map(taskJson)));
    else if (values.quiet) ctx.out(tasks.map((t) => `${t.info.id}\n`).join(''));
    else ctx.out(formatTaskList(tasks));
    return 0;
  },
};
