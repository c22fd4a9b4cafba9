import { formatKeyValues, formatTaskState, jsonLine, taskJson } from '../output.js';
import { taskCommand } from '../task-command.js';
import type { State } from '../../runtime/task.js';

/** `task state --exec-id`: the exec process' status, pid and exit as `key: value` lines. */
function formatExecState(s: State): string {
  const lines: [string, string][] = [['exec', s.id], ['status', s.status], ['pid', s.pid ? String(s.pid) : '-']];
  if (s.exit) lines.push(['exit', String(s.exit.status)], ['exited at', s.exit.exitedAt]);
  return formatKeyValues(lines);
}

/** `stasis task state ID`: the task's (or an exec's) status, pid and exit. */
export const taskState = taskCommand({
  verb: 'state',
  summary: 'show the status, pid and exit of a task',
  about: `Prints the task's status (created, running, pausing, paused, stopped), pid, and once stopped its
exit status, signal, reason and exit time. --json prints {"id","namespace","status","pid",
"exitStatus","exitedAt","signal","reason","createdAt","bundle","terminal","log","restoredFrom"}.
With --exec-id, the state of that exec process instead.`,
  flags: {
    'exec-id': { type: 'string', value: 'EXEC', help: 'the state of this exec process instead' },
  },
  async act({ task, ctx, values }) {
    const execId = values['exec-id'];
    if (execId !== undefined) {
      const s = await (await task.process(execId)).state();
      ctx.out(ctx.json ? jsonLine(s) : formatExecState(s));
      return;
    }
    const summary = { info: task.info, state: await task.state() };
    ctx.out(ctx.json ? jsonLine(taskJson(summary)) : formatTaskState(summary));
  },
});
