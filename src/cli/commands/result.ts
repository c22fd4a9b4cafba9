/** `stasis result ID [--json]`: the result envelope of a finished job. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, resolveGlobals } from '../args.js';
import { QUEUE_FLAGS_USAGE, QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { formatResult } from '../job-output.js';
import { errors } from '../../errors.js';

/** `stasis result`. */
export const resultCommand: Command = {
  name: 'result',
  summary: 'print the result envelope of a finished job (--wait to wait for it)',
  usage: `Usage: stasis result [options] JOB_ID\n\n      --json           print the envelope as JSON (the job's BullMQ return value)\n      --wait           wait until the job finishes\n${QUEUE_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...QUEUE_OPTIONS, wait: { type: 'boolean' } });
    const jobId = onePositional(positionals, 'JOB_ID');
    const g = resolveGlobals(values, io.env);
    const open = await openJobClient({ redis: values.redis, queue: values.queue, stateDir: g.stateDir, env: io.env });
    try {
      const r = values.wait ? await open.client.wait(jobId) : await open.client.result(jobId);
      if (!r) {
        const s = await open.client.status(jobId);
        throw errors.failedPrecondition(`job ${jobId} has not finished (it is ${s.state})`, { jobId, state: s.state });
      }
      io.stdout.write(g.json ? `${JSON.stringify(r)}\n` : formatResult(r));
      return 0;
    } finally {
      await open.close();
    }
  },
};
