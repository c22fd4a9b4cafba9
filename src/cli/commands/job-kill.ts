/** `stasis job kill JOB_ID [--signal SIG] [--all]`: signal a running job's processes on its node. */
import type { Command } from '../command.js';
import { onePositional, parseOptions, parseSignal } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = {
  signal: { type: 'string', short: 's', value: 'SIG', help: 'a name (TERM, SIGKILL) or a number', default: 'TERM' },
  all: { type: 'boolean', short: 'a', help: 'signal every process of the job' },
  ...CONTROL_OPTIONS,
} as const satisfies OptionSpecs;

/** `stasis job kill`. */
export const jobKill: Command = {
  name: 'job kill',
  summary: "send a signal to a running job's processes",
  usage: formatUsage(
    {
      synopsis: 'job kill [options] JOB_ID',
      about: `Sends SIGNAL to the job's main process (or to all its processes with --all). The job ends as its
process does (reason 'exited', with the signal); to stop it for good use \`stasis cancel\`.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const jobId = onePositional(positionals, 'JOB_ID');
    const signal = parseSignal(values.signal);
    return withJobControl(values, io, async (control, t, json) => {
      const r = await control.kill(jobId, { signal, all: values.all ?? false, ...t });
      io.stdout.write(json ? jsonLine({ jobId, signal, ...r }) : `sent ${signal} to job ${jobId}${values.all ? ' (all processes)' : ''}\n`);
      return 0;
    });
  },
};
