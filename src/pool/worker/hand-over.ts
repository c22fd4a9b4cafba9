/**
 * The end of a supervision: the outcome goes to the main thread, which posts it; the stopped task
 * (its exit on disk) stays until the main thread says 'release' (or its port closes), so a node that
 * dies before posting finds the task after a restart and posts then. Then the task is deleted.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Task } from '../../runtime/task.js';
import type { TaskControl, TaskOutcome } from '../protocol.js';
import { send } from './port.js';

/** How long to wait before the one retry of a failed delete. */
const DELETE_RETRY_MS = 200;

/** Sends `outcome`, waits for 'release' or the port's close, then deletes the task (one retry). */
export async function handOver(port: MessagePort, task: Task, outcome: TaskOutcome): Promise<void> {
  const released = releaseOf(port);
  send(port, { type: 'outcome', outcome });
  await released;
  await task.delete().catch(async () => {
    await new Promise((r) => setTimeout(r, DELETE_RETRY_MS));
    await task.delete();
  });
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
