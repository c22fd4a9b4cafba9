/**
 * Locks of the image store that hold across threads and processes of one node (src/os/file-lock.ts).
 * A holder touches its lock every HEARTBEAT_MS, because a pull may legitimately run for many minutes;
 * a lock whose pid is dead, or that nobody touched for STALE_MS (a terminated worker thread), is stale
 * and taken over.
 *
 * Lock order (never the reverse, so no cycles): ref → image digest → layout.
 */
import { fileLockHeld, isStale as staleLock, withFileLock, withFileLockIfFree, type FileLockOptions } from '../os/file-lock.js';

export { parseLock, pidAlive } from '../os/file-lock.js';

/** A lock nobody touched for this long is abandoned. */
export const STALE_MS = 60_000;
/** How often a holder touches its lock. */
export const HEARTBEAT_MS = 10_000;
/** Default wait for a lock (a pull of a big image may hold one for long). */
export const LOCK_TIMEOUT_MS = 30 * 60_000;

const options = (o: { timeoutMs?: number; what?: string } = {}): FileLockOptions => ({
  staleMs: STALE_MS,
  heartbeatMs: HEARTBEAT_MS,
  timeoutMs: o.timeoutMs ?? LOCK_TIMEOUT_MS,
  what: o.what ?? 'image store',
});

/** Whether a lock file's owner is gone: dead pid, or no heartbeat for STALE_MS. */
export function isStale(owner: { pid: number } | undefined, mtimeMs: number, now: number, alive?: (pid: number) => boolean): boolean {
  return staleLock(owner, mtimeMs, now, STALE_MS, alive);
}

/** True when the lock file exists and its owner is alive (GC skips images whose lock is held). */
export function lockHeld(file: string): Promise<boolean> {
  return fileLockHeld(file, STALE_MS);
}

/** Runs `fn` holding the lock file `file`, touching it every HEARTBEAT_MS; `what` names it in errors. */
export function withLock<T>(file: string, fn: () => Promise<T>, o: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  return withFileLock(file, fn, options(o));
}

/**
 * Runs `fn` holding `file` if it is free right now; resolves to undefined without running it when
 * another holder has it (GC uses this to skip images being pulled or unpacked).
 */
export function withLockIfFree<T>(file: string, fn: () => Promise<T>): Promise<T | undefined> {
  return withFileLockIfFree(file, fn, options());
}
