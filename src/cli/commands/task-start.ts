import { jsonLine, taskJson } from '../output.js';
import { taskCommand } from '../task-command.js';

/** `stasis task start ID`: starts a created task's process. */
export const taskStart = taskCommand({
  verb: 'start',
  summary: 'start a created task',
  about: `Starts the process of a created task. It keeps running under its monitor after this command exits.`,
  flags: {},
  async act({ id, task, ctx }) {
    await task.start();
    const state = await task.state();
    if (ctx.json) ctx.out(jsonLine(taskJson({ info: task.info, state })));
    else ctx.out(`${id} ${state.status} pid ${state.pid}\n`);
  },
});
