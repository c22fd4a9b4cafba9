/** `stasis task pause|resume ID`: freezes or thaws every process of a task (cgroup freezer). */
import type { Command } from '../command.js';
import { jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';

/** A freezer verb: the task method it calls and the status it reports afterwards. */
function freezerVerb(verb: 'pause' | 'resume', status: 'paused' | 'running', summary: string, about: string): Command {
  return taskCommand({
    verb,
    summary,
    about,
    flags: {},
    async act({ id, task, ctx }) {
      await (verb === 'pause' ? task.pause() : task.resume());
      ctx.out(ctx.json ? jsonLine({ id, status }) : `${id} ${status}\n`);
    },
  });
}

/** `stasis task pause ID`: freezes a running task (cgroup freezer). */
export const taskPause = freezerVerb(
  'pause',
  'paused',
  'freeze a running task',
  `Freezes every process of the task (cgroup freezer). 'stasis task resume ID' thaws it.`,
);

/** `stasis task resume ID`: thaws a paused task. */
export const taskResume = freezerVerb('resume', 'running', 'thaw a paused task', `Thaws a task frozen by 'stasis task pause'.`);
