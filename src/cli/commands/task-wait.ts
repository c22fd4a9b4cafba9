import { exitCodeOf } from '../args.js';
import { secondsFlag } from '../durations.js';
import { exitJson, formatExit, jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';
import { targetProcess } from '../task-context.js';

/** `stasis task wait ID`: waits for the task to stop, prints its exit, exits with its status. */
export const taskWait = taskCommand({
  verb: 'wait',
  summary: 'wait for a task to stop; exit with its status',
  about: `Waits until the task (or the exec process) stops and prints its exit; this command then exits
with the task's exit status (128+N for signal N, 255 when unknown). --json prints
{"exitStatus","exitedAt","signal","reason","pid"}. With --timeout, gives up after that long
(error, exit code 1) and leaves the task alone.`,
  flags: {
    'exec-id': { type: 'string', value: 'EXEC', help: 'wait for this exec process instead' },
    timeout: { type: 'string', value: 'DURATION', help: 'give up after this long (exit 1) and leave the task alone, e.g. 30 (seconds), 2m' },
  },
  check: (values) => (values.timeout === undefined ? undefined : secondsFlag(values.timeout, '--timeout')),
  async act({ task, ctx, values, input: timeout }) {
    const p = await targetProcess(task, values['exec-id']);
    const exit = await p.wait(timeout === undefined ? undefined : AbortSignal.timeout(Math.ceil(timeout * 1000)));
    ctx.out(ctx.json ? jsonLine(exitJson(exit)) : formatExit(exit));
    return exitCodeOf(exit.status);
  },
});
