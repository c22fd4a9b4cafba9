/** `stasis cancel ID`: asks the runner to stop a job; it completes with reason 'cancelled'. */
import { GLOBAL_SPECS } from '../args.js';
import { jobCommand } from '../job-command.js';

/** `stasis cancel`. */
export const cancelCommand = jobCommand({
  name: 'cancel',
  summary: 'cancel a job (its container is stopped; the result says cancelled)',
  about: `Asks the job's runner to stop it: its container is stopped and the job completes with reason
'cancelled'. A job not started yet completes as cancelled when a runner picks it up.`,
  flags: {
    reason: { type: 'string', value: 'TEXT', help: 'recorded with the request' },
    wait: { type: 'boolean', help: 'wait for the job to finish and print its reason' },
    json: GLOBAL_SPECS.json,
  },
  async act({ jobId, client, values, json, io }) {
    const out = await client.cancel(jobId, values.reason);
    const result = values.wait && out.requested ? await client.wait(jobId) : null;
    if (json) {
      io.stdout.write(`${JSON.stringify({ ...out, ...(result ? { reason: result.reason, exitStatus: result.exitStatus } : {}) })}\n`);
    } else if (!out.requested) {
      io.stdout.write(`job ${jobId} already ${out.state}; nothing to cancel\n`);
    } else {
      io.stdout.write(`cancel requested for job ${jobId} (${out.state}${out.delivered === 0 ? ', no runner listening yet' : ''})\n`);
      if (result) io.stdout.write(`job ${jobId} finished: ${result.reason}\n`);
    }
  },
});
