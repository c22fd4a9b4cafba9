/**
 * The few BullMQ-internal Redis keys stasis must touch (BullMQ 5.x), in one place: a job's lock,
 * the active list and the stalled set. BullMQ has no API to take back the lock of a job whose lock
 * expired while Redis was away; reacquireLock does it only when no other worker holds it and the job
 * is still active, the same way BullMQ's own lock extension does (SET with the token, SREM stalled).
 */
import { createHash } from 'node:crypto';
import type { Redis } from 'ioredis';
import { DEFAULT_PREFIX, type QueueRef } from './cancel.js';

/** The BullMQ keys of one job. */
export function bullKeys(q: QueueRef, jobId: string): { lock: string; active: string; stalled: string } {
  const base = `${q.prefix ?? DEFAULT_PREFIX}:${q.queue}`;
  return { lock: `${base}:${jobId}:lock`, active: `${base}:active`, stalled: `${base}:stalled` };
}

/** Who holds a job's lock, as seen by reacquireLock. */
export type LockState = 'ours' | 'taken' | 'gone';

const REACQUIRE = `
local v = redis.call('GET', KEYS[1])
if v == ARGV[1] then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); redis.call('SREM', KEYS[3], ARGV[3]); return 1
end
if v then return -1 end
if redis.call('LPOS', KEYS[2], ARGV[3]) then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2]); redis.call('SREM', KEYS[3], ARGV[3]); return 1
end
return 0`;
const REACQUIRE_SHA = createHash('sha1').update(REACQUIRE).digest('hex');

/**
 * Renews the job's lock with `token`, taking it again when it expired and the job is still active:
 * 'ours' then; 'taken' when another token holds it (another node runs the job now); 'gone' when the
 * job is no longer active (moved back to the queue by a stalled check, finished, or removed).
 */
export async function reacquireLock(redis: Redis, q: QueueRef, jobId: string, token: string, durationMs: number): Promise<LockState> {
  const k = bullKeys(q, jobId);
  const args = [k.lock, k.active, k.stalled, token, String(durationMs), jobId];
  // By its SHA1 (once per job, the script's text is not sent each time); its text when Redis has not seen it yet.
  const r = (await redis.evalsha(REACQUIRE_SHA, 3, ...args).catch((e: Error) => {
    if (!/^NOSCRIPT/.test(e.message)) throw e;
    return redis.eval(REACQUIRE, 3, ...args);
  })) as number;
  return r === 1 ? 'ours' : r === -1 ? 'taken' : 'gone';
}

/** The token holding a job's lock, or null. */
export async function lockHolder(redis: Redis, q: QueueRef, jobId: string): Promise<string | null> {
  return redis.get(bullKeys(q, jobId).lock);
}
