/** `stasis cancel ID`: asks the runner to stop a job; it completes with reason 'cancelled'. */
import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions, resolveGlobals } from '../args.js';
import { QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = {
  reason: { type: 'string', value: 'TEXT', help: 'recorded with the request' },
  wait: { type: 'boolean', help: 'wait for the job to finish and print its reason' },
  json: GLOBAL_SPECS.json,
  ...QUEUE_OPTIONS,
} as const satisfies OptionSpecs;

/** `stasis cancel`. */
export const cancelCommand: Command = {
  name: 'cancel',
  summary: 'cancel a job (its container is stopped; the result says cancelled)',
  usage: formatUsage(
    { synopsis: 'cancel [options] JOB_ID', about: "Asks the job's runner to stop it: its container is stopped and the job completes with reason\n'cancelled'. A job not started yet completes as cancelled when a runner picks it up." },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
