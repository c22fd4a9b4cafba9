/** `stasis submit [flags] -- cmd…`: adds one job and prints its id. */
import type { Command } from '../command.js';
import { JOB_FLAGS_USAGE, parseJobRequest } from '../job-flags.js';
import { openJobClient } from '../job-client.js';

/** `stasis submit`. */
export const submitCommand: Command = {
  name: 'submit',
  summary: 'add a job to the queue and print its id',
  usage: `Usage: stasis submit [options] -- COMMAND [ARG...]\n\nAdds one job and prints its id (--json: {"jobId":…}).\n\n${JOB_FLAGS_USAGE}\n      --json              print JSON`,
  async run(args, io) {
    const req = parseJobRequest(args, io.env);
    const open = await openJobClient({ redis: req.redis, queue: req.queue, stateDir: req.stateDir, env: io.env });
    try {
      const jobId = await open.client.submit(req.payload, req.submit);
      io.stdout.write(req.json ? `${JSON.stringify({ jobId, queue: open.client.queueName })}\n` : `${jobId}\n`);
      if (open.conn.source === 'embedded' && (await open.client.runnerCount()) === 0) {
        io.stderr.write('stasis: note: no runner is connected to this queue yet; start one with `stasis serve`\n');
      }
      return 0;
    } finally {
      await open.close();
    }
  },
};
