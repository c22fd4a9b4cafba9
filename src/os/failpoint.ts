/**
 * Crash points for the fault-injection tests (the idea of etcd's gofail): a process started with
 * STASIS_FAILPOINTS=name[,name…] SIGKILLs itself, threads and all, when it reaches a named point, so a
 * test can cut a runner off exactly between two steps of a job's life. Unset (always, outside those
 * tests) every call is one Set lookup.
 */

/** The points where a runner can be made to crash (docs/queue.md, "Faults"). */
export type FailpointName =
  /** A worker thread took the job's task, before `runc create`. */
  | 'create:before'
  /** The container is created, not yet started. */
  | 'create:after'
  /** The task ended; its result is neither settled nor posted. */
  | 'exit:before-post'
  /** The result is posted; the task is not deleted yet. */
  | 'post:after'
  /** A leave-running checkpoint froze the container; CRIU has not dumped it yet. */
  | 'checkpoint:frozen'
  /** CRIU's dump is written; the store has not committed it. */
  | 'checkpoint:dumped'
  /** A restored task runs; the node has not supervised it yet. */
  | 'restore:after';

const armed = new Set((process.env.STASIS_FAILPOINTS ?? '').split(',').map((s) => s.trim()).filter(Boolean));

/** SIGKILLs this process when `name` is armed in STASIS_FAILPOINTS; a no-op otherwise. */
export function failpoint(name: FailpointName): void {
  if (armed.size > 0 && armed.has(name)) process.kill(process.pid, 'SIGKILL');
}
