/**
 * Locks of the image store that hold across threads and processes of one node (the approach of
 * src/runtime/lock.ts, copied rather than imported so the store does not depend on the runtime).
 * A lock is a file created with O_EXCL holding "pid threadId time". Its holder touches it every
 * HEARTBEAT_MS, because a pull may legitimately run for many minutes; a lock whose pid is dead, or
 * that nobody touched for STALE_MS (a terminated worker thread), is stale and taken over. Within one
 * thread, callers queue on a promise chain instead of polling.
 *
 * Lock order (never the reverse, so no cycles): ref → image digest → layout.
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { errors } from '../errors.js';

/** A lock nobody touched for this long is abandoned. */
export const STALE_MS = 60_000;
/** How often a holder touches its lock. */
export const HEARTBEAT_MS = 10_000;
/** Default wait for a lock (a pull of a big image may hold one for long). */
export const LOCK_TIMEOUT_MS = 30 * 60_000;

const chains = new Map<string, Promise<unknown>>();

/** True when a process with this pid exists. */
export function pidAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Parses a lock file's content; undefined when unreadable. */
export function parseLock(text: string): { pid: number; threadId: number; at: number } | undefined {
  const [pid, tid, at] = text.trim().split(/\s+/).map(Number);
  if (!Number.isInteger(pid) || !Number.isInteger(tid) || !Number.isFinite(at)) return undefined;
  return { pid: pid!, threadId: tid!, at: at! };
}

/** Whether a lock file's owner is gone: dead pid, or no heartbeat for STALE_MS. */
export function isStale(owner: { pid: number } | undefined, mtimeMs: number, now: number, alive = pidAlive): boolean {
  const age = now - mtimeMs;
  // A lock file being written right now has no content yet: held unless it is old.
  if (!owner) return age > 5_000;
  return !alive(owner.pid) || age > STALE_MS;
}

async function tryAcquire(file: string): Promise<boolean> {
  try {
    const fh = await fs.open(file, 'wx', 0o600);
    await fh.writeFile(`${process.pid} ${threadId} ${Date.now()}\n`);
    await fh.close();
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const stat = await fs.stat(file).catch(() => undefined);
  if (text === undefined || stat === undefined) return false; // released meanwhile; retry
  if (isStale(parseLock(text), stat.mtimeMs, Date.now())) await fs.rm(file, { force: true });
  return false;
}

/** True when the lock file exists and its owner is alive (GC skips images whose lock is held). */
export async function lockHeld(file: string): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const stat = await fs.stat(file).catch(() => undefined);
  if (text === undefined || stat === undefined) return false;
  return !isStale(parseLock(text), stat.mtimeMs, Date.now());
}

async function acquire(file: string, timeoutMs: number, what: string): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (!(await tryAcquire(file))) {
    if (Date.now() > deadline) {
      throw errors.unavailable(`${what} is busy: lock ${file} held by another operation for over ${timeoutMs} ms`, { lock: file });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** Runs `fn` holding the lock file `file`, touching it every HEARTBEAT_MS; `what` names it in errors. */
export async function withLock<T>(file: string, fn: () => Promise<T>, o: { timeoutMs?: number; what?: string } = {}): Promise<T> {
  const prev = chains.get(file) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    await acquire(file, o.timeoutMs ?? LOCK_TIMEOUT_MS, o.what ?? 'image store');
    return holding(file, fn);
  });
  chains.set(file, run);
  try {
    return await run;
  } finally {
    if (chains.get(file) === run) chains.delete(file);
  }
}

/**
 * Runs `fn` holding `file` if it is free right now; resolves to undefined without running it when
 * another holder has it (GC uses this to skip images being pulled or unpacked).
 */
export async function withLockIfFree<T>(file: string, fn: () => Promise<T>): Promise<T | undefined> {
  if (chains.has(file)) return undefined;
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (!(await tryAcquire(file))) return undefined;
  return holding(file, fn);
}

async function holding<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const beat = setInterval(() => {
    const now = new Date();
    fs.utimes(file, now, now).catch(() => undefined);
  }, HEARTBEAT_MS);
  beat.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    await fs.rm(file, { force: true });
  }
}
