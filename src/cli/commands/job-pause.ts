/** `stasis job pause|resume JOB_ID`: freeze or thaw a running job's container on its node. */
import type { Command } from '../command.js';
import { jsonLine } from '../output.js';
import { jobControlCommand } from '../job-control-command.js';

function pauseOrResume(verb: 'pause' | 'resume', summary: string, about: string): Command {
  return jobControlCommand({
    verb,
    summary,
    about,
    flags: {},
    async act({ jobId, control, t, json, io }) {
      const r = verb === 'pause' ? await control.pause(jobId, t) : await control.resume(jobId, t);
      io.stdout.write(json ? jsonLine({ jobId, ...r }) : `job ${jobId} ${r.status}\n`);
    },
  });
}

/** `stasis job pause`. */
export const jobPause = pauseOrResume(
  'pause',
  "freeze a running job's processes",
  'Freezes every process of the job (runc pause) on the node that runs it. Its wall-clock timeout keeps running.',
);

/** `stasis job resume`. */
export const jobResume = pauseOrResume('resume', 'thaw a paused job', 'Thaws a job frozen by `stasis job pause`.');
