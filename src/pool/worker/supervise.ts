/**
 * Supervision of one started task inside a worker thread: stream its output over the port (capped),
 * keep its deadlines (wall clock and CPU time: TERM, grace, KILL), obey stop requests, sample usage,
 * wait for the exit (inotify in the runtime, no polling), derive why it ended (cause.ts), keep its
 * log, hand the outcome over and delete the task once released.
 *
 *   supervised-task.ts  what may stop the task and what is collected until its exit; the outcome
 *   stopper.ts          TERM, grace, KILL (a lost lock: KILL at once)
 *   usage-sampler.ts    CPU time and memory samples
 *   hand-over.ts        outcome → 'release' → delete
 */
import type { TaskOutcome } from '../protocol.js';
import { handOver } from './hand-over.js';
import type { SuperviseInput } from './supervise-input.js';
import { SupervisedTask } from './supervised-task.js';

/**
 * Supervises a started (or re-attached) task to its end and deletes it once the main thread released
 * it. When the exit cannot be learned (waiting failed twice) it rejects and leaves the task to recovery.
 */
export async function supervise(s: SuperviseInput): Promise<TaskOutcome> {
  const supervised = new SupervisedTask(s);
  supervised.begin();
  const exit = await supervised.waitForExit();
  const outcome = await supervised.conclude(exit);
  await handOver(s.port, s.task, outcome);
  return outcome;
}
