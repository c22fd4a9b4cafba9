import { parseSignal } from '../args.js';
import { taskCommand } from '../task-command.js';
import { targetProcess } from '../task-context.js';

/** `stasis task kill ID`: signals a task's process (or all its processes, or one exec). */
export const taskKill = taskCommand({
  verb: 'kill',
  summary: 'send a signal to a task',
  about: `Sends SIGNAL (default TERM; a name like KILL or SIGKILL, or a number) to the task's main process;
--all sends it to every process of the task; --exec-id to that exec process.`,
  flags: {
    signal: { type: 'string', short: 's', value: 'SIGNAL', help: 'a name (KILL, SIGKILL) or a number', default: 'TERM' },
    all: { type: 'boolean', short: 'a', help: 'signal every process of the task' },
    'exec-id': { type: 'string', value: 'EXEC', help: 'signal this exec process instead' },
  },
  check: (values) => parseSignal(values.signal),
  async act({ task, values, input: signal }) {
    const p = await targetProcess(task, values['exec-id']);
    await p.kill(signal, values.all ? { all: true } : undefined);
  },
});
