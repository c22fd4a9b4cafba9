/** `stasis job resize JOB_ID --width W --height H`: resize a terminal job's pty. */
import type { Command } from '../command.js';
import { onePositional, parseIntFlag, parseOptions, usageError } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage, type OptionSpecs } from '../options.js';

const options = {
  width: { type: 'string', value: 'COLUMNS', help: 'terminal width (required)' },
  height: { type: 'string', value: 'ROWS', help: 'terminal height (required)' },
  ...CONTROL_OPTIONS,
} as const satisfies OptionSpecs;

/** `stasis job resize`. */
export const jobResize: Command = {
  name: 'job resize',
  summary: "resize a running terminal job's pty",
  usage: formatUsage(
    {
      synopsis: 'job resize [options] JOB_ID --width COLUMNS --height ROWS',
      about: `Resizes the terminal of a job submitted with a tty ("tty": true, run/submit -t); other jobs answer
ERR_FAILED_PRECONDITION.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const jobId = onePositional(positionals, 'JOB_ID');
    const width = parseIntFlag(values.width, 'width', 1, 65535);
    const height = parseIntFlag(values.height, 'height', 1, 65535);
    if (width === undefined || height === undefined) throw usageError('missing --width or --height');
    return withJobControl(values, io, async (control, t, json) => {
      await control.resize(jobId, { width, height }, t);
      io.stdout.write(json ? jsonLine({ jobId, width, height }) : `resized job ${jobId} to ${width}x${height}\n`);
      return 0;
    });
  },
};
