/**
 * Advisory locks between processes and threads as lock files: `pid threadId time`, created with
 * O_EXCL. A holder whose pid is dead, or whose file is older than `staleMs` (by its mtime, which a
 * heartbeat keeps fresh), has abandoned it and the next taker removes it. Within one process, takers
 * of one file queue on a promise chain instead of polling.
 */
import fs from './local-fs.js';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { threadId } from 'node:worker_threads';
import { errors } from '../errors.js';

/** How a kind of lock behaves. */
export interface FileLockOptions {
  /** A lock untouched for this long is abandoned. */
  staleMs: number;
  /** Give up with ERR_UNAVAILABLE after waiting this long. */
  timeoutMs: number;
  /** Names what is locked in the error ("task", "image store"). */
  what: string;
  /** Touch the file this often while holding it (long holders with a short staleMs). */
  heartbeatMs?: number;
}

/** How old an empty lock file (its writer has not written it yet) may be before it counts as abandoned. */
const EMPTY_STALE_MS = 5_000;

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

/** Whether a lock file's owner is gone: dead pid, or untouched for `staleMs`; an empty file only when old. */
export function isStale(owner: { pid: number } | undefined, mtimeMs: number, now: number, staleMs: number, alive = pidAlive): boolean {
  const age = now - mtimeMs;
  if (!owner) return age > EMPTY_STALE_MS;
  return !alive(owner.pid) || age > staleMs;
}

/** Takes the lock if free (removing an abandoned one first; the caller retries). */
async function tryAcquire(file: string, staleMs: number): Promise<boolean> {
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
  if (isStale(parseLock(text), stat.mtimeMs, Date.now(), staleMs)) await fs.rm(file, { force: true });
  return false;
}

/** True when the lock file exists and its owner holds it (alive and not stale). */
export async function fileLockHeld(file: string, staleMs: number): Promise<boolean> {
  const text = await fs.readFile(file, 'utf8').catch(() => undefined);
  const stat = await fs.stat(file).catch(() => undefined);
  if (text === undefined || stat === undefined) return false;
  return !isStale(parseLock(text), stat.mtimeMs, Date.now(), staleMs);
}

async function acquire(file: string, o: FileLockOptions): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const deadline = Date.now() + o.timeoutMs;
  let delay = 10;
  while (!(await tryAcquire(file, o.staleMs))) {
    if (Date.now() > deadline) {
      throw errors.unavailable(`${o.what} is busy: lock ${file} held by another operation for over ${o.timeoutMs} ms`, { lock: file });
    }
    await sleep(delay);
    delay = Math.min(delay * 2, 200);
  }
}

async function holding<T>(file: string, fn: () => Promise<T>, heartbeatMs: number | undefined): Promise<T> {
  const beat = heartbeatMs
    ? setInterval(() => {
        const now = new Date();
        fs.utimes(file, now, now).catch(() => undefined); // a missed touch only ages the lock
      }, heartbeatMs)
    : undefined;
  beat?.unref();
  try {
    return await fn();
  } finally {
    clearInterval(beat);
    await fs.rm(file, { force: true });
  }
}

/** Runs `fn` holding the lock file `file`. */
export async function withFileLock<T>(file: string, fn: () => Promise<T>, o: FileLockOptions): Promise<T> {
  const prev = chains.get(file) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(async () => {
    await acquire(file, o);
    return holding(file, fn, o.heartbeatMs);
  });
  chains.set(file, run);
  try {
    return await run;
  } finally {
    if (chains.get(file) === run) chains.delete(file);
  }
}

/** Runs `fn` holding `file` if it is free right now; undefined without running it when someone holds it. */
export async function withFileLockIfFree<T>(file: string, fn: () => Promise<T>, o: FileLockOptions): Promise<T | undefined> {
  if (chains.has(file)) return undefined;
  await fs.mkdir(path.dirname(file), { recursive: true });
  if (!(await tryAcquire(file, o.staleMs))) return undefined;
  return holding(file, fn, o.heartbeatMs);
}
