/**
 * Faults around checkpoints: a node SIGKILLed while a leave-running checkpoint has the container
 * frozen, after a final (drain) dump but before its commit, right after a restore; and a node lost
 * for good while its job writes a file, restored elsewhere from a periodic checkpoint. One result
 * per job; a job with a usable checkpoint or a live container never starts over.
 */
import { expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { describeWithHost } from '../../helpers/host.js';
import type { JobResult } from '../../../src/queue/result.js';
import { StasisClient } from '../../../src/queue/client.js';
import { producer, queueName } from '../queue/harness.js';
import { cleanupStateDir, counter, counts, jobLog, waitForCheckpoints, waitForCount } from '../migration/nodes.js';
import { completions, expectCleanNode, killWithContainers, useFaultCluster } from './harness.js';

/** Counts to `n` like counter(), appending each number to /tmp/work.log too; then prints the file on one line. */
function fileCounter(n: number): string[] {
  return ['sh', '-c', `i=0; while [ $i -lt ${n} ]; do echo $i >> /tmp/work.log; echo count $i; i=$((i+1)); sleep 0.2; done; echo "file $(tr '\\n' ' ' < /tmp/work.log)"`];
}

/** The numbers of the final `file …` line. */
function fileLine(stdout: string): number[] {
  const m = /^file (.*)$/m.exec(stdout);
  return m ? m[1]!.trim().split(' ').map(Number) : [];
}

const range = (n: number) => [...Array(n).keys()];

describeWithHost(['runc', 'conmon', 'criu', 'root', 'busybox', 'redis-server'], 'faults: checkpoints cut short and nodes lost', () => {
  const c = useFaultCluster();

  it('checkpoint:frozen: the restarted node thaws the container the dump had frozen; the count goes on', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { failpoints: ['checkpoint:frozen'] });
    const p = await producer(c.redis, queue);
    try {
      const job = await p.queue.add('frozen', { command: counter(25), checkpoint: { everySeconds: 1 } });
      expect(await a.n.exited).toBeNull();
      const again = await c.node('A', queue, { dir: a.dir });
      expect(again.n.ready.recovery.adopted).toHaveLength(1);
      const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0, nodes: ['A'] });
      expect(counts(r.stdout)).toEqual(range(25));
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 90_000);

  it('checkpoint:dumped during a drain: the job resumes from its last committed checkpoint, once', async () => {
    const queue = queueName();
    const a = await c.node('A', queue, { failpoints: ['checkpoint:dumped'] });
    const p = await producer(c.redis, queue);
    try {
      const job = await p.queue.add('drained', { command: counter(30) });
      await waitForCount(p.queue, job.id!, 5);
      a.n.child.kill('SIGTERM'); // drain: a final checkpoint; the node dies after the dump, before the commit
      expect(await a.n.exited).toBeNull();
      const again = await c.node('A', queue, { dir: a.dir });
      expect(again.n.ready.recovery.adopted).toHaveLength(1);
      const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
      // No checkpoint was committed, so the job starts over (the dump killed its process: not its own exit).
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0 });
      expect(counts(r.stdout)).toEqual(range(30));
      expect((await jobLog(p.queue, job.id!)).join('\n')).toContain('cut short by a crash');
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await p.close();
    }
  }, 90_000);

  it('restore:after: B dies right after restoring a migrated job; restarted, it adopts the restored container', async () => {
    const queue = queueName();
    // A lock that outlives B's restart even on a busy machine: the job moves to B under A's lock
    // token and TTL, and the restarted B must find that lock still its own.
    const lock = ['--lock-duration', '15000'];
    const a = await c.node('A', queue, { extra: lock });
    const p = await producer(c.redis, queue);
    const client = new StasisClient({ connection: c.redis.options, queue });
    try {
      // 16 s of counting: enough for B to start and the move to happen on a busy machine.
      const job = await p.queue.add('moved', { command: counter(80) });
      await waitForCount(p.queue, job.id!, 5);
      const b = await c.node('B', queue, { failpoints: ['restore:after'], extra: lock });
      await client.migrate(job.id!, { to: 'B' });
      expect(await b.n.exited).toBeNull();
      const again = await c.node('B', queue, { dir: b.dir, extra: lock });
      expect(again.n.ready.recovery.adopted, `${JSON.stringify(again.n.ready.recovery)}\n${b.n.stderr()}`).toHaveLength(1);
      const r = (await job.waitUntilFinished(p.events, 60_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0, nodeId: 'B', nodes: ['A', 'B'] });
      // B's container continued the count from the checkpoint to the end, without a gap.
      const onB = counts(r.stdout);
      expect(onB[0]).toBeGreaterThan(4);
      expect(onB).toEqual(range(80).slice(onB[0]));
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
      expect(await expectCleanNode(a.n, a.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      await client.close();
      await p.close();
    }
  }, 90_000);

  it('a node lost for good while its job writes a file: another node restores the last periodic checkpoint, file and all', async () => {
    const queue = queueName();
    const a = await c.node('A', queue);
    const p = await producer(c.redis, queue);
    const r0 = new Redis(c.redis.options);
    try {
      const job = await p.queue.add('writer', { command: fileCounter(40), checkpoint: { everySeconds: 1 } });
      await waitForCheckpoints(r0, queue, job.id!, 2);
      // The machine is gone: the runner and its containers.
      a.n.child.kill('SIGKILL');
      await a.n.exited;
      cleanupStateDir(a.dir);
      const b = await c.node('B', queue);
      const r = (await job.waitUntilFinished(p.events, 90_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0, nodeId: 'B', nodes: ['A', 'B'] });
      const onB = counts(r.stdout);
      expect(onB[0]).toBeGreaterThan(0); // resumed, not started over
      expect(onB).toEqual(range(40).slice(onB[0]));
      // The file the job appended to came back exactly as CRIU recorded it: every number once, in order.
      expect(fileLine(r.stdout)).toEqual(range(40));
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(b.n, b.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      r0.disconnect();
      await p.close();
    }
  }, 120_000);

  it('a runner that dies with its monitors and containers (a runner in a container): the job resumes from its checkpoint, not reported lost', async () => {
    const queue = queueName();
    const a = await c.node('A', queue);
    const p = await producer(c.redis, queue);
    const r0 = new Redis(c.redis.options);
    try {
      const job = await p.queue.add('contained', { command: counter(30), checkpoint: { everySeconds: 1 } });
      await waitForCheckpoints(r0, queue, job.id!, 1);
      await killWithContainers(a.n, a.dir);
      const again = await c.node('A', queue, { dir: a.dir });
      const r = (await job.waitUntilFinished(p.events, 90_000)) as JobResult;
      expect(r).toMatchObject({ reason: 'exited', exitStatus: 0 });
      const last = counts(r.stdout);
      expect(last[0]).toBeGreaterThan(0); // resumed from the checkpoint
      expect(last).toEqual(range(30).slice(last[0]));
      expect((await jobLog(p.queue, job.id!)).join('\n')).toContain('died without recording an exit');
      expect(await completions(c.redis, queue, job.id!)).toBe(1);
      expect(await expectCleanNode(again.n, again.dir)).toEqual({ tasks: [], monitors: [], mounts: [] });
    } finally {
      r0.disconnect();
      await p.close();
    }
  }, 120_000);
});
