/** `stasis job resize JOB_ID --width W --height H`: resize a terminal job's pty. */
import { jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';
import { PTY_SIZE_OPTIONS, ptySizeFromFlags } from '../pty-flags.js';

/** `stasis job resize`. */
export const jobResize = jobControlCommand({
  verb: 'resize',
  summary: "resize a running terminal job's pty",
  synopsis: 'job resize [options] JOB_ID --width COLUMNS --height ROWS',
  about: `Resizes the terminal of a job submitted with a tty ("tty": true, run/submit -t); other jobs answer
ERR_FAILED_PRECONDITION.`,
  flags: PTY_SIZE_OPTIONS,
  check: ptySizeFromFlags,
  async act({ jobId, control, t, json, input: { width, height }, io }) {
    await control.resize(jobId, { width, height }, t);
    io.stdout.write(json ? jsonLine({ jobId, width, height }) : `resized job ${jobId} to ${width}x${height}\n`);
  },
});
