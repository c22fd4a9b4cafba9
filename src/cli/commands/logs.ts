/** `stasis logs ID [--follow]`: a job's output as the runner logged it. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, resolveGlobals } from '../args.js';
import { QUEUE_FLAGS_USAGE, QUEUE_OPTIONS, openJobClient } from '../job-client.js';
import { splitLogEntry } from '../job-output.js';

/** `stasis logs`. */
export const logsCommand: Command = {
  name: 'logs',
  summary: "print a job's output (-f: follow until it finishes)",
  usage: `Usage: stasis logs [options] JOB_ID\n\n  -f, --follow         keep printing until the job finishes\n${QUEUE_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...QUEUE_OPTIONS, follow: { type: 'boolean', short: 'f' } });
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
