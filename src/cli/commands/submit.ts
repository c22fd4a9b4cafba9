/** `stasis submit [flags] -- cmd…`: adds one job and prints its id. */
import type { Command } from '../command.js';
import { SUBMIT_OPTIONS } from '../job-flags.js';
import { withJobRequest } from '../job-request.js';
import { formatUsage } from '../options.js';

/** `stasis submit`. */
export const submitCommand: Command = {
  name: 'submit',
  summary: 'add a job to the queue and print its id',
  usage: formatUsage(
    {
      synopsis: ['submit [options] -- COMMAND [ARG...]', 'submit [options] --image REF [-- ARG...]'],
      about: 'Adds one job and prints its id (--json: {"jobId","queue"}). With -i, this command\'s stdin is read to\nits end first and goes into the job as its stdin.',
    },
    SUBMIT_OPTIONS,
  ),
  options: SUBMIT_OPTIONS,
  async run(args, io) {
    return withJobRequest(args, io, 'submit', async (req, { client, conn }) => {
      const jobId = await client.submit(req.payload, req.submit);
      io.stdout.write(req.json ? `${JSON.stringify({ jobId, queue: client.queueName })}\n` : `${jobId}\n`);
      if (conn.source === 'embedded' && (await client.runnerCount()) === 0) {
        io.stderr.write('stasis: note: no runner is connected to this queue yet; start one with `stasis serve`\n');
      }
      return 0;
    });
  },
};
