/** `stasis status ID`: a job's state, attempts, times and outcome. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, resolveGlobals } from '../args.js';
import { QUEUE_FLAGS_USAGE, QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { formatStatus } from '../job-output.js';

/** `stasis status`. */
export const statusCommand: Command = {
  name: 'status',
  summary: "show a job's state, attempts and outcome",
  usage: `Usage: stasis status [options] JOB_ID\n\n${QUEUE_FLAGS_USAGE}\n      --json           print JSON`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, QUEUE_OPTIONS);
    const jobId = onePositional(positionals, 'JOB_ID');
    const g = resolveGlobals(values, io.env);
    const open = await openJobClient({ redis: values.redis, queue: values.queue, stateDir: g.stateDir, env: io.env });
    try {
      const s = await open.client.status(jobId);
      io.stdout.write(g.json ? `${JSON.stringify(s)}\n` : formatStatus(s));
      return 0;
    } finally {
      await open.close();
    }
  },
};
