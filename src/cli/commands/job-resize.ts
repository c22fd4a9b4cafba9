/** `stasis job resize JOB_ID --width W --height H`: resize a terminal job's pty. */
import type { Command } from '../command.js';
import { onePositional, parseCommandArgs, parseIntFlag, usageError } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_FLAGS_USAGE, CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';

/** `stasis job resize`. */
export const jobResize: Command = {
  name: 'job resize',
  summary: "resize a running terminal job's pty",
  usage: `Usage: stasis job resize [options] JOB_ID --width COLUMNS --height ROWS

Resizes the terminal of a job submitted with a tty ("tty": true); other jobs answer
ERR_FAILED_PRECONDITION.

${CONTROL_FLAGS_USAGE}`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, { ...CONTROL_OPTIONS, width: { type: 'string' }, height: { type: 'string' } });
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
