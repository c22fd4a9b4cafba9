/** `stasis job kill JOB_ID [--signal SIG] [--all]`: signal a running job's processes on its node. */
import { parseSignal } from '../args.js';
import { jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';

/** `stasis job kill`. */
export const jobKill = jobControlCommand({
  verb: 'kill',
  summary: "send a signal to a running job's processes",
  about: `Sends SIGNAL to the job's main process (or to all its processes with --all). The job ends as its
process does (reason 'exited', with the signal); to stop it for good use \`stasis cancel\`.`,
  flags: {
    signal: { type: 'string', short: 's', value: 'SIG', help: 'a name (TERM, SIGKILL) or a number', default: 'TERM' },
    all: { type: 'boolean', short: 'a', help: 'signal every process of the job' },
  },
  check: (values) => parseSignal(values.signal),
  async act({ jobId, control, t, json, values, input: signal, io }) {
    const r = await control.kill(jobId, { signal, all: values.all ?? false, ...t });
    io.stdout.write(json ? jsonLine({ jobId, signal, ...r }) : `sent ${signal} to job ${jobId}${values.all ? ' (all processes)' : ''}\n`);
  },
});
