/**
 * Repeated and long node crashes: a job whose node keeps dying costs time, not the job (BullMQ's
 * maxStalledCount is the node's, default 10); concurrency counts re-attached containers; the
 * reason of a job that ended while its node was down comes from what happened, not from when the
 * node noticed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { expect, it } from 'vitest';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { producer, queueName } from '../queue/harness.js';
import { counter, counts, waitForCount } from '../migration/nodes.js';
import { completions, containersOf, expectCleanNode, useFaultCluster } from './harness.js';

const range = (n: number) => [...Array(n).keys()];

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'faults: repeated crashes', () => {
  const c = useFaultCluster();

  it('two crashes longer than the lock, with a peer whose stalled checks requeue the job: it still finishes, once', async () => {
    const queue = queueName();
    const nodes = { A: await c.node('A', queue), B: await c.node('B', queue) };
    const p = await producer(c.redis, queue);
    let job!: Awaited<ReturnType<typeof p.queue.add>>;
    /** The one node whose container of the job runs (a killed node's copy is discarded when it restarts). */
    const holder = async (): Promise<'A' | 'B'> => {
      let seen = '';
      for (let i = 0; i < 300; i++) {
        const lists = (['A', 'B'] as const).map((id) => containersOf(nodes[id].dir));
        const running = (['A', 'B'] as const).filter((_, k) => lists[k]!.some((x) => x.endsWith(':running')));
        if (running.length === 1) return running[0]!;
        seen = `${new Date().toISOString()} A=${JSON.stringify(lists[0])} B=${JSON.stringify(lists[1])}`;
        await sleep(100);
      }
      throw new Error(`no single node runs the job (last seen ${seen}; job state ${await p.queue.getJobState(job.id!)})`);
    };
    try {
      // 12 s of work: each crash restarts it from 0, and under load a restart cycle takes several seconds
      // (with 4 s the peer could finish it before the second crash found it running).
      job = await p.queue.add('unlucky', { command: counter(60) });
      for (let crash = 0; crash < 2; crash++) {
        const id = await holder();
        const victim = nodes[id];
        victim.n.child.kill('SIGKILL');
        await victim.n.exited;
        await sleep(6000); // past the 3 s lock and two stalled checks: the peer puts the job back and takes it
        nodes[id] = await c.node(id, queue, { dir: victim.dir });
      }
      const r = (await job.waitUntilFinished(p.events, 90_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0 });
      expect(counts(r.stdout)).toEqual(range(60));
      const fresh = (await p.queue.getJob(job.id!))!;
      expect(await fresh.getState()).toBe('completed');
      expect(fresh.stalledCounter).toBeGreaterThanOrEqual(2); // two stalls, and not failed for it
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      for (const n of Object.values(nodes)) expect(await expectCleanNode(n.n, n.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 180_000);

  it('a restarted node counts the containers it re-attached against its concurrency', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { extra: ['--concurrency', '2'] });
    const p = await producer(c.redis, queue);
    try {
      const jobs = await Promise.all(range(5).map((i) => p.queue.add(`c${i}`, { command: counter(10) })));
      await Promise.all(jobs.slice(0, 2).map((j) => waitForCount(p.queue, j.id!, 1)));
      a.n.child.kill('SIGKILL');
      await a.n.exited;
      const again = await c.node('A', queue, { dir: a.dir, extra: ['--concurrency', '2'] });
      expect(again.n.ready.recovery.adopted).toHaveLength(2);
      let most = 0;
      const all = Promise.all(jobs.map((j) => j.waitUntilFinished(p.events, 90_000) as Promise<JobResult>));
      let finished = false;
      void all.finally(() => (finished = true));
      while (!finished) {
        most = Math.max(most, containersOf(again.dir).filter((x) => x.endsWith(':running')).length);
        await sleep(100);
      }
      const results = await all;
      expect(most).toBeLessThanOrEqual(2);
      for (const r of results) expect(counts(r.stdout)).toEqual(range(10));
      for (const j of jobs) expect(await completions(c.redis, queue, j.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 120_000);

  it('a job that exited while its node was down keeps its real reason, even past its timeout by the time the node is back', async () => {
    const queue = queueName();
    const a = await c.node('A', queue);
    const p = await producer(c.redis, queue);
    try {
      const job = await p.queue.add('t', { command: ['sh', '-c', 'echo up; sleep 3; exit 5'], limits: { timeout: '6s' } });
      await new Promise<void>((resolve) => p.events.on('progress', ({ jobId }) => jobId === job.id && resolve()));
      a.n.child.kill('SIGKILL');
      await a.n.exited;
      await sleep(8000); // the job exited at ~3 s; its 6 s timeout passed while nobody watched
      const again = await c.node('A', queue, { dir: a.dir });
      const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 5, stdout: 'up\n' });
      expect(r.wallMs).toBeGreaterThanOrEqual(2900);
      expect(r.wallMs).toBeLessThan(6000);
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 90_000);
});
