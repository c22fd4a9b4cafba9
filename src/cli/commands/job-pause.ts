/** `stasis job pause|resume JOB_ID`: freeze or thaw a running job's container on its node. */
import type { Command } from '../command.js';
import { onePositional, parseOptions } from '../args.js';
import { jsonLine } from '../output.js';
import { CONTROL_OPTIONS, withJobControl } from '../job-control-cli.js';
import { formatUsage } from '../options.js';

function pauseOrResume(verb: 'pause' | 'resume', summary: string, doc: string): Command {
  return {
    name: `job ${verb}`,
    summary,
    usage: formatUsage({ synopsis: `job ${verb} [options] JOB_ID`, about: doc }, CONTROL_OPTIONS),
    options: CONTROL_OPTIONS,
    async run(args, io) {
      const { values, positionals } = parseOptions(args, CONTROL_OPTIONS);
      const jobId = onePositional(positionals, 'JOB_ID');
      return withJobControl(values, io, async (control, t, json) => {
        const r = verb === 'pause' ? await control.pause(jobId, t) : await control.resume(jobId, t);
        io.stdout.write(json ? jsonLine({ jobId, ...r }) : `job ${jobId} ${r.status}\n`);
        return 0;
      });
    },
  };
}

/** `stasis job pause`. */
export const jobPause = pauseOrResume(
  'pause',
  "freeze a running job's processes",
  'Freezes every process of the job (runc pause) on the node that runs it. Its wall-clock timeout keeps running.',
);

/** `stasis job resume`. */
export const jobResume = pauseOrResume('resume', 'thaw a paused job', 'Thaws a job frozen by `stasis job pause`.');
