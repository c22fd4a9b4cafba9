/** `stasis job kill JOB_ID [--signal SIG] [--all]`: signal a running job's processes on its node. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, parseSignal } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_FLAGS_USAGE, CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';

/** `stasis job kill`. */
export const jobKill: Command = {
  name: 'job kill',
  summary: "send a signal to a running job's processes",
  usage: `Usage: stasis job kill [options] JOB_ID

Sends SIGNAL to the job's main process (or to all its processes with --all). The job ends as its
process does (reason 'exited', with the signal); to stop it for good use \`stasis cancel\`.

  -s, --signal SIG     a name (TERM, SIGKILL) or a number (default TERM)
  -a, --all            signal every process of the job
${CONTROL_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...CONTROL_OPTIONS, signal: { type: 'string', short: 's' }, all: { type: 'boolean', short: 'a' } });
    const jobId = onePositional(positionals, 'JOB_ID');
    const signal = parseSignal(values.signal);
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.kill(jobId, { signal, all: values.all ?? false, ...t });
      io.stdout.write(json ? jsonLine({ jobId, signal, ...r }) : `sent ${signal} to job ${jobId}${values.all ? ' (all processes)' : ''}\n`);
      return 0;
    });
  },
};
