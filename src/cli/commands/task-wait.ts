import type { Command } from '../command.js';
import { GLOBAL_OPTIONS, exitCodeOf, onePositional, parseCommandArgs, parseIntFlag } from '../args.js';
import { exitJson, formatExit, jsonLine } from '../output.js';
import { getTask, targetProcess, taskContext } from '../task-context.js';

const options = { ...GLOBAL_OPTIONS, 'exec-id': { type: 'string' }, timeout: { type: 'string' } } as const;

/** `stasis task wait ID`: waits for the task to stop, prints its exit, exits with its status. */
export const taskWait: Command = {
  name: 'task wait',
  summary: 'wait for a task to stop; exit with its status',
  usage: `Usage: stasis task wait ID [--json] [--exec-id EXEC] [--timeout SECONDS] [--state-dir DIR] [-n NAMESPACE]

Waits until the task (or the exec process) stops and prints its exit; this command then exits
with the task's exit status (128+N for signal N, 255 when unknown). --json prints
{"exitStatus","exitedAt","signal","reason","pid"}. With --timeout, gives up after SECONDS
(error, exit code 1) and leaves the task alone.`,
  async run(args, io) {
    const { values, positionals } = parseCommandArgs(args, options);
    const id = onePositional(positionals, 'task id');
    const timeout = parseIntFlag(values.timeout, 'timeout');
    const ctx = await taskContext(values, io);
    const p = await targetProcess(await getTask(ctx, id), values['exec-id']);
    const exit = await p.wait(timeout === undefined ? undefined : AbortSignal.timeout(timeout * 1000));
    ctx.out(ctx.json ? jsonLine(exitJson(exit)) : formatExit(exit));
    return exitCodeOf(exit.status);
  },
};
