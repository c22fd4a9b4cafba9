import { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { bullKeys, reacquireLock } from '../../../src/queue/bullmq-keys.js';
import { queueName, startTestRedis, type TestRedis } from './harness.js';

describeWithHost(['redis-server'], "taking back a job's lock (reacquireLock)", () => {
  let r: TestRedis;
  let redis: Redis;
  const q = { queue: queueName() };
  beforeAll(async () => {
    // Its own Redis: the test counts the script calls Redis served, and flushes its scripts.
    r = await startTestRedis({ own: true });
    redis = new Redis(r.options);
  });
  afterAll(async () => {
    await redis.del(...Object.values(bullKeys(q, '1')), ...Object.values(bullKeys(q, '2')));
    redis.disconnect();
    await r.stop();
  });

  it("renews a lock it holds, also when Redis does not know the script yet; another token's lock is 'taken'", async () => {
    const k = bullKeys(q, '1');
    await redis.set(k.lock, 'tok-a', 'PX', 1_000);
    await redis.sadd(k.stalled, '1');
    // A Redis that lost its scripts (a restart) gets the text: the call does not fail.
    await redis.script('FLUSH');
    expect(await reacquireLock(redis, q, '1', 'tok-a', 60_000)).toBe('ours');
    expect(await redis.pttl(k.lock)).toBeGreaterThan(30_000);
    expect(await redis.sismember(k.stalled, '1')).toBe(0);
    // From then on by its SHA1 alone.
    const calls = async (cmd: string) => Number(new RegExp(`^cmdstat_${cmd}:calls=(\\d+)`, 'm').exec(await redis.info('commandstats'))?.[1] ?? 0);
    const [sha, text] = [await calls('evalsha'), await calls('eval')];
    expect(await reacquireLock(redis, q, '1', 'tok-a', 60_000)).toBe('ours');
    expect([(await calls('evalsha')) - sha, (await calls('eval')) - text]).toEqual([1, 0]);
    expect(await reacquireLock(redis, q, '1', 'tok-b', 60_000)).toBe('taken');
    expect(await redis.get(k.lock)).toBe('tok-a');
  });

  it("takes back an expired lock of a job still active; 'gone' when it is not", async () => {
    const k = bullKeys(q, '2');
    await redis.del(k.lock);
    expect(await reacquireLock(redis, q, '2', 'tok-c', 60_000)).toBe('gone');
    expect(await redis.exists(k.lock)).toBe(0);
    await redis.lpush(k.active, '2');
    expect(await reacquireLock(redis, q, '2', 'tok-c', 60_000)).toBe('ours');
    expect(await redis.get(k.lock)).toBe('tok-c');
  });
});
