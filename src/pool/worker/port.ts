/** Sending task events to the main thread from the thread that owns the task. */
import type { MessagePort } from 'node:worker_threads';
import type { TaskEvent } from '../protocol.js';

/** Posts `e` on the task's port; a port the main thread already closed has nobody to tell, so that is not an error. */
export function send(port: MessagePort, e: TaskEvent): void {
  try {
    port.postMessage(e);
  } catch {
    // the main thread closed its end: the request is over
  }
}
