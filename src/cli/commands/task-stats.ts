import { formatStats, jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';

/** `stasis task stats ID`: CPU, memory and pids usage of a task. */
export const taskStats = taskCommand({
  verb: 'stats',
  summary: 'show CPU, memory and pids usage of a task',
  about: `Prints the task's cgroup statistics (from runc events --stats). --json prints
{"id","readAt","cpu":{…},"memory":{…},"pids":{…}}; add --raw to include runc's own data as "raw".`,
  flags: {
    raw: { type: 'boolean', help: "with --json: include runc's own data as \"raw\"" },
  },
  async act({ task, ctx, values }) {
    const stats = await task.stats();
    if (ctx.json) {
      const { raw, ...rest } = stats;
      ctx.out(jsonLine(values.raw ? { ...rest, raw } : rest));
    } else ctx.out(formatStats(stats));
  },
});
