import { afterAll, beforeAll, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeWithHost } from '../../helpers/host.js';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { requestCancel } from '../../../src/queue/cancel.js';
import type { JobResult } from '../../../src/queue/result.js';
import { leftoverTasks, producer, queueName, startTestRedis, stateDir, wipeState, type TestRedis } from './harness.js';

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'queue runner: recovery and edges', () => {
  let redis: TestRedis;
  let dir: string;
  const runners: Runner[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    dir = stateDir();
  });
  afterAll(async () => {
    for (const r of runners) await r.close({ force: true }).catch(() => undefined);
    await wipeState(dir);
    await redis.stop();
  });

  function start(queue: string, nodeId: string, extra: Record<string, number> = {}): Promise<Runner> {
    return startRunner({
      connection: redis.options,
      runtime: { stateDir: dir },
      runner: { queue, nodeId, concurrency: 2, killGraceMs: 500, ...extra },
      env: {},
    }).then((r) => (runners.push(r), r));
  }

  /** Starts a long job on a first node, "crashes" it (threads gone, container kept) and lets the lock lapse. */
  async function crashWhileRunning(queue: string, nodeId: string, timing: Record<string, number>) {
    const first = await start(queue, nodeId, timing);
    const p = await producer(redis, queue);
    const job = await p.queue.add('long', { command: ['sh', '-c', 'echo one; sleep 4; echo two'] });
    await new Promise<void>((resolve) => p.events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
    const runningSince = Date.now();
    await first.close({ force: true });
    await new Promise((r) => setTimeout(r, 2000)); // the lock expires
    return { ...p, job, runningSince };
  }

  async function expectSameContainerFinished(r: JobResult, runningSince: number): Promise<void> {
    expect(r).toMatchObject({ exitStatus: 0, reason: 'exited', stdout: 'one\ntwo\n', attempt: 0 });
    expect(Date.parse(r.exitedAt!) - Date.parse(r.startedAt!)).toBeGreaterThanOrEqual(3900);
    // The same container finished (~4 s after it started), not a new run started after the restart (>= 6 s).
    expect(Date.parse(r.exitedAt!) - runningSince).toBeLessThan(5500);
  }

  it('after a crash, the restarted node takes back the lapsed lock of its still-active job and attaches', async () => {
    const queue = queueName();
    const timing = { lockDurationMs: 1500, stalledIntervalMs: 1000 };
    const { job, events, close, runningSince } = await crashWhileRunning(queue, 'n-adopt', timing);
    try {
      const second = await start(queue, 'n-adopt', timing);
      expect(second.recovery.adopted).toHaveLength(1);
      await expectSameContainerFinished((await job.waitUntilFinished(events, 30_000)) as JobResult, runningSince);
      await second.close();
      expect(await leftoverTasks(dir)).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('after the job went back to the queue, the restarted node attaches when it takes the job again', async () => {
    const queue = queueName();
    const timing = { lockDurationMs: 1500, stalledIntervalMs: 1000 };
    const { job, events, close, runningSince } = await crashWhileRunning(queue, 'n-orphan', timing);
    try {
      // What another consumer's stalled check does with a lock-less active job: back to wait.
      await job.moveToWait();
      expect(await job.getState()).toBe('waiting');
      const second = await start(queue, 'n-orphan', timing);
      expect(second.recovery.orphaned).toHaveLength(1);
      await expectSameContainerFinished((await job.waitUntilFinished(events, 30_000)) as JobResult, runningSince);
      await second.close();
      expect(await leftoverTasks(dir)).toEqual([]);
    } finally {
      await close();
    }
  }, 60_000);

  it('a node that loses a job lock kills its container and posts nothing', async () => {
    const queue = queueName();
    const runner = await start(queue, 'n-lock', { lockDurationMs: 2000 });
    const { queue: q, events, close } = await producer(redis, queue);
    try {
      const job = await q.add('locked', { command: ['sleep', '60'] });
      await new Promise<void>((resolve) => events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
      const client = new Redis(redis.options);
      // Another node's token now holds the lock (a lapse this node did not notice in time).
      await client.set(`bull:${queue}:${job.id}:lock`, 'another-node-token', 'PX', 60_000);
      client.disconnect();
      const deadline = Date.now() + 15_000;
      while ((await leftoverTasks(dir)).length > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 200));
      expect(await leftoverTasks(dir)).toEqual([]);
      expect(await job.getState()).toBe('active'); // not completed, not failed: the other holder owns it
      expect((await q.getJob(job.id!))?.returnvalue ?? null).toBeNull();
      await runner.close({ force: true });
    } finally {
      await close();
    }
  });

  it('a job cancelled while waiting completes as cancelled without starting a container', async () => {
    const queue = queueName();
    const { queue: q, events, close } = await producer(redis, queue);
    try {
      const job = await q.add('never', { command: ['sleep', '60'] });
      const client = new Redis(redis.options);
      await requestCancel(client, { queue }, job.id!);
      client.disconnect();
      const runner = await start(queue, 'n-cancel');
      const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'cancelled', status: 'not-started', exitStatus: null });
      await runner.close();
    } finally {
      await close();
    }
  });

  it('runs a job on a terminal when tty is set', async () => {
    const queue = queueName();
    const runner = await start(queue, 'n-tty');
    const { queue: q, events, close } = await producer(redis, queue);
    try {
      const job = await q.add('tty', { command: ['sh', '-c', 'tty; echo hi'], tty: true });
      const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
      expect(r.exitStatus).toBe(0);
      expect(r.stdout).toMatch(/\/dev\/pts\/\d+/);
      expect(r.stdout).toContain('hi');
      await runner.close();
      expect(await leftoverTasks(dir)).toEqual([]);
    } finally {
      await close();
    }
  });

  it('passes stdin, env and cwd to the command', async () => {
    const queue = queueName();
    const runner = await start(queue, 'n-stdin');
    const { queue: q, events, close } = await producer(redis, queue);
    try {
      const job = await q.add('io', { command: ['sh', '-c', 'cat; echo "$GREETING"; pwd'], stdin: 'from stdin\n', env: { GREETING: 'hi' }, cwd: '/tmp' });
      const r = (await job.waitUntilFinished(events, 30_000)) as JobResult;
      expect(r.stdout).toBe('from stdin\nhi\n/tmp\n');
      await runner.close();
      expect(await leftoverTasks(dir)).toEqual([]);
    } finally {
      await close();
    }
  });
});
