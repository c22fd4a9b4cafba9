/**
 * Per-task locks that hold across threads and processes (src/os/file-lock.ts): a file created with
 * O_EXCL holding "pid threadId time"; a lock whose pid is dead (or that is older than STALE_MS) is
 * stale and taken over. Within one thread, callers queue on a promise chain instead of polling.
 *
 * Contract: mutating operations of a task (start, kill, pause, exec, checkpoint, delete, …) run
 * under its lock; reads (state, wait, logs) never take it, so they cannot be blocked by a slow
 * checkpoint. Locked sections must not call other locked methods of the same task (no re-entry).
 */
import { fileLockHeld, withFileLock } from '../os/file-lock.js';

/** A lock older than this is considered abandoned (e.g. a terminated worker thread). */
export const STALE_MS = 10 * 60_000;
/** How long to wait for a lock before giving up with ERR_UNAVAILABLE. */
export const LOCK_TIMEOUT_MS = 120_000;

/** True when the lock file exists and its owner is alive (used by recover() to skip busy tasks). */
export function lockHeld(file: string): Promise<boolean> {
  return fileLockHeld(file, STALE_MS);
}

/** Runs `fn` holding the task's lock file `file`. */
export function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  return withFileLock(file, fn, { staleMs: STALE_MS, timeoutMs, what: 'task' });
}
