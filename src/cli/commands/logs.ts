/** `stasis logs ID [--follow]`: a job's output as the runner logged it. */
import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions, resolveGlobals } from '../args.js';
import { QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { splitLogEntry } from '../job-output.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = {
  follow: { type: 'boolean', short: 'f', help: 'keep printing until the job finishes' },
  ...QUEUE_OPTIONS,
  // Accepted as every job command takes it; the output is the job's own text.
  json: { ...GLOBAL_SPECS.json, hidden: true },
} as const satisfies OptionSpecs;

/** `stasis logs`. */
export const logsCommand: Command = {
  name: 'logs',
  summary: "print a job's output (-f: follow until it finishes)",
  usage: formatUsage(
    { synopsis: 'logs [options] JOB_ID', about: "Prints the job's output as its runner logged it, line by line: stdout lines to stdout, stderr\nlines to stderr." },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const jobId = onePositional(positionals, 'JOB_ID');
    const g = resolveGlobals(values, io.env);
    const open = await openJobClient({ redis: values.redis, queue: values.queue, stateDir: g.stateDir, env: io.env });
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    try {
      for await (const entry of open.client.logs(jobId, { follow: values.follow ?? false, signal: stop.signal })) {
        for (const line of splitLogEntry(entry)) (line.stream === 'stderr' ? io.stderr : io.stdout).write(`${line.text}\n`);
      }
      return 0;
    } finally {
      process.off('SIGINT', onSigint);
      await open.close();
    }
  },
};
