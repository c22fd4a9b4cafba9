import { PTY_SIZE_OPTIONS, ptySizeFromFlags } from '../pty-flags.js';
import { taskCommand } from '../task-command.js';
import { targetProcess } from '../task-context.js';

/** `stasis task resize ID --width W --height H`: resizes a tty task's pty. */
export const taskResize = taskCommand({
  verb: 'resize',
  summary: "resize a tty task's terminal",
  synopsis: 'task resize [options] ID --width COLUMNS --height ROWS',
  about: `Resizes the pty of a task created with --tty (or of a tty exec process with --exec-id).`,
  flags: {
    ...PTY_SIZE_OPTIONS,
    'exec-id': { type: 'string', value: 'EXEC', help: "resize this exec process' pty instead" },
  },
  check: ptySizeFromFlags,
  async act({ task, values, input: size }) {
    const p = await targetProcess(task, values['exec-id']);
    await p.resizePty(size);
  },
});
