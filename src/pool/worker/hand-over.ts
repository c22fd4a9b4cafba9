/**
 * The end of a supervision: the outcome goes to the main thread, which posts it; the stopped task
 * (its exit on disk) stays until the main thread says 'release' (or its port closes), so a node that
 * dies before posting finds the task after a restart and posts then. Then the task is deleted.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Task } from '../../runtime/task.js';
import type { TaskControl, TaskOutcome } from '../protocol.js';
import { send } from './port.js';

/** Pauses before each retry of a failed delete (a mount or cgroup still busy for a moment). */
const DELETE_RETRIES_MS = [200, 500, 1_500];

/** Sends `outcome`, waits for 'release' or the port's close, then deletes the task (retried; the last error is thrown). */
export async function handOver(port: MessagePort, task: Task, outcome: TaskOutcome): Promise<void> {
  const released = releaseOf(port);
  send(port, { type: 'outcome', outcome });
  await released;
  for (let i = 0; ; i++) {
    try {
      await task.delete();
      return;
    } catch (e) {
      if (i >= DELETE_RETRIES_MS.length) throw e;
      await new Promise((r) => setTimeout(r, DELETE_RETRIES_MS[i]));
    }
  }
}

/** Resolves on the main thread's 'release', or when the port closes (nobody is left to post). */
function releaseOf(port: MessagePort): Promise<void> {
  return new Promise<void>((resolve) => {
    const onRelease = (m: TaskControl) => {
      if (m?.type !== 'release') return;
      port.off('message', onRelease);
      resolve();
    };
    port.on('message', onRelease);
    port.once('close', () => resolve());
  });
}
