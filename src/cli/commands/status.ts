/** `stasis status ID`: a job's state, attempts, times and outcome. */
import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions, resolveGlobals } from '../args.js';
import { QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { formatStatus } from '../job-output.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = { json: GLOBAL_SPECS.json, ...QUEUE_OPTIONS } as const satisfies OptionSpecs;

/** `stasis status`. */
export const statusCommand: Command = {
  name: 'status',
  summary: "show a job's state, attempts and outcome",
  usage: formatUsage({ synopsis: 'status [options] JOB_ID', about: "Prints the job's state, attempts, times, progress and outcome." }, options),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
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
