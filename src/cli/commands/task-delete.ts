import type { Command } from '../command.js';
import { GLOBAL_SPECS, onePositional, parseOptions } from '../args.js';
import { exitJson, jsonLine } from '../output.js';
import { formatUsage, type OptionSpecs } from '../options.js';
import { getTask, taskContext } from '../task-context.js';
import type { Task } from '../../runtime/task.js';

const options = {
  force: { type: 'boolean', short: 'f', help: 'SIGKILL a running or paused task first' },
  ...GLOBAL_SPECS,
} as const satisfies OptionSpecs;

/** How long `delete --force` waits for a SIGKILLed task to be reported stopped. */
const FORCE_WAIT_MS = 15_000;

/** Kills every process of a running or paused task and waits until it is stopped. */
export async function forceStop(task: Task): Promise<void> {
  const { status } = await task.state();
  if (status !== 'running' && status !== 'paused' && status !== 'pausing') return;
  await task.kill('SIGKILL', { all: true });
  // A frozen cgroup only delivers the SIGKILL once thawed.
  if (status !== 'running') await task.resume().catch(() => undefined);
  await task.wait(AbortSignal.timeout(FORCE_WAIT_MS));
}

/** `stasis task delete ID`: removes a stopped (or created) task; --force kills it first. */
export const taskDelete: Command = {
  name: 'task delete',
  summary: 'delete a stopped task (--force kills it first)',
  usage: formatUsage(
    {
      synopsis: 'task delete [options] ID',
      about: `Deletes a stopped or created task: runc delete, unmounts its overlay, removes its directory.
Prints the exit status when the task had one. --force SIGKILLs a running or paused task first.`,
    },
    options,
  ),
  options,
  async run(args, io) {
    const { values, positionals } = parseOptions(args, options);
    const id = onePositional(positionals, 'task id');
    const ctx = await taskContext(values, io);
    const task = await getTask(ctx, id);
    if (values.force) await forceStop(task);
    const exit = await task.delete();
    if (ctx.json) ctx.out(jsonLine({ id, deleted: true, exit: exit ? exitJson(exit) : null }));
    else ctx.out(exit ? `${id} deleted (exit status ${exit.status})\n` : `${id} deleted\n`);
    return 0;
  },
};
