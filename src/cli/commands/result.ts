/** `stasis result ID [--json]`: the result envelope of a finished job. */
import type { Command } from '../command.js';
import { onePositional, parseOptions, resolveGlobals } from '../args.js';
import { QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { formatResult } from '../job-output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { errors } from '../../errors.js';

const options = {
  json: { type: 'boolean', help: "print the envelope as JSON (the job's BullMQ return value)" },
  wait: { type: 'boolean', help: 'wait until the job finishes' },
  ...QUEUE_OPTIONS,
} as const satisfies OptionSpecs;

/** `stasis result`. */
export const resultCommand: Command = {
  name: 'result',
  summary: 'print the result envelope of a finished job (--wait to wait for it)',
  usage: formatUsage({ synopsis: 'result [options] JOB_ID', about: 'Prints the result envelope of a finished job.' }, options),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
