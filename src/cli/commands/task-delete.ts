import { exitJson, jsonLine } from '../output.js';
import { taskCommand } from '../task-command.js';
import type { Task } from '../../runtime/task.js';

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
export const taskDelete = taskCommand({
  verb: 'delete',
  summary: 'delete a stopped task (--force kills it first)',
  about: `Deletes a stopped or created task: runc delete, unmounts its overlay, removes its directory.
Prints the exit status when the task had one. --force SIGKILLs a running or paused task first.`,
  flags: {
    force: { type: 'boolean', short: 'f', help: 'SIGKILL a running or paused task first' },
  },
  async act({ id, task, ctx, values }) {
    if (values.force) await forceStop(task);
    const exit = await task.delete();
    if (ctx.json) ctx.out(jsonLine({ id, deleted: true, exit: exit ? exitJson(exit) : null }));
    else ctx.out(exit ? `${id} deleted (exit status ${exit.status})\n` : `${id} deleted\n`);
  },
});
