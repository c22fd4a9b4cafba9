/** With two runner nodes on one queue, a control request reaches the node that runs the job, and only it. */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import { StasisClient } from '../../../src/queue/client.js';
import { startRunner, type Runner } from '../../../src/node/runner.js';
import { leftoverTasks, queueName, startTestRedis, stateDir, type TestRedis } from '../queue/harness.js';
import { wipeAll } from './cleanup.js';

describeWithHost(['root', 'runc', 'conmon', 'criu', 'redis-server', 'busybox'], 'job control with two nodes', () => {
  let redis: TestRedis;
  const dirs: string[] = [];
  const runners: Runner[] = [];
  let client: StasisClient;
  const queue = queueName();
  const ids = [`a-${randomUUID().slice(0, 6)}`, `b-${randomUUID().slice(0, 6)}`];

  beforeAll(async () => {
    redis = await startTestRedis();
    for (const nodeId of ids) {
      const dir = stateDir();
      dirs.push(dir);
      runners.push(await startRunner({ connection: redis.options, runtime: { stateDir: dir }, runner: { queue, nodeId, concurrency: 1, threads: 1, killGraceMs: 500 }, env: {} }));
    }
    client = new StasisClient({ connection: redis.options, queue });
  });

  afterAll(async () => {
    await client?.close();
    for (const r of runners) for (const id of r.consumer.activeJobs()) r.consumer.stop(id, 'cancelled');
    await Promise.all(runners.map((r) => r.close().catch(() => undefined)));
    const left = (await Promise.all(dirs.map((d) => leftoverTasks(d)))).flat();
    for (const d of dirs) await wipeAll(d);
    await redis?.stop();
    expect(left).toEqual([]);
  }, 120_000);

  it('each job is controlled on its own node: pause on one leaves the other running', async () => {
    const jobs = [await client.submit({ command: ['sleep', '60'] }), await client.submit({ command: ['sleep', '60'] })];
    const nodeOf = new Map<string, string>();
    for (let i = 0; i < 600 && nodeOf.size < 2; i++) {
      for (const j of jobs) {
        const p = (await client.status(j)).progress as { status?: string; nodeId?: string } | null;
        if (p?.status === 'running' && p.nodeId) nodeOf.set(j, p.nodeId);
      }
      await sleep(50);
    }
    expect(new Set(nodeOf.values())).toEqual(new Set(ids)); // concurrency 1 each: one job per node
    const [j1, j2] = jobs as [string, string];
    await client.control.pause(j1);
    expect((await client.control.ps(j1)).status).toBe('paused');
    expect((await client.control.ps(j2)).status).toBe('running');
    // The checkpoint is answered by the job's own node.
    expect((await client.control.checkpoint(j2, { leaveRunning: true })).nodeId).toBe(nodeOf.get(j2));
    await client.control.resume(j1);
    for (const j of jobs) await client.cancel(j);
    for (const j of jobs) expect(await client.wait(j, { timeoutMs: 30_000 })).toMatchObject({ reason: 'cancelled' });
  });

  it('a node asked about a job it does not run answers ERR_FAILED_PRECONDITION naming itself', async () => {
    const j = await client.submit({ command: ['sleep', '60'] });
    let node = '';
    for (let i = 0; i < 600 && !node; i++) {
      const p = (await client.status(j)).progress as { status?: string; nodeId?: string } | null;
      if (p?.status === 'running' && p.nodeId) node = p.nodeId;
      else await sleep(50);
    }
    const wrong = ids.find((n) => n !== node)!;
    const { sendControl } = await import('../../../src/queue/control-client.js');
    const { Redis } = await import('ioredis');
    const r = new Redis(redis.options);
    try {
      await expect(sendControl(r, { queue }, { nodeId: wrong, jobId: j, verb: 'ps' })).rejects.toMatchObject({
        code: 'ERR_FAILED_PRECONDITION',
        message: `job ${j} is not running on node ${wrong} (it finished, or moved to another node)`,
      });
    } finally {
      r.disconnect();
      await client.cancel(j);
      await client.wait(j, { timeoutMs: 30_000 });
    }
  });
});
