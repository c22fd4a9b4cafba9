/** `stasis result ID [--json]`: the result envelope of a finished job. */
import { jobCommand } from '../job-command.js';
import { formatResult } from '../job-output.js';
import { errors } from '../../errors.js';

/** `stasis result`. */
export const resultCommand = jobCommand({
  name: 'result',
  summary: 'print the result envelope of a finished job (--wait to wait for it)',
  about: 'Prints the result envelope of a finished job.',
  flags: {
    json: { type: 'boolean', help: "print the envelope as JSON (the job's BullMQ return value)" },
    wait: { type: 'boolean', help: 'wait until the job finishes' },
  },
  async act({ jobId, client, values, json, io }) {
    const r = values.wait ? await client.wait(jobId) : await client.result(jobId);
    if (!r) {
      const s = await client.status(jobId);
      throw errors.failedPrecondition(`job ${jobId} has not finished (it is ${s.state})`, { jobId, state: s.state });
    }
    io.stdout.write(json ? `${JSON.stringify(r)}\n` : formatResult(r));
  },
});
