import { formatProcesses, jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';

/** `stasis task ps ID`: the processes of a task with details from /proc. */
export const taskPs = taskCommand({
  verb: 'ps',
  summary: 'list the processes of a task',
  about: `Lists the task's processes (host pids) with PPID, state, RSS, CPU time, exec id and command line.
--json prints [{"pid","info":{"ppid","state","comm","args","rssBytes","cpuMs","execId"}}].`,
  flags: {},
  async act({ task, ctx }) {
    const ps = await task.pids();
    ctx.out(ctx.json ? jsonLine(ps) : formatProcesses(ps));
  },
});
