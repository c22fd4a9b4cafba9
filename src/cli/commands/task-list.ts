import { GLOBAL_SPECS, usageError } from '../args.js';
import { formatTaskList, jsonLine, taskJson } from '../output.js';
import { tableCommand } from '../table-command.js';
import { taskContext } from '../task-context.js';

/** `stasis task list`: the tasks of a namespace, as a table or JSON. */
export const taskList = tableCommand({
  name: 'task list',
  summary: 'list the tasks of a namespace',
  synopsis: 'task list [options]',
  about: `Lists the tasks of the namespace: ID, STATUS, PID, EXIT, CREATED. -q prints only ids.
--json prints an array of the objects 'stasis task state --json' prints.`,
  options: {
    quiet: { type: 'boolean', short: 'q', help: 'print only ids' },
    ...GLOBAL_SPECS,
  },
  async run({ values, positionals }, io) {
    if (positionals.length) throw usageError(`unexpected argument '${positionals[0]}'`);
    const ctx = await taskContext(values, io);
    const tasks = (await ctx.manager.list(ctx.namespace)).sort((a, b) => a.info.createdAt.localeCompare(b.info.createdAt));
    if (ctx.json) ctx.out(jsonLine(tasks.map(taskJson)));
    else if (values.quiet) ctx.out(tasks.map((t) => `${t.info.id}\n`).join(''));
    else ctx.out(formatTaskList(tasks));
    return 0;
  },
});
