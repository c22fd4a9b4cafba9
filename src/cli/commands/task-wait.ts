import type { Command } from '../command.js';
import { GLOBAL_SPECS, exitCodeOf, onePositional, parseOptions } from '../args.js';
import { secondsFlag } from '../durations.js';
import { exitJson, formatExit, jsonLine } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, targetProcess, taskContext } from '../task-context.js';

const options = {
  'exec-id': { type: 'string', value: 'EXEC', help: 'wait for this exec process instead' },
  timeout: { type: 'string', value: 'DURATION', help: 'give up after this long (exit 1) and leave the task alone, e.g. 30 (seconds), 2m' },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** `stasis task wait ID`: waits for the task to stop, prints its exit, exits with its status. */
export const taskWait: Command = {
  name: 'task wait',
  summary: 'wait for a task to stop; exit with its status',
  usage: formatUsage(
    {
      synopsis: 'task wait [options] ID',
      about: `Waits until the task (or the exec process) stops and prints its exit; this command then exits
with the task's exit status (128+N for signal N, 255 when unknown). --json prints
{"exitStatus","exitedAt","signal","reason","pid"}. With --timeout, gives up after that long
(error, exit code 1) and leaves the task alone.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const timeout = values.timeout === undefined ? undefined : secondsFlag(values.timeout, '--timeout');
    const ctx = await taskContext(values, io);
    const p = await targetProcess(await getTask(ctx, id), values['exec-id']);
    const exit = await p.wait(timeout === undefined ? undefined : AbortSignal.timeout(Math.ceil(timeout * 1000)));
    ctx.out(ctx.json ? jsonLine(exitJson(exit)) : formatExit(exit));
    return exitCodeOf(exit.status);
  },
};
