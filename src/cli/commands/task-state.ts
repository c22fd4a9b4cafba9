import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { formatKeyValues, formatTaskState, jsonLine, taskJson } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';

const options = {
  'exec-id': { type: 'string', value: 'EXEC', help: 'the state of this exec process instead' },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task state ID`: the task's (or an exec's) status, pid and exit. */
export const taskState: Command = {
  name: 'task state',
  summary: 'show the status, pid and exit of a task',
  usage: formatUsage(
    {
      synopsis: 'task state [options] ID',
      about: `Prints the task's status (created, running, pausing, paused, stopped), pid, and once stopped its
exit status, signal, reason and exit time. --json prints {"id","namespace","status","pid",
"exitStatus","exitedAt","signal","reason","createdAt","bundle","terminal","log","restoredFrom"}.
With --exec-id, the state of that exec process instead.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    const task = await getTask(ctx, id);
    const execId = values['exec-id'];
    if (execId !== undefined) {
      const s = await (await task.process(execId)).state();
      if (ctx.json) ctx.out(jsonLine(s));
      else {
        const lines: [string, string][] = [['exec', s.id], ['status', s.status], ['pid', s.pid ? String(s.pid) : '-']];
        if (s.exit) lines.push(['exit', String(s.exit.status)], ['exited at', s.exit.exitedAt]);
        ctx.out(formatKeyValues(lines));
      }
      return 0;
    }
    const summary = { info: task.info, state: await task.state() };
    ctx.out(ctx.json ? jsonLine(taskJson(summary)) : formatTaskState(summary));
    return 0;
  },
};
