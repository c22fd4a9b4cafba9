/** `stasis status ID`: a job's state, attempts, times and outcome. */
import { GLOBAL_SPECS } from '../args.js';
import { jobCommand } from '../job-command.js';
import { formatStatus } from '../job-output.js';

/** `stasis status`. */
export const statusCommand = jobCommand({
  name: 'status',
  summary: "show a job's state, attempts and outcome",
  about: "Prints the job's state, attempts, times, progress and outcome.",
  flags: { json: GLOBAL_SPECS.json },
  async act({ jobId, client, json, io }) {
    const s = await client.status(jobId);
    io.stdout.write(json ? `${JSON.stringify(s)}\n` : formatStatus(s));
  },
});
