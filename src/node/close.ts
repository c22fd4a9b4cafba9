/**
 * Closing a node. Graceful: wait for adopted jobs and running processors, close the pool's threads,
 * remove the prepared sandboxes nobody adopted. Forced: stop at once and leave containers running
 * under their monitors for the next start; a forced close during a graceful one (or a drain) that
 * cannot finish, e.g. because it waits for Redis, cuts it short, each step bounded in time.
 */
import { releaseRunDir } from '../runtime/run-dir.js';
import { drainPreparedSandboxes } from '../runtime/warm/recover.js';
import type { NodeLog } from './node-log.js';
import type { NodeParts } from './parts.js';

/** How long one step of a forced close may wait (Redis may be gone). */
const FORCED_STEP_MS = 2_000;

/** Resolves when `p` settles or FORCED_STEP_MS passed, whichever is first; never rejects. */
function briefly(p: Promise<unknown>): Promise<unknown> {
  return Promise.race([p.catch(() => undefined), new Promise((r) => setTimeout(r, FORCED_STEP_MS).unref())]);
}

/** The close() of a node whose timers `stopTimers` stops. */
export function nodeCloser(p: NodeParts, stopTimers: () => void, log: NodeLog): (opts?: { force?: boolean }) => Promise<void> {
  /** What a close step that failed leaves behind is worth a warning (Redis being gone is not). */
  const step = (what: string) => (e: unknown) => log.warn(e, { what: `close: ${what}` });
  let closing: Promise<void> | null = null;
  let forcing: Promise<void> | null = null;
  const { consumer, control, queue, pool, conn } = p;
  const forced = async () => {
    await briefly(consumer.close(true));
    await briefly(control.close(0));
    await briefly(queue.close());
    await briefly(pool.destroy());
    await briefly(conn.resolved?.release() ?? Promise.resolve());
  };
  const graceful = async (force: boolean) => {
    stopTimers();
    if (!force) await Promise.all([...p.adoptions]);
    await consumer.close(force);
    // Past the consumer nothing depends on these: a failure to close them only leaks in this process.
    await control.close(force ? 0 : undefined).catch(step('control server'));
    await queue.close().catch(step('queue'));
    await (force ? pool.destroy() : pool.close()).catch(step('task pool'));
    // Prepared sandboxes nobody adopted (a forced close leaves them to the next start's recovery).
    if (!force) await drainPreparedSandboxes(p.runtime).catch(step('prepared sandboxes (the next start removes them)'));
    // An empty run dir's tmpfs goes with the node (one with tasks left stays for the next start).
    if (!force && p.runtime.runTmpfs) await releaseRunDir(p.runtime.stateDir).catch(step('run dir (unmount STATE_DIR/run by hand)'));
    await conn.resolved?.release().catch(step('embedded Redis'));
  };
  return (opts = {}) => {
    if (opts.force && closing) return (forcing ??= forced());
    return (closing ??= graceful(opts.force ?? false));
  };
}
