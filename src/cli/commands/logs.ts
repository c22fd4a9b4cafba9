/** `stasis logs ID [--follow]`: a job's output as the runner logged it. */
import { GLOBAL_SPECS } from '../args.js';
import { jobCommand } from '../job-command.js';
import { splitLogEntry } from '../job-output.js';

/** `stasis logs`. */
export const logsCommand = jobCommand({
  name: 'logs',
  summary: "print a job's output (-f: follow until it finishes)",
  about: `Prints the job's output as its runner logged it, line by line: stdout lines to stdout, stderr
lines to stderr.`,
  flags: {
    follow: { type: 'boolean', short: 'f', help: 'keep printing until the job finishes' },
    // Accepted as every job command takes it; the output is the job's own text.
    json: { ...GLOBAL_SPECS.json, hidden: true },
  },
  async act({ jobId, client, values, io }) {
    const stop = new AbortController();
    const onSigint = () => stop.abort();
    process.once('SIGINT', onSigint);
    try {
      for await (const entry of client.logs(jobId, { follow: values.follow ?? false, signal: stop.signal })) {
        for (const line of splitLogEntry(entry)) (line.stream === 'stderr' ? io.stderr : io.stdout).write(`${line.text}\n`);
      }
    } finally {
      process.off('SIGINT', onSigint);
    }
  },
});
