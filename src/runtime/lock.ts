/**
 * Per-task locks that hold across threads and processes. A lock is a file created with O_EXCL
 * holding "pid threadId time"; a lock whose pid is dead (or that is older than STALE_MS) is stale
 * and taken over. Within one thread, callers queue on a promise chain instead of polling.
 *
 * Contract: mutating operations of a task (start, kill, pause, exec, checkpoint, delete, …) run
 * under its lock; reads (state, wait, logs) never take it, so they cannot be blocked by a slow
 * checkpoint. Locked sections must not call other locked methods of the same task (no re-entry).
 */
import fs from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { errors } from '../errors.js';

/** A lock older than this is considered abandoned (e.g. a terminated worker thread). */
export const STALE_MS = 10 * 60_000;
/** How long to wait for a lock before giving up with ERR_UNAVAILABLE. */
export const LOCK_TIMEOUT_MS = 120_000;

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
  if (text === undefined) return false; // released meanwhile; retry
  const owner = parseLock(text);
  // A lock file being written right now has no content yet: treat as held unless it is old.
  const stat = await fs.stat(file).catch(() => undefined);
  const age = Date.now() - (owner?.at ?? stat?.mtimeMs ?? Date.now());
  const stale = owner ? !pidAlive(owner.pid) || age > STALE_MS : age > 5_000;
  if (stale) await fs.rm(file, { force: true });
  return false;
}

/** True when the lock file exists and its owner is alive (used by recover() to skip busy tasks). */
export async function lockHeld(file: string): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  if (text === undefined) return false;
  const owner = parseLock(text);
  return owner !== undefined && pidAlive(owner.pid) && Date.now() - owner.at < STALE_MS;
}

async function acquire(file: string, timeoutMs: number): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + timeoutMs;
  let delay = 10;
  while (!(await tryAcquire(file))) {
    if (Date.now() > deadline) {
      throw errors.unavailable(`task is busy: lock ${file} held by another operation for over ${timeoutMs} ms`, { lock: file });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

/** Runs `fn` holding the lock file `file`. */
export async function withLock<T>(file: string, fn: () => Promise<T>, timeoutMs = LOCK_TIMEOUT_MS): Promise<T> {
  const prev = chains.get(file) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    await acquire(file, timeoutMs);
    try {
      return await fn();
    } finally {
      await fs.rm(file, { force: true });
    }
  });
  chains.set(file, run);
  try {
    return await run;
  } finally {
    if (chains.get(file) === run) chains.delete(file);
  }
}
