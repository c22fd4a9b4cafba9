/**
 * A node that is gone or hung never hangs a control request: ERR_UNAVAILABLE within the timeouts.
 * The "running job" here is held by a plain BullMQ worker whose progress names a node, so the node's
 * behaviour (absent, silent, acking but never answering) is under the test's control.
 */
import { randomUUID } from 'node:crypto';
import { Worker, type Job } from 'bullmq';
import { Redis } from 'ioredis';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { StasisClient } from '../../../src/queue/client.js';
import { controlChannel, parseControlRequest } from '../../../src/queue/control.js';
import { queueName, startTestRedis, type TestRedis } from '../queue/harness.js';

describeWithHost(['redis-server'], 'control requests to a node that is gone or hung', () => {
  let redis: TestRedis;
  let client: StasisClient;
  let worker: Worker;
  let release: () => void = () => undefined;
  const queue = queueName();
  const cleanups: (() => Promise<void>)[] = [];

  beforeAll(async () => {
    redis = await startTestRedis();
    client = new StasisClient({ connection: redis.options, queue });
    // Holds each job active, with the progress a runner node would write, until released.
    worker = new Worker(
      queue,
      async (job: Job) => {
        await job.updateProgress({ status: 'running', nodeId: job.data.annotations.node, taskId: `${job.id}-0` });
        await new Promise<void>((r) => (release = r));
        return null;
      },
      { connection: redis.options, concurrency: 5 },
    );
    await worker.waitUntilReady();
  });

  afterEach(async () => {
    release();
    for (const c of cleanups.splice(0)) await c();
  });

  afterAll(async () => {
    release();
    await worker?.close(true);
    await client?.close();
    await redis?.stop();
  });

  async function activeOn(node: string): Promise<string> {
    const id = await client.submit({ command: ['sleep', '60'], annotations: { node } });
    for (let i = 0; i < 100; i++) {
      const p = (await client.status(id)).progress as { nodeId?: string } | null;
      if (p?.nodeId === node) return id;
      await sleep(50);
    }
    throw new Error(`job ${id} did not become active`);
  }

  /** A fake node: subscribes to its channel and does `onRequest` with each request. */
  async function fakeNode(node: string, onRequest: (r: Redis, req: NonNullable<ReturnType<typeof parseControlRequest>>) => Promise<void>): Promise<void> {
    const sub = new Redis(redis.options);
    const cmd = new Redis(redis.options);
    sub.on('message', (_ch: string, m: string) => {
      const req = parseControlRequest(m);
      if (req) void onRequest(cmd, req);
    });
    await sub.subscribe(controlChannel({ queue }, node));
    cleanups.push(async () => {
      sub.disconnect();
      cmd.disconnect();
    });
  }

  it('a node that is not listening (down) gives ERR_UNAVAILABLE at once', async () => {
    const id = await activeOn('ghost');
    const t = Date.now();
    await expect(client.control.pause(id)).rejects.toMatchObject({
      code: 'ERR_UNAVAILABLE',
      message: `node ghost, which runs job ${id}, is not listening for control requests (is it down?)`,
      details: { nodeId: 'ghost', jobId: id, verb: 'pause' },
    });
    expect(Date.now() - t).toBeLessThan(3_000);
  });

  it('a node that hears the request but does not acknowledge it gives ERR_UNAVAILABLE after the ack timeout', async () => {
    await fakeNode('hung', async () => undefined);
    const id = await activeOn('hung');
    const t = Date.now();
    await expect(client.control.ps(id, { ackTimeoutMs: 800 })).rejects.toMatchObject({
      code: 'ERR_UNAVAILABLE',
      message: expect.stringContaining('did not answer within 800 ms'),
    });
    const took = Date.now() - t;
    expect(took).toBeGreaterThanOrEqual(700);
    expect(took).toBeLessThan(5_000);
  });

  it('a node that acknowledges but never answers gives ERR_UNAVAILABLE after the request timeout', async () => {
    await fakeNode('slow', async (r, req) => {
      await r.rpush(req.replyTo, JSON.stringify({ kind: 'ack', requestId: req.requestId, nodeId: 'slow' }));
    });
    const id = await activeOn('slow');
    const t = Date.now();
    await expect(client.control.stats(id, { ackTimeoutMs: 500, timeoutMs: 1_500 })).rejects.toMatchObject({
      code: 'ERR_UNAVAILABLE',
      message: `node slow accepted 'stats' for job ${id} but did not answer within 1500 ms`,
    });
    expect(Date.now() - t).toBeLessThan(6_000);
  });

  it("a node's answer is returned as is, also when it was pushed before the caller listened", async () => {
    await fakeNode('fast', async (r, req) => {
      await r.rpush(req.replyTo, JSON.stringify({ kind: 'ack', requestId: req.requestId, nodeId: 'fast' }));
      await r.rpush(req.replyTo, JSON.stringify({ kind: 'result', requestId: req.requestId, nodeId: 'fast', ok: true, value: { status: 'paused', verb: req.verb, args: req.args } }));
    });
    const id = await activeOn('fast');
    expect(await client.control.send(id, 'pause', { x: 1 })).toEqual({ status: 'paused', verb: 'pause', args: { x: 1 } });
  });

  it("a node's error comes back as a StasisError with its code and details", async () => {
    await fakeNode('picky', async (r, req) => {
      const error = { name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message: 'cannot pause a stopped task', details: { taskId: 't' } };
      await r.rpush(req.replyTo, JSON.stringify({ kind: 'result', requestId: req.requestId, nodeId: 'picky', ok: false, error }));
    });
    const id = await activeOn('picky');
    await expect(client.control.pause(id)).rejects.toMatchObject({ name: 'StasisError', code: 'ERR_FAILED_PRECONDITION', message: 'cannot pause a stopped task', details: { taskId: 't' } });
  });

  it('the reply list does not outlive the request', async () => {
    await fakeNode(`n-${randomUUID().slice(0, 4)}`, async () => undefined);
    const keys = await (async () => {
      const r = new Redis(redis.options);
      try {
        return await r.keys(`bull:${queue}:stasis:control-reply:*`);
      } finally {
        r.disconnect();
      }
    })();
    expect(keys).toEqual([]);
  });
});
