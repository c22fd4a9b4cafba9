import { describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { JobLock } from '../../../src/queue/job-lock.js';

/** A Redis whose reacquire script answers `reply` (1 ours, -1 taken, 0 gone), counting the calls. */
function fakeRedis(reply: () => number): { redis: Redis; calls: () => number } {
  let n = 0;
  const redis = { evalsha: async () => (n++, reply()) } as unknown as Redis;
  return { redis, calls: () => n };
}

const q = { queue: 'q', prefix: 'bull' };

describe('JobLock freshness', () => {
  it('is fresh for a third of its duration after BullMQ set it, then stale', () => {
    const { redis } = fakeRedis(() => 1);
    const lock = new JobLock(redis, q, '1', 'tok', 30_000);
    expect(lock.fresh()).toBe(false);
    lock.confirmed(1_000);
    expect(lock.fresh(1_000)).toBe(true);
    expect(lock.fresh(10_999)).toBe(true);
    expect(lock.fresh(11_000)).toBe(false);
  });

  it('a renewal that finds the lock ours confirms it; one that finds it taken or gone makes it stale', async () => {
    let reply = 1;
    const { redis, calls } = fakeRedis(() => reply);
    const lock = new JobLock(redis, q, '1', 'tok', 30_000);
    expect(await lock.reacquire()).toBe('ours');
    expect(lock.fresh()).toBe(true);
    reply = -1;
    expect(await lock.reacquire()).toBe('taken');
    expect(lock.fresh()).toBe(false);
    reply = 1;
    await lock.reacquire();
    reply = 0;
    expect(await lock.reacquire()).toBe('gone');
    expect(lock.fresh()).toBe(false);
    expect(calls()).toBe(4);
  });

  it('a new token is not fresh until it is confirmed; the same token keeps its confirmation', () => {
    const { redis } = fakeRedis(() => 1);
    const lock = new JobLock(redis, q, '1', 'tok', 30_000);
    lock.confirmed();
    lock.token = 'tok';
    expect(lock.fresh()).toBe(true);
    lock.token = 'another';
    expect(lock.token).toBe('another');
    expect(lock.fresh()).toBe(false);
  });

  it('a renewal answered after the token changed does not confirm the new token', async () => {
    let release: (v: number) => void = () => undefined;
    const redis = { evalsha: () => new Promise<number>((r) => (release = r)) } as unknown as Redis;
    const lock = new JobLock(redis, q, '1', 'old', 30_000);
    const renewal = lock.reacquire();
    lock.token = 'new';
    release(1);
    await renewal;
    expect(lock.fresh()).toBe(false);
  });
});
