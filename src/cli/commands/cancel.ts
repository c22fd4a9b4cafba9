/** `stasis cancel ID`: asks the runner to stop a job; it completes with reason 'cancelled'. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, resolveGlobals } from '../args.js';
import { QUEUE_FLAGS_USAGE, QUEUE_OPTIONS, openJobClient } from '../job-client.js';

/** `stasis cancel`. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a job (its container is stopped; the result says cancelled)',
  usage: `Usage: stasis cancel [options] JOB_ID\n\n      --reason TEXT    recorded with the request\n      --wait           wait for the job to finish and print its reason\n${QUEUE_FLAGS_USAGE}\n      --json           print JSON`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...QUEUE_OPTIONS, reason: { type: 'string' }, wait: { type: 'boolean' } });
    const jobId = onePositional(positionals, 'JOB_ID');
    const g = resolveGlobals(values, io.env);
    const open = await openJobClient({ redis: values.redis, queue: values.queue, stateDir: g.stateDir, env: io.env });
    try {
      const out = await open.client.cancel(jobId, values.reason);
      const result = values.wait && out.requested ? await open.client.wait(jobId) : null;
      if (g.json) {
        io.stdout.write(`${JSON.stringify({ ...out, ...(result ? { reason: result.reason, exitStatus: result.exitStatus } : {}) })}\n`);
      } else if (!out.requested) {
        io.stdout.write(`job ${jobId} already ${out.state}; nothing to cancel\n`);
      } else {
        io.stdout.write(`cancel requested for job ${jobId} (${out.state}${out.delivered === 0 ? ', no runner listening yet' : ''})\n`);
        if (result) io.stdout.write(`job ${jobId} finished: ${result.reason}\n`);
      }
      return 0;
    } finally {
      await open.close();
    }
  },
};
